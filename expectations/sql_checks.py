"""Checks that run as SQL over the store, reported in the same form as the Great Expectations ones.

They are the checks GE cannot express on one table's data frame (across rows or tables, on list
columns, on the rows that could not be loaded), and the key and child-id checks, which DuckDB
answers in seconds where pandas needs half a minute on 20 M string keys. Each is an `SqlSpec`:
a SELECT of the failing rows (table_name, child_id, source_file, sheet, row_number, value) and
a SELECT of the number of rows checked; `run_sql_check` counts the failures exactly and keeps
`limit` rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import duckdb
import pandas as pd

from expectations.model import CROSS_TABLE, Check, CheckParams, SqlSpec, SqlText, unit_column
from store.codes import DISABILITY_CODES, ETHNICITY_KNOWN
from store.schema import ENTITIES
from store.sql import quoted

FAILING_COLUMNS: tuple[str, ...] = ("table_name", "child_id", "source_file", "sheet", "row_number", "value", "unit")
ETHNICITY_TABLES: tuple[str, ...] = ("contacts", "referrals", "assessments", "cin_episodes")


def _provenance(table: str, alias: str = "") -> str:
    a = f"{alias}." if alias else ""
    unit = unit_column(table.removesuffix("_versions"))
    return f"'{table}' AS table_name, {a}{unit} AS unit, {a}child_id, {a}source_file, {a}sheet, {a}row_number"


def _rows_of(table: str) -> SqlText:
    return lambda p: f"SELECT count(*) FROM {table}"


# --- Duplicated keys: groups counted once into a TEMP table, rows joined back only if any ----------


def _duplicates(
    table: str, source: SqlText, group: tuple[str, ...], checked: SqlText, columns: tuple[str, ...] | None = None
) -> SqlSpec:
    """Every row of `source` whose `group` columns (the key, maybe within a load) repeat: each such row fails.
    `columns`: `SqlSpec.columns`, when `source` is the table's rows."""
    cols, name = ", ".join(group), f"dq_{table}_repeated_keys"
    match = " AND ".join(f"s.{k} IS NOT DISTINCT FROM d.{k}" for k in group)
    key = ENTITIES[table].natural_key
    shown = " || '; ' || ".join(f"coalesce(CAST(s.{k} AS VARCHAR), 'missing')" for k in key)
    return SqlSpec(
        temp=(name, lambda p: f"SELECT {cols}, count(*) AS n FROM ({source(p)}) GROUP BY {cols} HAVING count(*) > 1"),
        rows=lambda p: (
            f"SELECT {_provenance(table, 's')}, {shown} || ' (' || d.n || ' rows)' AS value"
            f" FROM ({source(p)}) s JOIN {name} d ON {match}"
        ),
        count=lambda p: f"SELECT coalesce(sum(n), 0) FROM {name}",
        failing_by_unit=lambda p: f"SELECT {unit_column(table)} AS unit, sum(n) AS failing FROM {name} GROUP BY ALL",
        checked=checked,
        columns=columns,
    )


def duplicate_keys(table: str) -> SqlSpec:
    """Stored rows sharing their natural key with another stored row (its counts read the key alone: `columns`)."""
    key = ENTITIES[table].natural_key
    return _duplicates(table, lambda p: f"SELECT * FROM {p.rows(table)}", key, _rows_of(table), columns=key)


def missing_child_id(table: str) -> SqlSpec:
    """Stored rows without a child id."""
    shown = " || '; ' || ".join(
        f"coalesce(CAST({k} AS VARCHAR), 'missing')" for k in ENTITIES[table].natural_key if k != "child_id"
    )
    return SqlSpec(
        rows=lambda p: (
            f"SELECT {_provenance(table)}, 'no child id; ' || {shown} AS value FROM {p.rows(table)}"
            " WHERE child_id IS NULL"
        ),
        checked=_rows_of(table),
    )


# --- Dates that did not parse (readers flag them '<column>_unparsed' and store NULL) --------------


def unparsed_dates(table: str) -> SqlSpec:
    """Rows whose flags say a date column held text that is not a date."""
    columns = [c.name for c in ENTITIES[table].columns if c.type in ("DATE", "TIMESTAMP")]
    flags = quoted([f"{c}_unparsed" for c in columns])
    bad = f"list_filter(flags, lambda f: f IN ({flags}))"
    return SqlSpec(
        rows=lambda p: (
            f"SELECT {_provenance(table)},"
            f" array_to_string(list_transform({bad}, lambda f: replace(f, '_unparsed', '')), ', ')"
            f" || ' could not be read as a date' AS value FROM {p.rows(table)} WHERE len({bad}) > 0"
        ),
        # the same rows, found without a lambda per row: DuckDB then filters the table before the scope's join
        count=lambda p: f"SELECT count(*) FROM {p.rows(table)} WHERE list_has_any(flags, [{flags}])",
        checked=_rows_of(table),
    )


# --- File-level checks: the files loaded since the previous validation -------------------------

_RAW_CHILD_ID = (
    "json_extract_string(r.raw, '$.\"' || list_filter(json_keys(r.raw),"
    " lambda k: regexp_matches(lower(k), 'child.*id|lachildid'))[1] || '\"')"
)


def _new_versions(table: str) -> SqlText:
    return lambda p: f"SELECT * FROM {ENTITIES[table].versions_table} WHERE {p.is_new_load('load_id')}"


def _new_rejects(table: str) -> SqlText:
    return lambda p: f"SELECT * FROM rejects WHERE entity = '{table}' AND {p.is_new_load('load_id')}"


def rejected_rows(table: str) -> SqlSpec:
    """Rows meant for `table` in the new files that are in `rejects` (child id as written in the file, if any)."""
    return SqlSpec(
        rows=lambda p: (
            f"SELECT r.entity AS table_name, NULL AS unit, {_RAW_CHILD_ID} AS child_id, r.source_file, r.sheet,"
            f" r.row_number, r.reason AS value FROM ({_new_rejects(table)(p)}) r"
        ),
        checked=lambda p: (
            f"SELECT (SELECT count(*) FROM ({_new_versions(table)(p)}))"
            f" + (SELECT count(*) FROM ({_new_rejects(table)(p)}))"
        ),
    )


def duplicate_rows(table: str) -> SqlSpec:
    """Every row of a new file sharing its natural key with another row of the same file (a load is one file)."""
    checked = _new_versions(table)
    return _duplicates(
        table, checked, ("load_id", *ENTITIES[table].natural_key), lambda p: f"SELECT count(*) FROM ({checked(p)})"
    )


# --- Annex A 'Number of Referrals in Last 12 Months' against the referrals themselves ---------


def _referral_counts(p: CheckParams) -> str:
    """Annex A rows whose 12-month look-back the store fully holds, with the number of referrals found.

    The reported number counts the child's referrals in the 12 calendar months before their
    latest referral (as known to the extract the row came from), the latest itself excluded.
    """
    referrals = p.rows("referrals")  # a child's rows are compared with that child's referrals only
    return f"""
        WITH reported AS (
            SELECT child_id, referral_date, referrals_last_12m, as_of, source_file, sheet, row_number
            FROM {referrals} WHERE referrals_last_12m IS NOT NULL
        ), latest AS (
            SELECT w.child_id, w.as_of, max(x.referral_date) AS latest_referral
            FROM (SELECT DISTINCT child_id, as_of FROM reported) w
            JOIN {referrals} x ON x.child_id = w.child_id AND x.referral_date <= w.as_of
            GROUP BY w.child_id, w.as_of
        ), counted AS (
            SELECT l.child_id, l.as_of, l.latest_referral, count(x.referral_date) AS found
            FROM latest l LEFT JOIN {referrals} x ON x.child_id = l.child_id
                 AND x.referral_date >= CAST(l.latest_referral - INTERVAL 12 MONTH AS DATE)
                 AND x.referral_date < l.latest_referral
            GROUP BY l.child_id, l.as_of, l.latest_referral
        )
        SELECT reported.*, c.found, c.latest_referral
        FROM reported JOIN counted c USING (child_id, as_of)
        WHERE CAST(c.latest_referral - INTERVAL 12 MONTH AS DATE) >= ({EARLIEST_REFERRAL})
    """


EARLIEST_REFERRAL = "SELECT min(referral_date) FROM referrals"
"""The whole store's earliest referral: the one thing the referral count reads beyond the child's own rows."""


REFERRAL_COUNT = SqlSpec(
    temp=("dq_referral_counts", _referral_counts),
    rows=lambda p: (
        f"SELECT {_provenance('referrals')}, 'reported ' || referrals_last_12m || ', referrals found '"
        " || found || ' in the 12 months before ' || strftime(latest_referral, '%Y-%m-%d') AS value"
        " FROM dq_referral_counts WHERE referrals_last_12m <> found"
    ),
    checked=lambda p: "SELECT count(*) FROM dq_referral_counts",
    checked_by_unit=lambda p: "SELECT child_id AS unit, count(*) AS checked FROM dq_referral_counts GROUP BY ALL",
    depends_on=EARLIEST_REFERRAL,
)


# --- Codes in list columns -----------------------------------------------------------------

_BAD_DISABILITIES = (
    f"list_filter(disabilities, lambda d: d IS NOT NULL AND d NOT IN ({quoted(tuple(DISABILITY_CODES))}))"
)
INVALID_DISABILITIES = SqlSpec(
    rows=lambda p: (
        f"SELECT {_provenance('cin_episodes')}, array_to_string({_BAD_DISABILITIES}, ', ') AS value"
        f" FROM {p.rows('cin_episodes')} WHERE len({_BAD_DISABILITIES}) > 0"
    ),
    checked=_rows_of("cin_episodes"),
)


# --- 8820: a child's episodes do not overlap ---------------------------------------------------

OVERLAPPING_EPISODES = SqlSpec(
    rows=lambda p: (
        f"SELECT {_provenance('cin_episodes')}, 'start ' || strftime(start_date, '%Y-%m-%d') || '; closure '"
        " || coalesce(strftime(closure_date, '%Y-%m-%d'), 'none (open)') || '; next episode starts '"
        " || strftime(next_start, '%Y-%m-%d') AS value"
        " FROM (SELECT *, lead(start_date) OVER (PARTITION BY child_id ORDER BY start_date) AS next_start"
        f"       FROM {p.rows('cin_episodes')} WHERE child_id IS NOT NULL AND start_date IS NOT NULL)"
        " WHERE next_start IS NOT NULL AND (closure_date IS NULL OR closure_date > next_start)"
    ),
    checked=_rows_of("cin_episodes"),
)


# --- A child's ethnicity, sex and date of birth consistent across every version of every record -------

_KNOWN = f"ethnicity IN ({quoted(sorted(ETHNICITY_KNOWN))}) AND child_id IS NOT NULL"
_SEX_RECORDED = "sex IN ('M', 'F')"  # U (not known, indeterminate) then F is a gap filled, not a contradiction
# An expected date of birth (CIN census ExpectedPersonBirthDate, unborn child) is not compared with the actual one.
_BIRTH_RECORDED = "date_of_birth IS NOT NULL AND NOT list_contains(coalesce(flags, []), 'date_of_birth_expected')"
_ATTRIBUTES: dict[str, tuple[str, str]] = {  # prefix -> (the value compared, as text where not a code; rows it counts)
    "ethnicity": ("ethnicity", _KNOWN),
    "sex": ("CAST(sex AS VARCHAR)", f"({_SEX_RECORDED}) AND child_id IS NOT NULL"),
    "birth": ("CAST(date_of_birth AS VARCHAR)", f"({_BIRTH_RECORDED}) AND child_id IS NOT NULL"),
}


CHILD_ATTRIBUTES = "dq_child_attributes"
"""Stored: `_child_attributes_sql` over the whole store, as of the latest validation (its state: CHILD_ATTRIBUTES_STATE)."""
CHILD_ATTRIBUTES_STATE = "dq_child_attributes_state"
"""Stored (one row): the load CHILD_ATTRIBUTES is up to date with and the name of the SQL it was built with."""
RUN_CHILD_ATTRIBUTES = "_dq_run_child_attributes"  # TEMP: the run's per-child table, kept into CHILD_ATTRIBUTES
ATTRIBUTE_COLUMNS: tuple[str, ...] = tuple(f"{a}_{part}" for a in _ATTRIBUTES for part in ("lo", "hi", "n"))


def _per_child_sql(p: CheckParams, new_only: bool = False) -> str:
    """Per child in the run's scope, over the version rows of the four child tables (only those of the loads this
    validation is the first to see when `new_only`): the lowest and highest value of each attribute and the rows
    recording one."""
    recorded = ", ".join(f"CASE WHEN {where} THEN {value} END AS {a}" for a, (value, where) in _ATTRIBUTES.items())
    new = f" AND {p.is_new_load('load_id')}" if new_only else ""
    rows = " UNION ALL ".join(
        f"SELECT child_id, {recorded} FROM {p.versions(t)} WHERE child_id IS NOT NULL{new}"
        f" AND {p.children_in_scope('child_id')}"
        for t in ETHNICITY_TABLES
    )
    per_child = ", ".join(f"min({a}) AS {a}_lo, max({a}) AS {a}_hi, count({a}) AS {a}_n" for a in _ATTRIBUTES)
    return f"SELECT child_id, {per_child} FROM ({rows}) GROUP BY child_id"


def _folds(p: CheckParams) -> bool:
    """Whether the consistency checks run on a load's touched children (not the whole store, nor a listing's children,
    whose tables are built from their version rows)."""
    return p.scope is not None and p.shared_scope is None and p.listed_versions is None


def _child_attributes_sql(p: CheckParams) -> str:
    """Per child (in the run's scope), over every version row of the four child tables: the lowest and highest value
    of each attribute compared and the rows recording one. One table serves the three consistency checks (built for
    `shared_scope` when given: the children any of them lists, from the listing's copies of their version rows).

    Each row gives each attribute's value where it records one (NULL elsewhere: a recorded value is never NULL),
    and the four tables' rows are grouped once (a third less CPU than grouping each table, then the groups).
    A load's run does not read every version of its children (a semi join of every version row by its text child
    id: 2/3 of the checks' SQL thread at national scale): version rows are only ever added, so it folds the stored
    table of the previous validation (CHILD_ATTRIBUTES, up to date with the loads before this validation's:
    `child_attributes_current`) with its children's new version rows: lowest of the lowest, highest of the highest,
    sum of the counts; and, per child, its counts in the stored table alone (`STORED_N`, for `_recording_rows`)."""
    if not _folds(p):
        return _per_child_sql(replace(p, scope=p.shared_scope, shared_scope=None) if p.shared_scope else p)
    folded = ", ".join(
        f"min({a}_lo) AS {a}_lo, max({a}_hi) AS {a}_hi, CAST(sum({a}_n) AS BIGINT) AS {a}_n" for a in _ATTRIBUTES
    )
    stored = ", ".join(f"{a}_n AS {a}_stored" for a in _ATTRIBUTES)
    new = ", ".join(f"0 AS {a}_stored" for a in _ATTRIBUTES)
    return (
        f"SELECT child_id, {folded}, {', '.join(f'CAST(sum({a}_stored) AS BIGINT) AS {a}{STORED_N}' for a in _ATTRIBUTES)}"
        f" FROM (SELECT child_id, {', '.join(ATTRIBUTE_COLUMNS)}, {stored} FROM {CHILD_ATTRIBUTES}"
        f" WHERE {p.children_in_scope('child_id')} UNION ALL SELECT *, {new} FROM ({_per_child_sql(p, new_only=True)}))"
        " GROUP BY child_id"
    )


STORED_N = "_stored_n"
"""Suffix of the folded per-child table's columns holding each attribute's rows counted in the stored table (before
the load's new version rows): what `_recording_rows` takes off the stored table's total."""


SHARED_PREFIX = "dq_shared_"


def _child_attributes_name(p: CheckParams) -> str:
    """The TEMP table of `_child_attributes_sql` for these parameters (named after its SQL: one per scope)."""
    return SHARED_PREFIX + hashlib.sha256(_child_attributes_sql(p).encode("utf-8")).hexdigest()[:16]


def attribute_consistency(attribute: str, temp: str) -> SqlSpec:
    """Children with two or more different values of an attribute (`_ATTRIBUTES`) among the version rows recording it.

    Every version of every record is compared (the `*_versions` tables), so a later extract that
    overwrote the current value hides no conflict. Each such version row fails, naming the other value.
    """
    value, where = _ATTRIBUTES[attribute]

    def rows(p: CheckParams) -> str:
        return " UNION ALL ".join(
            f"SELECT {_provenance(t)}, {value} AS recorded FROM {p.versions(t)} WHERE {where}"
            f" AND {p.children_in_scope('child_id')}"
            for t in ETHNICITY_TABLES
        )

    return SqlSpec(
        shared=(_child_attributes_name, _child_attributes_sql),
        temp=(
            temp,
            lambda p: (
                f"SELECT child_id, {attribute}_lo AS first_value, {attribute}_hi AS last_value,"
                f" {attribute}_n AS records FROM {_child_attributes_name(p)} WHERE {attribute}_lo <> {attribute}_hi"
            ),
        ),
        rows=lambda p: (
            "SELECT k.table_name, k.unit, k.child_id, k.source_file, k.sheet, k.row_number, k.recorded || ' (the"
            " child is recorded as ' || CASE WHEN k.recorded = c.first_value THEN c.last_value ELSE c.first_value"
            f" END || ' elsewhere)' AS value FROM ({rows(p)}) k JOIN {temp} c USING (child_id)"
        ),
        count=lambda p: f"SELECT coalesce(sum(records), 0) FROM {temp}",
        failing_by_unit=lambda p: f"SELECT child_id AS unit, records AS failing FROM {temp}",
        checked=lambda p: _recording_rows(attribute, p),
    )


def _recording_rows(attribute: str, p: CheckParams) -> str:
    """SELECT of the version rows recording the attribute in the whole store: counted in the tables, or in a load's
    run the stored counts of the children it did not touch plus its children's (the shared table's). The former are
    the stored table's total less its touched children's counts, which the fold carries (`STORED_N`): summing the
    stored rows of the untouched children instead found them by their text child id (an anti join of 1.4 M rows at
    national scale, once per attribute)."""
    if not _folds(p):
        where = _ATTRIBUTES[attribute][1]
        return "SELECT " + " + ".join(f"(SELECT count(*) FROM {t}_versions WHERE {where})" for t in ETHNICITY_TABLES)
    n, shared = f"coalesce(sum({attribute}_n), 0)", _child_attributes_name(p)
    return (  # the stored table's rows of the untouched children: its total less the touched children's stored rows
        f"SELECT (SELECT {n} FROM {CHILD_ATTRIBUTES}) - (SELECT coalesce(sum({attribute}{STORED_N}), 0) FROM {shared})"
        f" + (SELECT {n} FROM {shared})"
    )


def reads_child_attributes(check: Check) -> bool:
    """Whether a check reads the per-child table of the consistency checks (`_child_attributes_sql`)."""
    spec = check.sql
    return spec is not None and spec.shared is not None and spec.shared[1] is _child_attributes_sql


def child_attributes_definition(p: CheckParams) -> str:
    """What the stored per-child table is built with: the name of the whole store's per-child table (a hash of its
    SQL)."""
    return _child_attributes_name(replace(p, scope=None, shared_scope=None, listed_versions=None, copied=()))


def child_attributes_current(con: duckdb.DuckDBPyConnection, p: CheckParams) -> bool:
    """Whether the stored per-child table holds every version row of the loads up to the previous validation's (and
    none after), by the current SQL: a load's run may then fold it with its new version rows."""
    try:
        state = con.execute(f"SELECT load_id, definition FROM {CHILD_ATTRIBUTES_STATE}").fetchall()
    except duckdb.CatalogException:  # a store made before the table was kept
        return False
    return state == [(p.previous_load_id, child_attributes_definition(p))]


def keep_run_attributes(con: duckdb.DuckDBPyConnection, checks: list[tuple[Check, CheckParams]]) -> None:
    """Before the run's shared tables are dropped: keep its per-child table as RUN_CHILD_ATTRIBUTES (the whole
    store's when a consistency check ran on the whole store), for `keep_child_attributes`."""
    run = [p for check, p in checks if reads_child_attributes(check)]
    if not run:
        return
    name = _child_attributes_name(next((p for p in run if p.scope is None), run[0]))
    con.execute(f"DROP TABLE IF EXISTS {RUN_CHILD_ATTRIBUTES}")
    if temp_table_exists(con, name):
        con.execute(f"ALTER TABLE {name} RENAME TO {RUN_CHILD_ATTRIBUTES}")


def keep_child_attributes(
    con: duckdb.DuckDBPyConnection, checks: list[Check], scoped: frozenset[str], load_id: int, p: CheckParams
) -> None:
    """Bring the stored per-child table up to date with the run's (RUN_CHILD_ATTRIBUTES, on this connection): its
    touched children's rows replaced (added when new) after a load's run, every row after a run on the whole store;
    then its state names `load_id`. Without the run's table (no consistency check run) it is marked out of date."""
    consistency = [c for c in checks if reads_child_attributes(c)]
    con.execute(f"DELETE FROM {CHILD_ATTRIBUTES_STATE}")
    if not consistency or not temp_table_exists(con, RUN_CHILD_ATTRIBUTES):
        return
    columns = ", ".join(ATTRIBUTE_COLUMNS)
    if all(c.check_id in scoped for c in consistency):
        assigned = ", ".join(f"{c} = r.{c}" for c in ATTRIBUTE_COLUMNS)
        con.execute(
            f"UPDATE {CHILD_ATTRIBUTES} SET {assigned} FROM {RUN_CHILD_ATTRIBUTES} r"
            f" WHERE {CHILD_ATTRIBUTES}.child_id = r.child_id"
        )
        con.execute(
            f"INSERT INTO {CHILD_ATTRIBUTES} SELECT child_id, {columns} FROM {RUN_CHILD_ATTRIBUTES}"
            f" ANTI JOIN {CHILD_ATTRIBUTES} k USING (child_id)"
        )
    else:
        con.execute(f"DELETE FROM {CHILD_ATTRIBUTES}")
        con.execute(f"INSERT INTO {CHILD_ATTRIBUTES} SELECT child_id, {columns} FROM {RUN_CHILD_ATTRIBUTES}")
    con.execute(f"INSERT INTO {CHILD_ATTRIBUTES_STATE} VALUES (?, ?)", [load_id, child_attributes_definition(p)])


INCONSISTENT_ETHNICITY = attribute_consistency("ethnicity", "dq_inconsistent_children")
INCONSISTENT_SEX = attribute_consistency("sex", "dq_inconsistent_sex")
INCONSISTENT_BIRTH_DATE = attribute_consistency("birth", "dq_inconsistent_birth_date")


def copy_listed_versions(con: duckdb.DuckDBPyConnection, checks: list[Check], listed: str) -> str | None:
    """When a consistency check is among `checks` (a listing's): copy once into TEMP tables the version rows of the
    children it lists (`listed`: the (check_id, scope, unit) of each listed unit), which its shared table and each
    check's failing rows then read (one scan of each `*_versions` table, not one per check and one for the shared
    table); the prefix of their names (`CheckParams.listed_versions`), dropped with the shared tables."""
    if not any(c.sql is not None and c.sql.shared for c in checks):
        return None
    prefix = f"{SHARED_PREFIX}listed_"
    for t in ETHNICITY_TABLES:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {prefix}{t}_versions AS SELECT * FROM {t}_versions"
            f" WHERE child_id IN (SELECT unit FROM {listed} WHERE scope = '{CROSS_TABLE}')"
        )
    return prefix


def drop_shared(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the TEMP tables the checks of a run shared (`SqlSpec.shared`)."""
    names = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary AND starts_with(table_name, ?)", [SHARED_PREFIX]
    ).fetchall()
    for (name,) in names:
        con.execute(f"DROP TABLE IF EXISTS {name}")


# --- Running -------------------------------------------------------------------------------


def temp_table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether this connection has a TEMP table of that name."""
    found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?", [name])
    return bool(found.fetchall()[0][0])


def run_sql_check(
    con: duckdb.DuckDBPyConnection, check: Check, params: CheckParams, limit: int
) -> tuple[int, int, pd.DataFrame]:
    """(rows checked, rows failing, up to `limit` failing rows) of one SQL check."""
    spec = check.sql
    assert spec is not None, f"{check.check_id} is not a SQL check"
    with _temp_of(con, spec, params):
        checked = int(con.execute(spec.checked(params)).fetchall()[0][0] or 0)
        rows_sql = spec.rows(params)
        count_sql = spec.count(params) if spec.count else f"SELECT count(*) FROM ({rows_sql})"
        failing = int(con.execute(count_sql).fetchall()[0][0] or 0)
        if not failing:
            return checked, 0, pd.DataFrame(columns=list(FAILING_COLUMNS))
        rows = con.sql(f"SELECT {', '.join(FAILING_COLUMNS)} FROM ({rows_sql}) LIMIT {int(limit)}")
        return checked, failing, rows.to_arrow_table().to_pandas()


@contextmanager
def _temp_of(con: duckdb.DuckDBPyConnection, spec: SqlSpec, params: CheckParams) -> Iterator[None]:
    """The check's shared TEMP table, built for the run's rows and dropped afterwards."""
    if spec.shared and not temp_table_exists(con, spec.shared[0](params)):
        # not CREATE ... IF NOT EXISTS: DuckDB plans the SELECT even when the table is there (~30 ms here)
        con.execute(f"CREATE TEMP TABLE {spec.shared[0](params)} AS {spec.shared[1](params)}")
    if spec.temp:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {spec.temp[0]} AS {spec.temp[1](params)}")
    try:
        yield
    finally:
        if spec.temp:
            con.execute(f"DROP TABLE IF EXISTS {spec.temp[0]}")


def _count_sql(spec: SqlSpec, params: CheckParams) -> str:
    return spec.count(params) if spec.count else f"SELECT count(*) FROM ({spec.rows(params)})"


def _append_by_unit(
    con: duckdb.DuckDBPyConnection, check: Check, spec: SqlSpec, params: CheckParams, failing_into: str
) -> int:
    """Append a failing check's rows, counted per unit, to `failing_into`; how many it found."""
    by_unit = (
        spec.failing_by_unit(params)
        if spec.failing_by_unit
        else f"SELECT unit, count(*) FROM ({spec.rows(params)}) GROUP BY unit"
    )
    con.execute(f"INSERT INTO {failing_into} SELECT '{check.check_id}', * FROM ({by_unit})")
    found = con.execute(f"SELECT sum(failing) FROM {failing_into} WHERE check_id = ?", [check.check_id])
    return int(found.fetchall()[0][0])


def count_sql_check(
    con: duckdb.DuckDBPyConnection, check: Check, params: CheckParams, failing_into: str, checked_into: str
) -> tuple[int | None, int]:
    """Append the failing rows of one SQL check (within `params.scope`), counted per unit, to `failing_into`;
    (rows checked, rows failing).

    Rows checked are counted on the whole store; a check counted per child (`checked_by_unit`) appends
    its counts to `checked_into` instead and returns None for them.
    """
    spec = check.sql
    assert spec is not None, f"{check.check_id} is not a SQL check"
    with _temp_of(con, spec, params):
        checked: int | None = None
        if spec.checked_by_unit is not None:
            con.execute(
                f"INSERT INTO {checked_into} SELECT '{check.check_id}', unit, checked FROM ({spec.checked_by_unit(params)})"
            )
            failing = int(con.execute(_count_sql(spec, params)).fetchall()[0][0] or 0)
        else:  # both counts in one statement
            both = con.execute(f"SELECT ({spec.checked(params)}), ({_count_sql(spec, params)})").fetchall()[0]
            checked, failing = int(both[0] or 0), int(both[1] or 0)
        return checked, _append_by_unit(con, check, spec, params, failing_into) if failing else 0


def counted_together(check: Check) -> bool:
    """Whether a SQL check's two counts can go into one statement with other checks' (it reads no TEMP table shared
    with other checks and counts the rows it checks as one number)."""
    spec = check.sql
    return spec is not None and not (spec.shared or spec.checked_by_unit)


def _with_temp(spec: SqlSpec, params: CheckParams, sql: str) -> str:
    """`sql` reading the check's own TEMP table (`SqlSpec.temp`) as a common table expression of the same name."""
    return f"WITH {spec.temp[0]} AS ({spec.temp[1](params)}) {sql}" if spec.temp else sql


def count_sql_checks(
    con: duckdb.DuckDBPyConnection, checks: list[tuple[Check, CheckParams]], failing_into: str
) -> dict[str, tuple[int, int]]:
    """`count_sql_check` of several checks that are `counted_together`: the rows each checked and each found failing,
    all in one statement (each statement costs DuckDB's planning, ~2-3 ms on a small store, more than the counts; a
    check's own TEMP table is read there as a common table expression), then the failing rows of those that fail,
    counted per unit into `failing_into` (their TEMP tables built then). (rows checked, rows failing) per check id."""
    specs = [(check, check.sql, p) for check, p in checks if check.sql is not None and counted_together(check)]
    assert len(specs) == len(checks), "only checks counted together"
    if not specs:
        return {}
    counts = ", ".join(
        f"({_with_temp(spec, p, spec.checked(p))}), ({_with_temp(spec, p, _count_sql(spec, p))})"
        for _, spec, p in specs
    )
    row = con.execute(f"SELECT {counts}").fetchall()[0]
    out: dict[str, tuple[int, int]] = {}
    for i, (check, spec, p) in enumerate(specs):
        checked, failing = int(row[2 * i] or 0), int(row[2 * i + 1] or 0)
        if failing:  # its TEMP table is built only now, for its failing rows per unit
            with _temp_of(con, spec, p):
                failing = _append_by_unit(con, check, spec, p, failing_into)
        out[check.check_id] = (checked, failing)
    return out


def insert_listed_rows(
    con: duckdb.DuckDBPyConnection, check: Check, params: CheckParams, order: str, limit: int, into: str
) -> None:
    """Append the first `limit` failing rows of one SQL check within `params.scope`, in `order`, to `into`
    (check_id, the failing row's columns, problem)."""
    spec = check.sql
    assert spec is not None, f"{check.check_id} is not a SQL check"
    with _temp_of(con, spec, params):
        con.execute(
            f"INSERT INTO {into} SELECT ?, table_name, child_id, source_file, sheet, row_number, value, ?"
            f" FROM ({spec.rows(params)}) ORDER BY {order} LIMIT {int(limit)}",
            [check.check_id, check.problem],
        )


# --- Child ids that look changed by Excel (the loaders flag them and keep them as written) ---------


def flagged_rows(table: str, flag: str, value_column: str) -> SqlSpec:
    """Rows of `table` carrying `flag`; the value shown is `value_column` as stored."""
    return SqlSpec(
        rows=lambda p: (
            f"SELECT {_provenance(table)}, CAST({value_column} AS VARCHAR) AS value FROM {p.rows(table)}"
            f" WHERE list_contains(flags, '{flag}')"
        ),
        checked=_rows_of(table),
    )
