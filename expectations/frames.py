"""The data frames Great Expectations validates: canonical table columns plus derived columns, taken out of DuckDB as Arrow.

A derived column is worked out in SQL where the check needs arithmetic GE cannot do on a
frame (working days from the calendar, 40 weeks before birth, the ethnicity category); the
failing-row queries (predicates.py) select from the same SQL, so both engines see one definition.

Two dtype choices keep GE fast at national scale. Dates and timestamps come out as nanosecond
timestamps, the dtype GE compares vectorised (others go through a Python function per value).
Coded text (sex, ethnicity, sources, needs...) comes out dictionary-encoded (a DuckDB ENUM of the
values present, so invalid codes are kept), i.e. a pandas categorical: GE filters the whole
frame for every expectation on a column with missing values, and copying small integer codes
costs far less than copying strings.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pandas as pd

from expectations.model import Check, CheckParams, spec_columns, unit_column
from store.schema import ENTITIES, PROVENANCE
from store.sql import ethnicity_category_sql, quoted


def sql_date(value: object) -> str:
    """A DATE literal for a date computed by our own code (never user input)."""
    return f"DATE '{value}'"


ETHNICITY_CATEGORY_SQL = ethnicity_category_sql("t.ethnicity")
"""known / REFU / NOBT / missing / invalid, as the store's ethnicity_category macro (store.sql)."""


PLAUSIBLE_UNBORN_DAYS = 280
"""A date of birth may be an expected date up to 40 weeks after the extract."""

_LATEST_BIRTH = f"CAST(t.as_of + INTERVAL {PLAUSIBLE_UNBORN_DAYS} DAY AS DATE)"

# table -> derived column -> SQL expression over the canonical table aliased `t` (and JOINS below).
# Bounds use each row's own extract date (`as_of`): a date after the extract it came from is impossible.
DERIVED: dict[str, dict[str, Callable[[CheckParams], str]]] = {
    "contacts": {"latest_birth_date": lambda p: _LATEST_BIRTH},
    "referrals": {
        "latest_birth_date": lambda p: _LATEST_BIRTH,
        "earliest_referral_date": lambda p: "CAST(t.date_of_birth - INTERVAL 280 DAY AS DATE)",
        "ethnicity_category": lambda p: ETHNICITY_CATEGORY_SQL,
    },
    "assessments": {
        "latest_birth_date": lambda p: _LATEST_BIRTH,
        # the referral of the assessment's episode: only the CIN census gives it, and a later Annex A
        # version of the same assessment (which wins the merge) does not, so take it from any version
        "episode_referral_date": lambda p: "coalesce(t.referral_date, census.referral_date)",
        "working_days_open": lambda p: (
            "CASE WHEN t.authorised_date IS NULL THEN c_as_of.working_day_index - c_start.working_day_index END"
        ),
    },
    "cin_episodes": {"latest_birth_date": lambda p: _LATEST_BIRTH},
    # the day a recording was entered: compared with dates, it needs no time of day
    "recordings": {"entered_on": lambda p: "CAST(t.entered_at AS DATE)"},
}

# Working days come from the store's calendar: idx(extract date) - idx(start) (store/calendar.py).
# The episode's referral comes from the assessment's own versions: one child's rows, so a load's run
# reads only the versions of the children it touched.
JOINS: dict[str, Callable[[CheckParams], str]] = {
    "assessments": lambda p: (
        "LEFT JOIN calendar c_start ON c_start.day = t.start_date"
        " LEFT JOIN calendar c_as_of ON c_as_of.day = t.as_of"
        " LEFT JOIN (SELECT child_id, start_date, max(referral_date) AS referral_date"
        f"            FROM {p.rows('assessments_versions')} WHERE referral_date IS NOT NULL"
        "            GROUP BY child_id, start_date) census"
        "   ON census.child_id = t.child_id AND census.start_date = t.start_date"
    ),
}

_TEMPORAL = ("DATE", "TIMESTAMP")


def column_types(table: str) -> dict[str, str]:
    """SQL type of every column of a canonical table (entity columns and provenance)."""
    return {c.name: c.type for c in list(ENTITIES[table].columns) + list(PROVENANCE)}


def source_sql(table: str, params: CheckParams) -> str:
    """SELECT of every column of a canonical table plus its derived columns (the checks' common source): the whole
    table, or its rows in the run's scope (what a load touched, `CheckParams.rows`)."""
    derived = "".join(f", {expr(params)} AS {name}" for name, expr in DERIVED.get(table, {}).items())
    joins = JOINS[table](params) if table in JOINS else ""
    return f"SELECT t.*{derived} FROM {params.rows(table)} t {joins}".rstrip()


def rows_from(table: str, params: CheckParams, source: str | None = None) -> str:
    """FROM item of a table's rows for the checks: `source` (a TEMP table of the run's rows, `run_rows`) when given,
    else the table's source SQL (`source_sql`) as a subquery."""
    return source or f"({source_sql(table, params)})"


def _copy_rows(con: duckdb.DuckDBPyConnection, table: str, params: CheckParams, name: str, columns: list[str]) -> str:
    """Work out once, into the TEMP table `name`, the `columns` (duplicates once) of a table's source SQL (its joins
    and scope). Its name."""
    wanted = dict.fromkeys(columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {', '.join(wanted)} FROM ({source_sql(table, params)})")
    return name


def frame_columns(checks: list[Check]) -> list[str]:
    """Columns the GE checks of one table read, in first-use order."""
    seen: dict[str, None] = {}
    for check in checks:
        if check.ge is not None:
            for col in spec_columns(check.ge):
                seen.setdefault(col, None)
    return list(seen)


# pandas' nanosecond timestamps hold 1677-09-22 to 2262-04-11: a stored date outside (a typing
# slip such as 31/12/9999 loaded before the readers bounded dates) is clamped just inside, so it
# still fails the checks on dates in the future or before birth instead of failing the conversion.
FRAME_EARLIEST = "1678-01-01"
FRAME_LATEST = "2262-01-01"


def _select_expr(table: str, column: str) -> str:
    base = column_types(table).get(column, "")
    is_date = base in _TEMPORAL or column.endswith("_date") or column == "entered_on"
    if not is_date:
        return column
    value = f"CAST({column} AS TIMESTAMP)"
    bounded = (
        f"CASE WHEN {value} < TIMESTAMP '{FRAME_EARLIEST}' THEN TIMESTAMP '{FRAME_EARLIEST}'"
        f" WHEN {value} > TIMESTAMP '{FRAME_LATEST}' THEN TIMESTAMP '{FRAME_LATEST}' ELSE {value} END"
    )
    return f"CAST({bounded} AS TIMESTAMP_NS) AS {column}"


MAX_CATEGORIES = 5000
"""A text column with more distinct values than this stays plain text (codes have tens)."""


def _enum(values: list[str]) -> str:
    return f"ENUM({quoted(values)})"


def frame_sql(
    table: str,
    columns: list[str],
    params: CheckParams,
    categories: dict[str, list[str]] | None = None,
    source: str | None = None,
) -> str:
    """SELECT of the columns GE needs: dates as nanosecond timestamps, coded text as ENUMs of `categories`; from
    `source` (a TEMP table of the run's rows, `run_rows`) when given, else the table's source SQL."""
    categories = categories or {}
    cols = (
        ", ".join(
            f"CAST({c} AS {_enum(categories[c])}) AS {c}" if categories.get(c) else _select_expr(table, c)
            for c in columns
        )
        or "1 AS _row"
    )
    return f"SELECT {cols} FROM {rows_from(table, params, source)}"


def text_categories(
    con: duckdb.DuckDBPyConnection, table: str, columns: list[str], params: CheckParams, source: str | None = None
) -> dict[str, list[str]]:
    """The distinct values of each text column of the frame (one scan); columns with too many are left out."""
    relation = con.sql(frame_sql(table, columns, params, source=source))
    text = [c for c, t in zip(relation.columns, relation.types) if str(t) == "VARCHAR"]
    if not text:
        return {}
    aggregates = ", ".join(f"list(DISTINCT {c}) FILTER (WHERE {c} IS NOT NULL)" for c in text)
    row = con.execute(f"SELECT {aggregates} FROM {rows_from(table, params, source)}").fetchall()[0]
    return {c: sorted(values) for c, values in zip(text, row) if values and len(values) <= MAX_CATEGORIES}


def run_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    checks: list[Check],
    params: CheckParams,
    name: str,
    also: tuple[str, ...] = (),
) -> str:
    """Work out once, into a TEMP table (`name`), the run's rows of a table (the source SQL with its joins and scope):
    the unit, the columns its GE checks read and the columns `also` (of SQL checks counted from it). The frame, its
    text categories, the failing rows per unit and those SQL checks' counts are taken from it, so the store's table
    is scanned once, not once per reader. Its name."""
    return _copy_rows(con, table, params, name, [unit_column(table), *frame_columns(checks), *also])


def load_frame(
    con: duckdb.DuckDBPyConnection, table: str, checks: list[Check], params: CheckParams, source: str | None = None
) -> pd.DataFrame:
    """The frame GE validates for one table, taken out of DuckDB as Arrow (no row loops): from `source` (`run_rows`)
    when given, else from the table's source SQL."""
    columns = frame_columns(checks)
    categories = text_categories(con, table, columns, params, source)
    arrow = con.sql(frame_sql(table, columns, params, categories, source)).to_arrow_table()
    return arrow.to_pandas(split_blocks=True, self_destruct=True)


ROW_PROVENANCE: tuple[str, ...] = ("child_id", "source_file", "sheet", "row_number")


def checked_rows(
    con: duckdb.DuckDBPyConnection, table: str, checks: list[Check], params: CheckParams, name: str
) -> str:
    """Work out once, into a TEMP table (`name`), the rows and columns a table's GE checks read for their failing rows
    (the source SQL with its joins and scope), when several checks read a few of its rows. Its name."""
    from expectations.predicates import value_columns

    values = [column for check in checks for column in value_columns(check)]
    return _copy_rows(con, table, params, name, [unit_column(table), *ROW_PROVENANCE, *frame_columns(checks), *values])
