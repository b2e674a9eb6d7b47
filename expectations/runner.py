"""Run the data quality checks on a store, keep the results (per load) in dq_results and dq_failures, build Data Docs.

`validate_store` is what a load calls (ingest.publish.finalise) on its working copy before
publishing: given the merge's table of what the load changed, each check is re-run only on the
rows the load touched and the failing rows of the others are carried forward
(expectations/incremental.py); without it every check runs on the whole store. `run_checks` is
the read-only whole-store run, used by the CLI to re-run the checks on demand.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from expectations import incremental
from expectations.checks import REGISTRY, TABLES, ge_checks
from expectations.model import Check, CheckParams
from store.schema import DQ_FAILURES_COLUMNS, DQ_RESULTS_COLUMNS

if TYPE_CHECKING:
    from expectations.suites import GeSession

log = logging.getLogger(__name__)

RESULT_COLUMNS: list[str] = [c.name for c in DQ_RESULTS_COLUMNS]
FAILURE_COLUMNS: list[str] = [c.name for c in DQ_FAILURES_COLUMNS]


@dataclass
class ValidationRun:
    """The outcome of one run: a row per check, the stored failing rows, and the GE session (for Data Docs).

    `scoped` names the checks run only on what a load touched: their `results` describe those rows,
    and the whole store's counts come from the kept failing rows (incremental.py).
    """

    params: CheckParams
    results: pd.DataFrame
    failures: pd.DataFrame
    ge_session: GeSession | None = None
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step, for benchmarks
    scoped: frozenset[str] = frozenset()
    store_side: incremental.StoreSide = field(default_factory=lambda: incremental.StoreSide({}, {}))


class _Clock:
    """Adds the seconds spent in each named step to a dict."""

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings, self.started = timings, time.perf_counter()

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.timings[step] = self.timings.get(step, 0.0) + now - self.started
        self.started = now


def result_row(check: Check, counts: dict) -> dict:
    """A dq_results row (without load and time) of a check with its counts."""
    return {
        "table_name": check.table,
        "check_id": check.check_id,
        "expectation": check.expectation,
        "dfe_code": check.dfe_code,
        "severity": check.severity,
        "description": check.description,
        "engine": check.engine,
        **counts,
    }


def sql_counts(checked: int, failing: int) -> dict[str, Any]:
    """success, element_count, unexpected_count, unexpected_percent of a SQL check."""
    percent = 100.0 * failing / checked if checked else (100.0 if failing else 0.0)
    return {
        "success": failing == 0,
        "element_count": checked,
        "unexpected_count": failing,
        "unexpected_percent": percent,
    }


def _ge_session(con: duckdb.DuckDBPyConnection, params: CheckParams, suites: Any) -> GeSession:
    """A GE session whose Data Docs name the store's file and the load's files, not internal ids."""
    from expectations.data_docs import store_of_connection
    from expectations.docs_names import docs_names

    store = store_of_connection(con)
    names = docs_names(con, params.load_id, store.name if store else None)
    run_name = f"{names.run_name}, rows it added or changed" if params.scope else names.run_name
    return suites.GeSession.start(names.source, run_name, names.run_time)


def _params_for(check: Check, params: CheckParams, scoped: frozenset[str]) -> CheckParams:
    return params if check.check_id in scoped else replace(params, scope=None)


def counted_from_copies(
    con: duckdb.DuckDBPyConnection, params: CheckParams, checks: list[Check], scoped: frozenset[str]
) -> dict[str, list[Check]]:
    """Per table whose touched rows the GE side copies out (`frames.run_rows`): its SQL checks re-run on the touched
    rows whose counts read only columns of those rows (`SqlSpec.columns`). They are counted from that copy, so the
    table's touched rows are found among its rows once, not once more for them (a semi join on the text child id of
    every row: ~1 s of CPU for contacts' key at national scale)."""
    out: dict[str, list[Check]] = {}
    for table in TABLES:
        suite = [c for c in ge_checks(table) if c in checks]
        if not suite:
            continue
        table_params = _params_for(suite[0], params, scoped)
        if table_params.scope is None or not incremental.touched(con, table_params.scope, table):
            continue  # no copy of the table's rows is made
        sql = [
            c
            for c in checks
            if c.table == table and c.sql is not None and c.sql.columns is not None and c.check_id in scoped
        ]
        if sql:
            out[table] = sql
    return out


def _sql_result(con: duckdb.DuckDBPyConnection, check: Check, params: CheckParams) -> dict:
    """Run one SQL check (`sql_checks.count_sql_check`) into the run's tables; its result row."""
    from expectations.sql_checks import count_sql_check

    checked, failing = count_sql_check(con, check, params, incremental.RUN_FAILING, incremental.RUN_CHECKED)
    if checked is None:
        checked = incremental.run_checked(con, check.check_id)
    return result_row(check, sql_counts(checked, failing))


def _copied_columns(checks: list[Check]) -> tuple[str, ...]:
    return tuple(column for c in checks if c.sql is not None and c.sql.columns for column in c.sql.columns)


def _run_ge_checks(
    con: duckdb.DuckDBPyConnection,
    params: CheckParams,
    checks: list[Check],
    scoped: frozenset[str],
    results: list[dict],
    timings: dict[str, float],
    on_copies: dict[str, list[Check]] | None = None,
) -> GeSession | None:
    """Each table's suite on its frame (the touched rows, or the whole table); failing rows found by the same
    predicate in SQL, counted per unit into the run's table of failing rows; the two counts must agree. The SQL checks
    of `on_copies` (`counted_from_copies`) are counted from the table's copy of its touched rows."""
    on_copies = on_copies or {}
    clock = _Clock(timings)
    from expectations import frames, suites  # GE is slow to import: only when validating

    clock.lap("import great_expectations")
    by_table = {t: [c for c in ge_checks(t) if c in checks] for t in TABLES}
    by_table = {t: cs for t, cs in by_table.items() if cs}
    session = None
    for table, table_checks in by_table.items():
        table_params = _params_for(table_checks[0], params, scoped)
        if table_params.scope is not None and not incremental.touched(con, table_params.scope, table):
            continue  # the load touched no row of this table: nothing to re-check
        session = session or _ge_session(con, params, suites)
        # a load's touched rows are taken out of the store once (the scope's join read three times cost more);
        # a whole table is read where it is (scanning it again costs less than writing it into a TEMP table)
        rows = None
        if table_params.scope is not None:
            also = _copied_columns(on_copies.get(table, []))
            rows = frames.run_rows(con, table, table_checks, table_params, f"_dq_run_rows_{table}", also)
        frame = frames.load_frame(con, table, table_checks, table_params, source=rows)
        clock.lap(f"{table}: frame out of DuckDB")
        outcome = session.validate(table, suites.build_suite(table, table_checks, table_params), frame)
        del frame
        clock.lap(f"{table}: Great Expectations")
        by_id = {
            ((r.expectation_config.meta if r.expectation_config else None) or {}).get("check_id"): r
            for r in outcome.results
        }
        counted = {check.check_id: suites.result_counts(by_id[check.check_id]) for check in table_checks}
        results.extend(result_row(check, counted[check.check_id]) for check in table_checks)
        failing = [c for c in table_checks if counted[c.check_id]["unexpected_count"]]
        found = incremental.append_failing(con, frames.rows_from(table, table_params, rows), failing, table_params)
        if table in on_copies:
            assert rows is not None, f"{table}: SQL checks counted from a copy the run did not make"
            copied = replace(table_params, copied=((table, rows),))
            results.extend(_sql_result(con, check, copied) for check in on_copies[table])
        if rows is not None:
            con.execute(f"DROP TABLE {rows}")
        for check in failing:
            if found.get(check.check_id, 0) != counted[check.check_id]["unexpected_count"]:
                raise RuntimeError(
                    f"check {check.check_id}: Great Expectations counted {counted[check.check_id]['unexpected_count']}"
                    f" failing rows, its SQL predicate {found.get(check.check_id, 0)}"
                )
        clock.lap(f"{table}: failing rows (SQL)")
    return session


def _run_sql_checks(
    con: duckdb.DuckDBPyConnection,
    params: CheckParams,
    checks: list[Check],
    scoped: frozenset[str],
    results: list[dict],
    timings: dict[str, float],
) -> None:
    """Each SQL check, reported in the same form as a GE result; failing rows appended to the run's table. The checks
    that share no TEMP table with others are counted in one statement (`sql_checks.count_sql_checks`), the others
    one by one."""
    from expectations.sql_checks import (
        count_sql_check,
        count_sql_checks,
        counted_together,
        drop_shared,
        keep_run_attributes,
    )

    clock = _Clock(timings)
    incremental.start_run(con)
    drop_shared(con)  # tables shared by checks are built for this run's scope
    sql = [c for c in checks if c.sql is not None]
    together = [(c, _params_for(c, params, scoped)) for c in sql if counted_together(c)]
    counted: dict[str, tuple[int | None, int]] = dict(count_sql_checks(con, together, incremental.RUN_FAILING))
    clock.lap("sql: checks counted together")
    for check in sql:
        if check.check_id not in counted:
            check_params = _params_for(check, params, scoped)
            counted[check.check_id] = count_sql_check(
                con, check, check_params, incremental.RUN_FAILING, incremental.RUN_CHECKED
            )
            clock.lap(f"sql: {check.check_id}")
    for check in sql:
        checked, failing = counted[check.check_id]
        if checked is None:
            checked = incremental.run_checked(con, check.check_id)
        results.append(result_row(check, sql_counts(checked, failing)))
    keep_run_attributes(con, [(c, _params_for(c, params, scoped)) for c in sql])
    drop_shared(con)


def _run_concurrently(
    con: duckdb.DuckDBPyConnection, params: CheckParams, checks: list[Check], scoped: frozenset[str]
) -> tuple[list[dict], dict[str, float], GeSession | None, incremental.StoreSide]:
    """GE checks in this thread, SQL checks in another on their own connection to the same database.

    DuckDB releases the GIL while it works, so on two cores the SQL checks mostly overlap GE. Each
    connection gathers failing rows in its own TEMP tables; the SQL thread's are then copied over.
    """
    results: list[dict] = []
    timings: dict[str, float] = {}
    sql_results: list[dict] = []
    sql_timings: dict[str, float] = {}
    incremental.start_run(con)
    on_copies = counted_from_copies(con, params, checks, scoped)
    moved = {c.check_id for table_checks in on_copies.values() for c in table_checks}
    sql_side = [c for c in checks if c.check_id not in moved]
    cursor = con.cursor()
    try:
        incremental.share_scope(con, cursor, params.scope)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dq-sql") as pool:
            sql_done = pool.submit(_run_sql_checks, cursor, params, sql_side, scoped, sql_results, sql_timings)
            session = _run_ge_checks(con, params, checks, scoped, results, timings, on_copies)
            store_side = incremental.store_side(con, checks, params, scoped)  # beside the SQL checks
            sql_done.result()
        incremental.gather_run(cursor, con)
    finally:
        cursor.close()
    return results + sql_results, {**timings, **sql_timings}, session, store_side


def _ordered(results: list[dict]) -> pd.DataFrame:
    order = {c.check_id: i for i, c in enumerate(REGISTRY.values())}
    return pd.DataFrame(results).sort_values("check_id", key=lambda s: s.map(order), ignore_index=True)


def run_checks(
    con: duckdb.DuckDBPyConnection,
    params: CheckParams | None = None,
    check_ids: Iterable[str] | None = None,
    scoped: Iterable[str] = (),
    list_failures: bool = True,
) -> ValidationRun:
    """Run the checks (all, or those named) on a store connection; reads only (TEMP tables aside).

    Checks named in `scoped` read only the rows in `params.scope` (what a load touched); the others
    read the whole store. The run's failing rows, counted per unit, are left in the TEMP table
    `incremental.RUN_FAILING`; `failures` holds up to `params.max_failure_rows` of them per check.
    """
    con.execute("SELECT 1").fetchall()  # finish any result the caller left open (DuckDB 2 refuses con.sql otherwise)
    params = params or CheckParams.from_store(con)
    checks = [REGISTRY[i] for i in check_ids] if check_ids is not None else list(REGISTRY.values())
    scoped_ids = frozenset(scoped) if params.scope is not None else frozenset()
    results, timings, session, store_side = _run_concurrently(con, params, checks, scoped_ids)
    failures = (
        incremental.capped_failures(con, incremental.RUN_FAILING, checks, replace(params, scope=None))
        if list_failures
        else pd.DataFrame(columns=FAILURE_COLUMNS[1:])  # listed after keeping (validate_store)
    )
    return ValidationRun(
        params=params,
        results=_ordered(results),
        failures=failures,
        ge_session=session,
        timings=timings,
        scoped=scoped_ids,
        store_side=store_side,
    )


def store_results(
    con: duckdb.DuckDBPyConnection,
    load_id: int,
    run: ValidationRun,
    run_at: datetime | None = None,
    listed: str | None = None,
) -> pd.DataFrame:
    """Replace the stored results of `load_id` with this run's (other loads' results are kept for trends); the failing
    rows come from the TEMP table `listed` (incremental.list_failures) when given, else from the run."""
    results = run.results.assign(load_id=load_id, run_at=run_at or datetime.now())[RESULT_COLUMNS]
    con.execute("DELETE FROM dq_results WHERE load_id = ?", [load_id])
    con.execute("DELETE FROM dq_failures WHERE load_id = ?", [load_id])
    con.register("dq_results_new", results)
    try:
        con.execute("INSERT INTO dq_results BY NAME SELECT * FROM dq_results_new")
    finally:
        con.unregister("dq_results_new")
    if listed is not None:
        con.execute(f"INSERT INTO dq_failures BY NAME SELECT {int(load_id)} AS load_id, * FROM {listed}")
        return results
    con.register("dq_failures_new", run.failures.assign(load_id=load_id)[FAILURE_COLUMNS])
    try:
        con.execute("INSERT INTO dq_failures BY NAME SELECT * FROM dq_failures_new")
    finally:
        con.unregister("dq_failures_new")
    return results


def _log_summary(results: pd.DataFrame) -> None:
    failed = results[~results["success"]]
    log.info(
        "data quality: %d checks, %d failed (%d errors)",
        len(results),
        len(failed),
        int((failed["severity"] == "error").sum()),
    )


def validate_store(
    con: duckdb.DuckDBPyConnection,
    load_id: int | None,
    data_docs_dir: Path | str | os.PathLike[str] | None = None,
    *,
    ethnicity_threshold: float | None = None,
    build_docs: bool = True,
    changes: str | None = None,
    new_loads: list[int] | None = None,
) -> pd.DataFrame:
    """Run the checks on a writable store, store the results under `load_id` (default: the latest load),
    build Data Docs (beside the store, or in `data_docs_dir`), and return the per-check results (the dq_results rows).

    With `changes` (the merge's table of what `new_loads` changed, ingest.merge.CHANGES), each check whose
    failing rows are kept from the previous validation is re-run on the touched rows only; the results
    still describe the whole store. Without it, every check runs on the whole store.
    """
    from expectations.data_docs import build_data_docs, store_of_connection
    from expectations.data_docs import data_docs_dir as docs_dir

    params = CheckParams.from_store(con, load_id=load_id, ethnicity_threshold=ethnicity_threshold)
    checks = list(REGISTRY.values())
    scoped: frozenset[str] = frozenset()
    if changes is not None and new_loads:
        scoped = incremental.carried_checks(con, checks, params, new_loads)
        if scoped:
            params = replace(params, scope=incremental.build_scope(con, changes))
    run = run_checks(con, params, scoped=scoped, list_failures=False)
    folder = docs_dir(data_docs_dir, store_of_connection(con))
    docs = None
    if build_docs and folder is not None and run.ge_session is not None:
        # storing GE's results and rendering HTML (Python) overlap the SQL below (DuckDB, which lets go of the GIL);
        # it works only on the GE session
        docs = threading.Thread(target=build_data_docs, args=(run.ge_session, folder), name="dq-data-docs")
        docs.start()
    try:
        results = _keep_and_store(con, params, checks, run)
    finally:
        if docs is not None:
            docs.join()
    return results


def _keep_and_store(
    con: duckdb.DuckDBPyConnection, params: CheckParams, checks: list[Check], run: ValidationRun
) -> pd.DataFrame:
    """Bring the kept failing rows up to date with the run, and store the whole store's results under the load.

    One transaction: on a load's work copy every statement would otherwise be a checkpoint of its own.
    """
    from store.connection import one_commit

    with one_commit(con):
        listed_before = run.store_side.listed_before
        incremental.keep(con, run.params, checks, run.scoped)
        if run.scoped:
            whole = incremental.whole_store_results(
                con, run.params, checks, run.results, run.scoped, run.store_side.ge_checked
            )
            run = replace(run, results=whole)
        listed = incremental.list_failures(con, incremental.KEPT, checks, replace(params, scope=None), listed_before)
        results = store_results(con, params.load_id, run, listed=listed)
    incremental.end_run(con)
    _log_summary(results)
    return results
