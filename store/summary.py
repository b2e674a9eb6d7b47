"""Publish-time summaries the dashboard's first view reads (filter choices, rows per event date, conflicting ethnicities), rebuilt at every publish.

Each summary is defined once, as the SQL of its full computation: `build_summaries` stores its
result at publish, and `relation` gives a reader either the stored table (when it was built for
the store's latest load) or the same SQL as a subquery (a store published by an older build), so
an answer is the same with or without the summary.

Tables and their grain:

- `summary_staff`: one row per (team, worker) pair in the referral, assessment, recording and
  closure facts (either may be NULL).
- `summary_sources`: one row per referral or contact source in the referral and contact facts.
- `summary_event_days`: one row per canonical table, event date column and date (NULL included): its
  rows (the data spans, coverage by month and plausible spans are read from it).
- `summary_ethnicity_conflicts`: one row per child recorded with more than one known ethnicity code.
  It depends on each child's own records alone, so a publish that knows which children it touched
  (the merge's changes) rebuilds only their rows when the summaries were built for the load before; only
  their Annex A and census records at that (case recordings carry no ethnicity: a child touched by
  recordings alone keeps its list of recorded codes, store/derive.py build_children).
- `summary_built`: one row: the load the summaries were built for (the latest in `loads`).
"""

from __future__ import annotations

import duckdb

from store.codes import ETHNICITY_GROUPS
from store.events import EVENT_DATE_COLUMNS
from store.sql import quoted, store_tables

_STAFF_TABLES = ("referral_facts", "assessment_facts", "recording_facts", "closure_facts")


# The known codes are those of store.codes.ETHNICITY_GROUPS (`ethnicity_codes` gives them category 'known'). A
# child's list holds each code once (store/derive.py build_children), so its known codes are counted by filtering
# the list in place, not by unnesting it, joining the codes and grouping again (3.5x less CPU at national scale,
# BENCHMARKS.md issue 13 seventh pass). A child with one code or none is passed over first.
_KNOWN_CODES = quoted(sorted(ETHNICITY_GROUPS))
_CONFLICTS_SQL = (
    "SELECT child_id FROM {children} WHERE len(ethnicities_recorded) > 1"
    f" AND len(list_filter(ethnicities_recorded, lambda code: code IN ({_KNOWN_CODES}))) > 1"
)


def _event_days_sql() -> str:
    return " UNION ALL ".join(
        f"SELECT '{table}' AS table_name, '{column}' AS column_name, {column} AS day, CAST(count(*) AS BIGINT) AS rows"
        f" FROM {table} GROUP BY {column}"
        for table, columns in EVENT_DATE_COLUMNS.items()
        for column in columns
    )


SUMMARIES: dict[str, tuple[str, str]] = {
    # table -> (grain, the SQL of its full computation over the derived and canonical tables)
    "summary_staff": (
        "one row per (team, worker) pair in the referral, assessment, recording and closure facts",
        "SELECT team, worker FROM ("
        + " UNION ALL ".join(f"SELECT team, worker FROM {t}" for t in _STAFF_TABLES)
        + ") GROUP BY team, worker",
    ),
    "summary_sources": (
        "one row per referral or contact source in the referral and contact facts",
        "SELECT referral_source AS source FROM referral_facts WHERE referral_source IS NOT NULL"
        " UNION SELECT contact_source FROM contact_facts WHERE contact_source IS NOT NULL",
    ),
    "summary_event_days": (
        "one row per canonical table, event date column and date (NULL included): its rows",
        _event_days_sql(),
    ),
    "summary_ethnicity_conflicts": (
        "one row per child recorded with more than one known ethnicity code",
        _CONFLICTS_SQL.format(children="children"),
    ),
}
_PER_CHILD = ("summary_ethnicity_conflicts",)  # rows that depend on each child's own records alone
BUILT = "summary_built"


def build_summaries(
    con: duckdb.DuckDBPyConnection, changes: str | None = None, new_loads: list[int] | None = None
) -> None:
    """Bring every summary up to date from the derived tables (runs at every publish, after the derived tables).

    With `changes` (the merge's table of touched children, ``ingest.merge.CHANGES``) and the
    `new_loads` of this publish, the per-child summaries rebuild only the touched children's rows
    when they were built for the load before this publish; everything else is rebuilt in full.
    """
    incremental = changes is not None and bool(new_loads) and _built_for_load_before(con, new_loads or [])
    for table, (_, sql) in SUMMARIES.items():
        if incremental and table in _PER_CHILD:
            listed = f"child_id IN (SELECT child_id FROM {changes} WHERE entity <> 'recordings')"
            con.execute(f"DELETE FROM {table} WHERE {listed}")
            con.execute(
                f"INSERT INTO {table} {_CONFLICTS_SQL.format(children=f'(SELECT * FROM children WHERE {listed})')}"
            )
        else:
            con.execute(f"CREATE OR REPLACE TABLE {table} AS {sql}")
    con.execute(f"CREATE OR REPLACE TABLE {BUILT} AS SELECT max(load_id) AS load_id FROM loads")


def _built_for_load_before(con: duckdb.DuckDBPyConnection, new_loads: list[int]) -> bool:
    """True when every summary exists and was built for the latest load before `new_loads`."""
    present = store_tables(con)
    if not {*SUMMARIES, BUILT} <= present:
        return False
    row = con.execute(  # a join of two one-row tables: scalar subqueries take several times longer to plan
        f"SELECT b.load_id IS NOT DISTINCT FROM l.before FROM {BUILT} b,"
        " (SELECT max(load_id) AS before FROM loads WHERE NOT list_contains(?, load_id)) l",
        [new_loads],
    ).fetchone()
    return bool(row and row[0])


def is_fresh(con: duckdb.DuckDBPyConnection) -> bool:
    """True when every summary exists and was built for the store's latest load."""
    if not {*SUMMARIES, BUILT} <= store_tables(con):
        return False
    row = con.execute(
        f"SELECT b.load_id IS NOT DISTINCT FROM l.latest FROM {BUILT} b, (SELECT max(load_id) AS latest FROM loads) l"
    ).fetchone()
    return bool(row and row[0])


def relation(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """What a query reads for a summary: the stored table when fresh, else its full computation as a subquery."""
    return table if is_fresh(con) else f"({SUMMARIES[table][1]})"
