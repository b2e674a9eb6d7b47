"""Checks that cost what a load changes: failing rows counted per child in the store, re-checked where a load touched.

Every check's failing rows are kept in `dq_failing_units` as a count per unit (the child id; the
record id for recordings): a narrow table, one row per failing child, however many of its rows
fail. A load's validation re-runs a check only on the units the merge touched (ingest.merge.CHANGES):
their counts are replaced by the re-run's, the rest carry forward. The whole store's counts are then
worked out in SQL (failing rows from the kept counts, rows checked from the tables), and the failing
rows stored in dq_failures (at most `max_failure_rows` per check) are those of the first failing units
in unit order, found by re-running the check on just those units. So each load's dq_results and
dq_failures are exactly what a run on the whole store gives. A check re-runs on the whole store when
its kept counts may be stale: none kept, a load since published without checks, its SQL changed
(`definition`), or a store-wide value it reads changed (`SqlSpec.depends_on`). `load` checks always
run on the new files only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any

import duckdb
import pandas as pd

from expectations import frames, predicates
from expectations.model import CROSS_TABLE, Check, CheckParams, InSet, resolve, unit_column
from expectations.sql_checks import (
    ETHNICITY_TABLES,
    RUN_CHILD_ATTRIBUTES,
    child_attributes_current,
    drop_shared,
    keep_child_attributes,
    reads_child_attributes,
    temp_table_exists,
)
from store.schema import DQ_CHECKED_UNITS_COLUMNS, DQ_FAILING_UNITS_COLUMNS, ENTITIES, Column
from store.sql import quoted

KEPT = "dq_failing_units"  # failing rows per check and unit, as of the latest validation
KEPT_UNITS = "dq_checked_units"  # rows checked per unit, for checks counted that way
STATE = "dq_check_state"  # per check: the load its kept counts are up to date with, its definition then
RUN_FAILING = "_dq_run_failing"  # TEMP: the failing rows per unit this run found
RUN_CHECKED = "_dq_run_checked"  # TEMP: the rows checked per unit this run counted
SCOPE = "_dq_scope"  # TEMP (scope, unit): what the load touched, per table and across the child tables
LISTED = "_dq_listed"  # TEMP (check_id, scope, unit): the units whose failing rows a check lists in dq_failures
LISTED_NOW = "_dq_listed_now"  # TEMP (check_id, unit, failing): each kept check's listed units, worked out once
_SCOPED_CHECKS = "_dq_scoped_checks"
ORDER = "unit NULLS LAST, source_file, sheet, row_number, child_id, table_name, value"  # the rows listed first


def _temp_ddl(name: str, columns: tuple[Column, ...]) -> str:
    return f"CREATE OR REPLACE TEMP TABLE {name} ({', '.join(f'{c.name} {c.type}' for c in columns)})"


def start_run(con: duckdb.DuckDBPyConnection) -> None:
    """Empty TEMP tables for the failing rows and per-unit counts a run finds (one pair per connection)."""
    con.execute(_temp_ddl(RUN_FAILING, DQ_FAILING_UNITS_COLUMNS))
    con.execute(_temp_ddl(RUN_CHECKED, DQ_CHECKED_UNITS_COLUMNS))


def _copy(source: duckdb.DuckDBPyConnection, target: duckdb.DuckDBPyConnection, table: str, create: bool) -> None:
    found = source.sql(f"SELECT * FROM {table}").to_arrow_table()
    if not (found.num_rows or create):
        return
    target.register("_dq_copied", found)
    try:
        verb = f"CREATE OR REPLACE TEMP TABLE {table} AS" if create else f"INSERT INTO {table}"
        target.execute(f"{verb} SELECT * FROM _dq_copied")
    finally:
        target.unregister("_dq_copied")


def share_scope(source: duckdb.DuckDBPyConnection, target: duckdb.DuckDBPyConnection, scope: str | None) -> None:
    """Give another connection (the SQL checks' thread: TEMP tables are per connection) the run's scope."""
    if scope is not None:
        _copy(source, target, scope, create=True)


def gather_run(source: duckdb.DuckDBPyConnection, target: duckdb.DuckDBPyConnection) -> None:
    """Append what a run found on another connection (the SQL checks' thread) to this connection's TEMP tables, and
    copy its per-child table of the consistency checks (kept by `keep`)."""
    for table in (RUN_FAILING, RUN_CHECKED):
        _copy(source, target, table, create=False)
    target.execute(f"DROP TABLE IF EXISTS {RUN_CHILD_ATTRIBUTES}")
    if temp_table_exists(source, RUN_CHILD_ATTRIBUTES):
        _copy(source, target, RUN_CHILD_ATTRIBUTES, create=True)


def end_run(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the run's TEMP tables."""
    drop_shared(con)
    for table in (
        RUN_FAILING,
        RUN_CHECKED,
        SCOPE,
        LISTED,
        LISTED_NOW,
        LISTED_ROWS,
        _SCOPED_CHECKS,
        RUN_CHILD_ATTRIBUTES,
    ):
        con.execute(f"DROP TABLE IF EXISTS {table}")


def append_failing(
    con: duckdb.DuckDBPyConnection, source: str, failing: list[Check], params: CheckParams
) -> dict[str, int]:
    """Count the failing rows of each GE check of one table per unit into the run's table, in one statement over
    `source` (frames.run_rows, or the table's source SQL: the unit and the columns the checks read); how many each
    check found."""
    if not failing:
        return {}
    unit = unit_column(failing[0].table)
    parts = " UNION ALL ".join(
        f"SELECT '{check.check_id}' AS check_id, {unit} AS unit FROM {source}"
        f" WHERE {predicates.failing_predicate(check, params)}"
        for check in failing
    )
    con.execute(f"INSERT INTO {RUN_FAILING} SELECT check_id, unit, count(*) FROM ({parts}) GROUP BY ALL")
    ids = [check.check_id for check in failing]
    found = con.execute(
        f"SELECT check_id, sum(failing) FROM {RUN_FAILING} WHERE list_contains(CAST(? AS VARCHAR[]), check_id)"
        " GROUP BY ALL",
        [ids],
    )
    return {str(i): int(n) for i, n in found.fetchall()}


def run_checked(con: duckdb.DuckDBPyConnection, check_id: str) -> int:
    """Rows checked by a check counted per unit, as this run counted them."""
    return int(
        con.execute(f"SELECT coalesce(sum(checked), 0) FROM {RUN_CHECKED} WHERE check_id = ?", [check_id]).fetchall()[
            0
        ][0]
    )


def build_scope(con: duckdb.DuckDBPyConnection, changes: str) -> str:
    """The TEMP table of what the merge touched: per table its children (recordings: records), and under
    'cross_table' the children of any table the cross-table checks read."""
    unit = " ".join(f"WHEN '{t}' THEN {unit_column(t)}" for t in ENTITIES)
    across = ", ".join(f"'{t}'" for t in ETHNICITY_TABLES)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {SCOPE} AS"
        f" SELECT DISTINCT entity AS scope, CASE entity {unit} END AS unit FROM {changes}"
        f" UNION SELECT DISTINCT '{CROSS_TABLE}', child_id FROM {changes}"
        f" WHERE entity IN ({across}) AND child_id IS NOT NULL"
    )
    return SCOPE


def touched(con: duckdb.DuckDBPyConnection, scope: str, table: str) -> bool:
    """Whether the load touched any row of `table`."""
    return bool(
        con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {scope} WHERE scope = ? LIMIT 1)", [table]).fetchall()[0][0]
    )


# --- Whether a check's kept rows can be carried forward -------------------------------------


def definition(check: Check, params: CheckParams) -> str:
    """A hash of the SQL a check runs (on the whole store): kept rows found by another definition are not reused."""
    whole = replace(params, scope=None, load_id=0, previous_load_id=0, listed_versions=None, copied=())
    if check.ge is not None:
        parts = [frames.source_sql(check.table, whole), predicates.failing_predicate(check, whole)]
        parts += [predicates.value_sql(check), predicates.checked_sql(check)]
    else:
        spec = check.sql
        assert spec is not None
        parts = [spec.rows(whole), spec.checked(whole), spec.depends_on or ""]
        parts += [spec.temp[1](whole) if spec.temp else "", spec.checked_by_unit(whole) if spec.checked_by_unit else ""]
        parts += [spec.failing_by_unit(whole) if spec.failing_by_unit else ""]
        if spec.shared:  # only then: every other check keeps the definition its kept rows were found with
            parts.append(spec.shared[1](whole))
    text = "\x1f".join([check.kind, check.table, *parts])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _depends_value(con: duckdb.DuckDBPyConnection, check: Check) -> str | None:
    if check.sql is None or check.sql.depends_on is None:
        return None
    return con.execute(f"SELECT CAST(({check.sql.depends_on}) AS VARCHAR)").fetchall()[0][0]


def carried_checks(
    con: duckdb.DuckDBPyConnection, checks: list[Check], params: CheckParams, new_loads: list[int]
) -> frozenset[str]:
    """The checks whose kept rows are up to date with every load but `new_loads`: they re-run on the touched rows only.

    A table's Great Expectations suite runs on one frame, so its checks are re-run on the touched rows
    together or not at all.
    """
    listed = ", ".join(str(int(i)) for i in new_loads)
    covered = con.execute(f"SELECT coalesce(max(load_id), 0) FROM loads WHERE load_id NOT IN ({listed})").fetchall()[0][
        0
    ]
    state = {
        r[0]: r[1:] for r in con.execute(f"SELECT check_id, load_id, definition, depends_on FROM {STATE}").fetchall()
    }
    carried = set()
    for check in checks:
        kept = state.get(check.check_id)
        if not check.kept or kept is None or kept[0] < covered or kept[1] != definition(check, params):
            continue
        if kept[2] != _depends_value(con, check):
            continue
        carried.add(check.check_id)
    if not child_attributes_current(con, params):  # a load's run of the consistency checks folds the stored table
        carried -= {c.check_id for c in checks if reads_child_attributes(c)}
    for table in {c.table for c in checks if c.ge is not None}:
        suite = {c.check_id for c in checks if c.ge is not None and c.table == table}
        if not suite <= carried:
            carried -= suite
    return frozenset(carried)


# --- Bringing the kept rows up to date --------------------------------------------------------


def _scope_name(check: Check) -> str:
    return check.table  # 'cross_table' checks are scoped by the children of any table they read


_TOUCHED_KEPT = "_dq_touched_kept"  # TEMP: the kept rows (their rowids) of the scoped checks in the touched units


def _bring_up_to_date(con: duckdb.DuckDBPyConnection, table: str, run: str, value: str) -> None:
    """Make `table`'s kept rows (check_id, unit, `value`) of the scoped checks' touched units equal to the run's.

    A (check, unit) is kept once, so a kept row either takes the run's count in place (UPDATE), or goes when the
    run found none; the run's other rows are added. Most kept rows of a month's touched units only change their
    count (678,000 of 787,000 at national scale): deleting and re-inserting them cost the commit a rewrite of the
    table's row groups (DuckDB vacuums the deleted rows), 2-3 s against 0.2-0.3 s for the updated counts.
    """
    # each kept row joined to its check's scope, then looked up among that scope's touched units by equality (the
    # NULL unit apart): a correlated `IS NOT DISTINCT FROM` over every (check, unit) pair cost twice as much
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_TOUCHED_KEPT} AS "
        + " UNION ALL ".join(
            f"SELECT k.rowid AS kept_row, k.check_id, k.unit, k.{value} AS kept FROM {table} k"
            f" JOIN {_SCOPED_CHECKS} c ON c.check_id = k.check_id JOIN {SCOPE} s ON s.scope = c.scope AND {same_unit}"
            for same_unit in ("s.unit = k.unit", "s.unit IS NULL AND k.unit IS NULL")
        )
    )
    same = "r.check_id = t.check_id AND r.unit IS NOT DISTINCT FROM t.unit"
    con.execute(
        f"UPDATE {table} SET {value} = x.{value} FROM (SELECT t.kept_row, r.{value} FROM {_TOUCHED_KEPT} t"
        f" JOIN {run} r ON {same} WHERE r.{value} IS DISTINCT FROM t.kept) x WHERE {table}.rowid = x.kept_row"
    )
    con.execute(
        f"DELETE FROM {table} WHERE rowid IN (SELECT t.kept_row FROM {_TOUCHED_KEPT} t ANTI JOIN {run} r ON {same})"
    )
    con.execute(f"INSERT INTO {table} SELECT r.* FROM {run} r ANTI JOIN {_TOUCHED_KEPT} t ON {same}")
    con.execute(f"DROP TABLE {_TOUCHED_KEPT}")


def keep(con: duckdb.DuckDBPyConnection, params: CheckParams, checks: list[Check], scoped: frozenset[str]) -> None:
    """Replace the kept rows of what this run re-checked (the touched units of `scoped` checks, everything of the
    others) with the run's, and record what the kept rows are now up to date with."""
    for table in (KEPT, KEPT_UNITS):  # every other check was re-run on the whole store (or is gone)
        con.execute(f"DELETE FROM {table} WHERE NOT list_contains(CAST(? AS VARCHAR[]), check_id)", [sorted(scoped)])
    if scoped:
        pairs = [(c.check_id, _scope_name(c)) for c in checks if c.check_id in scoped]
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_SCOPED_CHECKS} AS SELECT unnest(?) AS check_id, unnest(?) AS scope",
            [[p[0] for p in pairs], [p[1] for p in pairs]],
        )
        _bring_up_to_date(con, KEPT, RUN_FAILING, "failing")
        _bring_up_to_date(con, KEPT_UNITS, RUN_CHECKED, "checked")
    else:
        con.execute(f"INSERT INTO {KEPT} SELECT * FROM {RUN_FAILING}")
        con.execute(f"INSERT INTO {KEPT_UNITS} SELECT * FROM {RUN_CHECKED}")
    latest = con.execute("SELECT coalesce(max(load_id), 0) FROM loads").fetchall()[0][0]
    kept = [c for c in checks if c.kept]
    con.execute(f"DELETE FROM {STATE}")
    con.execute(
        f"INSERT INTO {STATE} SELECT unnest(?), ?, unnest(?), unnest(?)",
        [
            [c.check_id for c in kept],
            latest,
            [definition(c, params) for c in kept],
            [_depends_value(con, c) for c in kept],
        ],
    )
    keep_child_attributes(con, checks, scoped, latest, params)


# --- The whole store's results from the kept rows ----------------------------------------------


def _kept_counts(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, int]:
    return {i: int(n) for i, n in con.execute(f"SELECT check_id, sum(failing) FROM {table} GROUP BY ALL").fetchall()}


def ge_checked(con: duckdb.DuckDBPyConnection, params: CheckParams, checks: list[Check]) -> dict[str, int]:
    """Rows checked by each GE check on the whole store: one aggregate query per table."""
    whole = replace(params, scope=None)
    out: dict[str, int] = {}
    for table in dict.fromkeys(c.table for c in checks):
        table_checks = [c for c in checks if c.table == table]
        aggregates = ", ".join(predicates.checked_sql(c) for c in table_checks)
        row = con.execute(f"SELECT {aggregates} FROM ({frames.source_sql(table, whole)})").fetchall()[0]
        out.update({c.check_id: int(n) for c, n in zip(table_checks, row)})
    return out


def _ge_counts(check: Check, checked: int, failing: int, params: CheckParams) -> dict[str, Any]:
    """What Great Expectations reports for these counts: success (with `mostly`, a share), percent of rows checked."""
    percent = failing / checked * 100 if checked else 0.0
    mostly = resolve(check.ge.mostly, params) if isinstance(check.ge, InSet) and check.ge.mostly is not None else None
    if mostly is None or not checked:
        success = failing == 0
    else:
        success = (float(checked) - float(failing)) / float(checked) >= mostly
    return {"success": success, "element_count": checked, "unexpected_count": failing, "unexpected_percent": percent}


def whole_store_results(
    con: duckdb.DuckDBPyConnection,
    params: CheckParams,
    checks: list[Check],
    run_results: pd.DataFrame,
    scoped: frozenset[str],
    ge_checked: dict[str, int],
) -> pd.DataFrame:
    """The run's results with each check re-run on the touched rows replaced by its whole store's counts
    (`ge_checked`: the rows each GE check of `scoped` checks in the whole store, from `store_side`)."""
    from expectations.runner import result_row, sql_counts

    failing = _kept_counts(con, KEPT)
    units = dict(con.execute(f"SELECT check_id, sum(checked) FROM {KEPT_UNITS} GROUP BY ALL").fetchall())
    by_id = run_results.set_index("check_id")
    rows = []
    for check in checks:
        if check.check_id not in scoped:
            rows.append(by_id.loc[check.check_id].to_dict() | {"check_id": check.check_id})
        elif check.ge is not None:
            counts = _ge_counts(check, ge_checked[check.check_id], failing.get(check.check_id, 0), params)
            rows.append(result_row(check, counts))
        else:
            assert check.sql is not None
            checked = int(units.get(check.check_id, 0) or 0) if check.sql.checked_by_unit else None
            if checked is None:
                checked = int(by_id.loc[check.check_id, "element_count"])
            rows.append(result_row(check, sql_counts(checked, failing.get(check.check_id, 0))))
    return pd.DataFrame(rows)[list(run_results.columns)]


def _listed_sql(table: str, check_ids: list[str], cap: int) -> str:
    """Per check, the first units (in unit order) whose failing rows, counted before each, number fewer than the cap.

    A unit fails at least once, so those are among each check's first `cap` units (and the unit NULL, which comes
    last): the running count is worked out over those alone, found with DuckDB's `min(unit, cap)` (a heap of `cap`
    units per check), not over a sort of every failing unit (millions at national scale).
    """
    ids = quoted(check_ids) if check_ids else "NULL"
    return (
        f"SELECT k.check_id, k.unit, k.failing FROM {table} k"
        f" JOIN (SELECT check_id, list_max(min(unit, {int(cap)})) AS last_unit FROM {table}"
        f"       WHERE check_id IN ({ids}) AND failing > 0 GROUP BY check_id) f USING (check_id)"
        " WHERE k.failing > 0 AND (k.unit IS NULL OR k.unit <= f.last_unit OR f.last_unit IS NULL)"
        " QUALIFY sum(k.failing) OVER (PARTITION BY k.check_id ORDER BY k.unit NULLS LAST ROWS UNBOUNDED PRECEDING)"
        f" - k.failing < {int(cap)}"
    )


Listing = dict[str, dict[Any, int]]  # check id -> the units it lists -> their failing rows


def _listed(con: duckdb.DuckDBPyConnection, table: str, check_ids: list[str], cap: int) -> Listing:
    found: Listing = {i: {} for i in check_ids}
    for check_id, unit, failing in con.execute(_listed_sql(table, check_ids, cap)).fetchall():
        found[check_id][unit] = int(failing)
    return found


def listed_units(
    con: duckdb.DuckDBPyConnection, checks: list[Check], params: CheckParams, scoped: frozenset[str]
) -> Listing:
    """Before the kept counts change: the units each check re-run on the touched rows listed in dq_failures, for those
    checks whose listing the previous validation (the one the kept counts come from) stored."""
    if not scoped:
        return {}
    stored = con.execute(f"SELECT min(load_id) FROM {STATE}").fetchall()[0][0]
    if stored is None or stored != params.previous_load_id:
        return {}
    return _listed(con, KEPT, sorted(c.check_id for c in checks if c.check_id in scoped), params.max_failure_rows)


@dataclass(frozen=True)
class StoreSide:
    """What the whole store's results need besides the run: worked out from the store and the kept rows as they were
    before the run, so while the SQL checks run (runner._run_concurrently), not after them."""

    listed_before: Listing
    ge_checked: dict[str, int]


def store_side(
    con: duckdb.DuckDBPyConnection, checks: list[Check], params: CheckParams, scoped: frozenset[str]
) -> StoreSide:
    """The units each check of `scoped` listed before (`listed_units`) and the rows each of its GE checks checks in the
    whole store (`ge_checked`): neither reads what the run writes."""
    if not scoped:
        return StoreSide({}, {})
    listed = listed_units(con, checks, params, scoped)
    ge = [c for c in checks if c.check_id in scoped and c.ge is not None]
    tables = {c.table for c in ge}
    untouched = {t for t in tables if params.scope is not None and not touched(con, params.scope, t)}
    before = checked_before(con, [c for c in ge if c.table in untouched], params)
    return StoreSide(listed, before | ge_checked(con, params, [c for c in ge if c.check_id not in before]))


def checked_before(con: duckdb.DuckDBPyConnection, checks: list[Check], params: CheckParams) -> dict[str, int]:
    """The rows each of these GE checks (re-run on the touched rows, of tables the load did not touch) checks in the
    whole store, as the previous validation stored them (its dq_results' element count), when the kept rows are that
    validation's: every load since is the run's, so their tables' rows are the ones it counted (and the rows a GE check
    counts as checked depend on its table's rows alone: `predicates.checked_sql`, part of its definition). Saves a
    scan of each such table and its joins (`ge_checked`)."""
    if not checks:
        return {}
    stored = con.execute(f"SELECT min(load_id), max(load_id) FROM {STATE}").fetchall()[0]
    if stored != (params.previous_load_id, params.previous_load_id):
        return {}
    found = con.execute(
        "SELECT check_id, element_count FROM dq_results WHERE load_id = ? AND list_contains(CAST(? AS VARCHAR[]), check_id)",
        [params.previous_load_id, [c.check_id for c in checks]],
    ).fetchall()
    return {str(i): int(n) for i, n in found if n is not None}


def _list_now(con: duckdb.DuckDBPyConnection, table: str, checks: list[Check], cap: int) -> None:
    """Work out once (a window over every failing unit of each check) the units each kept check lists now."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {LISTED_NOW} AS {_listed_sql(table, [c.check_id for c in checks if c.kept], cap)}"
    )


def _unchanged_listings(
    con: duckdb.DuckDBPyConnection, checks: list[Check], before: Listing, params: CheckParams
) -> list[str]:
    """The checks that list the same units as in the previous validation, none re-checked: their stored failing rows
    are copied from it (`_copy_unchanged`)."""
    if not before:
        return []
    cap = params.max_failure_rows
    now = _listed(con, LISTED_NOW, sorted(before), cap)  # LISTED_NOW holds only listed units: the window keeps them all
    touched = {  # the checks a listed unit of which the load touched
        i
        for (i,) in con.execute(
            f"SELECT DISTINCT l.check_id FROM {LISTED_NOW} l JOIN {_SCOPED_CHECKS} c"
            f" USING (check_id) SEMI JOIN {SCOPE} s ON s.scope = c.scope AND s.unit IS NOT DISTINCT FROM l.unit"
            " WHERE list_contains(CAST(? AS VARCHAR[]), l.check_id)",
            [sorted(before)],
        ).fetchall()
    }
    same = [c.check_id for c in checks if c.check_id in before and now[c.check_id] == before[c.check_id]]
    same = [i for i in same if i not in touched]
    stored = con.execute(
        f"SELECT check_id, count(*) FROM dq_failures WHERE load_id = {int(params.previous_load_id)}"
        " AND list_contains(CAST(? AS VARCHAR[]), check_id) GROUP BY ALL",
        [same],
    ).fetchall()
    # stored under another cap otherwise
    return [str(i) for i, n in stored if int(n) == min(cap, sum(now[str(i)].values()))]


def _list_units(con: duckdb.DuckDBPyConnection, checks: list[Check]) -> None:
    """The TEMP table (check_id, scope, unit) of the listed units of each kept check (from LISTED_NOW)."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {LISTED} AS SELECT l.check_id, c.scope, l.unit"
        f" FROM {LISTED_NOW} l JOIN (SELECT unnest(?) AS check_id, unnest(?) AS scope) c USING (check_id)",
        [[c.check_id for c in checks], [_scope_name(c) for c in checks]],
    )


def _listing_params(check: Check, params: CheckParams, versions: str | None) -> CheckParams:
    """A kept check lists the rows of its listed units (their (scope, unit) in LISTED; version rows from the TEMP
    copies `versions` when given); another, the whole store's."""
    if not check.kept:
        return replace(params, scope=None)
    quoted_id = check.check_id.replace("'", "''")
    return replace(
        params,
        scope=f"(SELECT scope, unit FROM {LISTED} WHERE check_id = '{quoted_id}')",
        shared_scope=f"(SELECT DISTINCT scope, unit FROM {LISTED})",  # what the consistency checks list, built once
        listed_versions=versions,
    )


LISTED_ROWS = "_dq_listed_rows"  # TEMP: the failing rows a validation stores in dq_failures (FAILURE_COLUMNS)
_LISTED_ROWS_COLUMNS = "check_id, table_name, child_id, source_file, sheet, row_number, value, problem"


_PROBLEMS = "(SELECT unnest(?) AS check_id, unnest(?) AS problem)"  # parameters: _problem_params


def _problem_params(checks: list[Check]) -> list[list[str]]:
    return [[c.check_id for c in checks], [c.problem for c in checks]]


def _copy_unchanged(con: duckdb.DuckDBPyConnection, checks: list[Check], params: CheckParams) -> None:
    """Copy the previous validation's stored failing rows of these checks into the run's listed rows (one statement)."""
    if not checks:
        return
    con.execute(
        f"INSERT INTO {LISTED_ROWS} SELECT f.check_id, f.table_name, f.child_id, f.source_file, f.sheet, f.row_number,"
        f" f.value, p.problem FROM dq_failures f JOIN {_PROBLEMS} p USING (check_id)"
        f" WHERE f.load_id = {int(params.previous_load_id)}",
        _problem_params(checks),
    )


def _list_rows(con: duckdb.DuckDBPyConnection, checks: list[Check], params: CheckParams) -> None:
    """Append the failing rows each check lists to the run's listed rows: those of its first failing units, at most
    `max_failure_rows`.

    The Great Expectations checks' rows come from one statement (a UNION ALL of each check's first rows),
    the SQL checks' one check at a time (some build TEMP tables first).
    """
    from expectations.sql_checks import copy_listed_versions, insert_listed_rows

    cap = params.max_failure_rows
    _list_units(con, [c for c in checks if c.kept])
    ge = [c for c in checks if c.ge is not None]
    if ge:
        sources = _listed_sources(con, ge, params)
        parts = [
            f"SELECT * FROM (SELECT '{c.check_id}' AS check_id, * FROM"
            f" ({predicates.failing_rows_sql(c, params, source=_listed_of(c, sources[c.table]))})"
            f" ORDER BY {ORDER} LIMIT {int(cap)})"
            for c in ge
        ]
        con.execute(
            f"INSERT INTO {LISTED_ROWS} SELECT {_LISTED_ROWS_COLUMNS} FROM ({' UNION ALL '.join(parts)})"
            f" JOIN {_PROBLEMS} USING (check_id) ORDER BY check_id, {ORDER}",
            _problem_params(ge),
        )
        for source in sources.values():
            con.execute(f"DROP TABLE IF EXISTS {source}")
    sql = [c for c in checks if c.ge is None]
    versions = copy_listed_versions(con, [c for c in sql if c.kept], LISTED)  # dropped with the shared tables
    for check in sql:
        insert_listed_rows(con, check, _listing_params(check, params, versions), ORDER, cap, LISTED_ROWS)


def _listed_sources(con: duckdb.DuckDBPyConnection, ge: list[Check], params: CheckParams) -> dict[str, str]:
    """Per table, a TEMP table of the rows of every unit a GE check of it lists (one scan of the table, not one per
    check; frames.checked_rows); table -> its name."""
    sources = {}
    for table in dict.fromkeys(c.table for c in ge):
        checks = [c for c in ge if c.table == table]
        assert all(c.kept for c in checks), "Great Expectations checks are kept per unit"
        units = (
            f"(SELECT DISTINCT scope, unit FROM {LISTED} WHERE check_id IN ({quoted([c.check_id for c in checks])}))"
        )
        sources[table] = frames.checked_rows(con, table, checks, replace(params, scope=units), f"_dq_listed_{table}")
    return sources


def _listed_of(check: Check, source: str) -> str:
    """The rows of `source` (a table's rows of listed units) in the units `check` lists."""
    unit = unit_column(check.table)
    return (
        f"(SELECT _r.* FROM {source} _r SEMI JOIN {LISTED} _l ON _l.check_id = {quoted([check.check_id])}"
        f" AND _r.{unit} IS NOT DISTINCT FROM _l.unit)"
    )


def list_failures(
    con: duckdb.DuckDBPyConnection,
    table: str,
    checks: list[Check],
    params: CheckParams,
    listed_before: Listing | None = None,
) -> str:
    """The failing rows stored in dq_failures, into a TEMP table (its name): per failing check, up to
    `max_failure_rows` rows of its first failing units (`table` holds the failing rows per unit), with the problem.
    A check re-run on the touched rows whose listed units are the same as before and were not touched keeps the
    previous validation's rows (`listed_before`)."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {LISTED_ROWS} AS SELECT {_LISTED_ROWS_COLUMNS} FROM dq_failures WHERE false"
    )
    counts = _kept_counts(con, table)
    failing = [c for c in checks if counts.get(c.check_id, 0)]
    _list_now(con, table, failing, params.max_failure_rows)
    unchanged = set(_unchanged_listings(con, checks, listed_before or {}, params))
    _copy_unchanged(con, [c for c in failing if c.check_id in unchanged], params)
    _list_rows(con, [c for c in failing if c.check_id not in unchanged], params)
    for temp in (LISTED, LISTED_NOW):
        con.execute(f"DROP TABLE IF EXISTS {temp}")
    drop_shared(con)  # built for this listing's units
    return LISTED_ROWS


def capped_failures(
    con: duckdb.DuckDBPyConnection,
    table: str,
    checks: list[Check],
    params: CheckParams,
    listed_before: Listing | None = None,
) -> pd.DataFrame:
    """The failing rows `list_failures` lists, as a frame (dq_failures columns but the load)."""
    listed = list_failures(con, table, checks, params, listed_before)
    columns = ["table_name", "child_id", "source_file", "sheet", "row_number", "value", "check_id", "problem"]
    out = con.sql(f"SELECT {', '.join(columns)} FROM {listed}").to_arrow_table().to_pandas()
    con.execute(f"DROP TABLE {listed}")
    out["row_number"] = out["row_number"].astype("Int64")
    return out[columns]
