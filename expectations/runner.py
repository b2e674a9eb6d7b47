"""Run every data quality check on a store, keep the results (per load) in dq_results and dq_failures, build Data Docs.

`validate_store` is what a load calls (ingest.publish.finalise) on its working copy before
publishing; `run_checks` is the read-only part, used by the CLI to re-run the checks on demand.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

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
    """The outcome of one run: a row per check, the stored failing rows, and the GE session (for Data Docs)."""

    params: CheckParams
    results: pd.DataFrame
    failures: pd.DataFrame
    ge_session: GeSession | None = None
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step, for benchmarks


class _Clock:
    """Adds the seconds spent in each named step to a dict."""

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings, self.started = timings, time.perf_counter()

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.timings[step] = self.timings.get(step, 0.0) + now - self.started
        self.started = now


def _result_row(check: Check, counts: dict) -> dict:
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


def _failure_frame(check: Check, rows: pd.DataFrame) -> pd.DataFrame:
    out = rows.assign(check_id=check.check_id, problem=check.problem)
    out["row_number"] = out["row_number"].astype("Int64")
    return out.sort_values(["source_file", "sheet", "row_number", "child_id"], ignore_index=True)


def _ge_session(con: duckdb.DuckDBPyConnection, params: CheckParams, suites: Any) -> GeSession:
    """A GE session whose Data Docs name the store's file and the load's files, not internal ids."""
    from expectations.data_docs import store_of_connection
    from expectations.docs_names import docs_names

    store = store_of_connection(con)
    names = docs_names(con, params.load_id, store.name if store else None)
    return suites.GeSession.start(names.source, names.run_name, names.run_time)


def _run_ge_checks(
    con: duckdb.DuckDBPyConnection,
    params: CheckParams,
    checks: list[Check],
    results: list[dict],
    failures: list[pd.DataFrame],
    timings: dict[str, float],
) -> GeSession | None:
    """Each table's suite on its frame; failing rows of failed expectations found by the same predicate in SQL."""
    clock = _Clock(timings)
    from expectations import frames, predicates, suites  # GE is slow to import: only when validating

    clock.lap("import great_expectations")
    by_table = {t: [c for c in ge_checks(t) if c in checks] for t in TABLES}
    by_table = {t: cs for t, cs in by_table.items() if cs}
    if not by_table:
        return None
    session = _ge_session(con, params, suites)
    for table, table_checks in by_table.items():
        frame = frames.load_frame(con, table, table_checks, params)
        clock.lap(f"{table}: frame out of DuckDB")
        outcome = session.validate(table, suites.build_suite(table, table_checks, params), frame)
        del frame
        clock.lap(f"{table}: Great Expectations")
        by_id = {
            ((r.expectation_config.meta if r.expectation_config else None) or {}).get("check_id"): r
            for r in outcome.results
        }
        for check in table_checks:
            counts = suites.result_counts(by_id[check.check_id])
            results.append(_result_row(check, counts))
            if counts["unexpected_count"]:
                rows = con.sql(predicates.failing_rows_sql(check, params, params.max_failure_rows))
                failures.append(_failure_frame(check, rows.to_arrow_table().to_pandas()))
        clock.lap(f"{table}: failing rows (SQL)")
    return session


def _run_sql_checks(
    con: duckdb.DuckDBPyConnection,
    params: CheckParams,
    checks: list[Check],
    results: list[dict],
    failures: list[pd.DataFrame],
    timings: dict[str, float],
) -> None:
    """Each SQL check, reported in the same form as a GE result."""
    from expectations.sql_checks import run_sql_check

    clock = _Clock(timings)
    for check in (c for c in checks if c.sql is not None):
        checked, failing, rows = run_sql_check(con, check, params, params.max_failure_rows)
        clock.lap(f"sql: {check.check_id}")
        percent = 100.0 * failing / checked if checked else (100.0 if failing else 0.0)
        results.append(
            _result_row(
                check,
                {
                    "success": failing == 0,
                    "element_count": checked,
                    "unexpected_count": failing,
                    "unexpected_percent": percent,
                },
            )
        )
        if failing:
            failures.append(_failure_frame(check, rows))


def _run_concurrently(
    con: duckdb.DuckDBPyConnection,
    params: CheckParams,
    checks: list[Check],
) -> tuple[list[dict], list[pd.DataFrame], dict[str, float], GeSession | None]:
    """GE checks in this thread, SQL checks in another on their own connection to the same database.

    DuckDB releases the GIL while it works, so on two cores the SQL checks mostly overlap GE.
    """
    results: list[dict] = []
    failures: list[pd.DataFrame] = []
    timings: dict[str, float] = {}
    sql_results: list[dict] = []
    sql_failures: list[pd.DataFrame] = []
    sql_timings: dict[str, float] = {}
    cursor = con.cursor()
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dq-sql") as pool:
            sql_done = pool.submit(_run_sql_checks, cursor, params, checks, sql_results, sql_failures, sql_timings)
            session = _run_ge_checks(con, params, checks, results, failures, timings)
            sql_done.result()
    finally:
        cursor.close()
    return results + sql_results, failures + sql_failures, {**timings, **sql_timings}, session


def run_checks(
    con: duckdb.DuckDBPyConnection, params: CheckParams | None = None, check_ids: Iterable[str] | None = None
) -> ValidationRun:
    """Run the checks (all, or those named) on a store connection; reads only."""
    con.execute("SELECT 1").fetchall()  # finish any result the caller left open (DuckDB 2 refuses con.sql otherwise)
    params = params or CheckParams.from_store(con)
    checks = [REGISTRY[i] for i in check_ids] if check_ids is not None else list(REGISTRY.values())
    results, failures, timings, session = _run_concurrently(con, params, checks)
    order = {c.check_id: i for i, c in enumerate(REGISTRY.values())}
    frame = pd.DataFrame(results).sort_values("check_id", key=lambda s: s.map(order), ignore_index=True)
    failing = (
        pd.concat(failures, ignore_index=True)
        if failures
        else pd.DataFrame(
            columns=["table_name", "child_id", "source_file", "sheet", "row_number", "value", "check_id", "problem"]
        )
    )
    return ValidationRun(params=params, results=frame, failures=failing, ge_session=session, timings=timings)


def store_results(
    con: duckdb.DuckDBPyConnection, load_id: int, run: ValidationRun, run_at: datetime | None = None
) -> pd.DataFrame:
    """Replace the stored results of `load_id` with this run's (other loads' results are kept for trends)."""
    results = run.results.assign(load_id=load_id, run_at=run_at or datetime.now())[RESULT_COLUMNS]
    failures = run.failures.assign(load_id=load_id)[FAILURE_COLUMNS]
    con.execute("DELETE FROM dq_results WHERE load_id = ?", [load_id])
    con.execute("DELETE FROM dq_failures WHERE load_id = ?", [load_id])
    con.register("dq_results_new", results)
    con.register("dq_failures_new", failures)
    try:
        con.execute("INSERT INTO dq_results BY NAME SELECT * FROM dq_results_new")
        con.execute("INSERT INTO dq_failures BY NAME SELECT * FROM dq_failures_new")
    finally:
        con.unregister("dq_results_new")
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
) -> pd.DataFrame:
    """Run every check on a writable store, store the results under `load_id` (default: the latest load),
    build Data Docs (beside the store, or in `data_docs_dir`), and return the per-check results (the dq_results rows)."""
    from expectations.data_docs import build_data_docs, store_of_connection
    from expectations.data_docs import data_docs_dir as docs_dir

    params = CheckParams.from_store(con, load_id=load_id, ethnicity_threshold=ethnicity_threshold)
    run = run_checks(con, params)
    results = store_results(con, params.load_id, run)
    _log_summary(results)
    folder = docs_dir(data_docs_dir, store_of_connection(con))
    if build_docs and folder is not None and run.ge_session is not None:
        build_data_docs(run.ge_session.context, folder)
    return results
