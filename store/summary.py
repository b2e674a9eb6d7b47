"""Publish-time summaries the dashboard's first view reads (filter choices, data spans), rebuilt from the facts at every publish.

Each summary is defined once, as the SQL of its full computation: `build_summaries` stores its
result at publish, and `relation` gives a reader either the stored table (when it was built for
the store's latest load) or the same SQL as a subquery (a store published by an older build), so
an answer is the same with or without the summary.

Tables and their grain:

- `summary_staff`: one row per (team, worker) pair in the referral, assessment, recording and
  closure facts (either may be NULL).
- `summary_sources`: one row per referral or contact source in the referral and contact facts.
- `summary_spans`: one row per canonical table: its earliest and latest event date and its rows.
- `summary_built`: one row: the load the summaries were built for (the latest in `loads`).
"""

from __future__ import annotations

import duckdb

from store.events import EVENT_DATE_COLUMNS

_STAFF_TABLES = ("referral_facts", "assessment_facts", "recording_facts", "closure_facts")


def _spans_sql() -> str:
    parts = []
    for table, columns in EVENT_DATE_COLUMNS.items():
        earliest = f"least({', '.join(f'min({c})' for c in columns)})"
        latest = f"greatest({', '.join(f'max({c})' for c in columns)})"
        parts.append(
            f"SELECT '{table}' AS table_name, {earliest} AS earliest, {latest} AS latest,"
            f" CAST(count(*) AS BIGINT) AS rows FROM {table}"
        )
    return " UNION ALL ".join(parts)


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
    "summary_spans": (
        "one row per canonical table: earliest and latest event date, rows",
        _spans_sql(),
    ),
}
BUILT = "summary_built"
SUMMARY_TABLES: dict[str, str] = {
    **{table: grain for table, (grain, _) in SUMMARIES.items()},
    BUILT: "one row: the load the summaries were built for",
}


def build_summaries(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild every summary from the derived tables (runs at every publish, after the derived tables)."""
    for table, (_, sql) in SUMMARIES.items():
        con.execute(f"CREATE OR REPLACE TABLE {table} AS {sql}")
    con.execute(f"CREATE OR REPLACE TABLE {BUILT} AS SELECT max(load_id) AS load_id FROM loads")


def is_fresh(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the summaries exist and were built for the store's latest load."""
    present = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'"
        f" AND table_name = '{BUILT}'"
    ).fetchone()
    if not present or not present[0]:
        return False
    row = con.execute(
        f"SELECT (SELECT load_id FROM {BUILT}) IS NOT DISTINCT FROM (SELECT max(load_id) FROM loads)"
    ).fetchone()
    return bool(row and row[0])


def relation(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """What a query reads for a summary: the stored table when fresh, else its full computation as a subquery."""
    return table if is_fresh(con) else f"({SUMMARIES[table][1]})"
