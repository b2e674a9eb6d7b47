"""What the dashboard's Data quality page shows, read from dq_results and dq_failures (read-only SQL, no streamlit).

Functions take a read-only connection first. Failure rows are child-level: the page must show
and offer them for download only to people whose role needs them.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from expectations.checks import REGISTRY, TABLES
from expectations.data_docs import data_docs_url as _data_docs_url
from expectations.model import CROSS_TABLE

TABLE_ORDER: tuple[str, ...] = (*TABLES, CROSS_TABLE)
FAILURE_ROW_COLUMNS: list[str] = [
    "child_id",
    "source_file",
    "sheet",
    "row_number",
    "value",
    "problem",
    "check_id",
    "table_name",
    "severity",
    "dfe_code",
]
"""The correction-at-source CSV: the first six columns are what a data quality officer needs to find and fix the row."""


def _table_rank(column: str = "table_name") -> str:
    cases = " ".join(f"WHEN '{t}' THEN {i}" for i, t in enumerate(TABLE_ORDER))
    return f"CASE {column} {cases} ELSE {len(TABLE_ORDER)} END"


def latest_validated_load(con: duckdb.DuckDBPyConnection) -> int | None:
    """The latest load id that has data quality results (None before any validation)."""
    row = con.execute("SELECT max(load_id) FROM dq_results").fetchall()[0]
    return None if row is None or row[0] is None else int(row[0])


def _load(con: duckdb.DuckDBPyConnection, load_id: int | None) -> int | None:
    return latest_validated_load(con) if load_id is None else int(load_id)


def dq_summary(con: duckdb.DuckDBPyConnection, load_id: int | None = None) -> pd.DataFrame:
    """By table and severity for the latest load (or `load_id`): checks, checks_failed, failing_rows."""
    return con.execute(
        f"""SELECT table_name, severity, count(*) AS checks,
                   count(*) FILTER (WHERE NOT success) AS checks_failed,
                   coalesce(sum(unexpected_count), 0)::BIGINT AS failing_rows
            FROM dq_results WHERE load_id = ?
            GROUP BY table_name, severity
            ORDER BY {_table_rank()}, CASE severity WHEN 'error' THEN 0 ELSE 1 END""",
        [_load(con, load_id)],
    ).df()


def dq_trend(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per load and check: load_id, load (the load's date and file name, as people know it), as_of (latest
    extract date of the load), run_at, table_name, check_id, severity, success, unexpected_count,
    unexpected_percent; oldest load first."""
    return con.execute(
        f"""SELECT r.load_id, coalesce(l.load, 'load ' || r.load_id) AS load, l.as_of, r.run_at, r.table_name,
                   r.check_id, r.severity, r.success, r.unexpected_count, r.unexpected_percent
            FROM dq_results r
            LEFT JOIN (SELECT load_id, max(as_of) AS as_of,
                              strftime(CAST(max(loaded_at) AS DATE), '%Y-%m-%d') || ' ' || max(source_file) AS load
                       FROM loads GROUP BY load_id) l USING (load_id)
            ORDER BY r.load_id, {_table_rank("r.table_name")}, r.check_id"""
    ).df()


def dq_failing_checks(con: duckdb.DuckDBPyConnection, load_id: int | None = None) -> pd.DataFrame:
    """Each failing check of the latest load (or `load_id`), errors first then by rows failing:
    table_name, check_id, title, dfe_code, severity, description, expectation, element_count,
    unexpected_count, unexpected_percent, rows_stored (failing rows kept for download)."""
    frame = con.execute(
        """SELECT r.table_name, r.check_id, r.dfe_code, r.severity, r.description, r.expectation,
                   r.element_count, r.unexpected_count, r.unexpected_percent,
                   coalesce(f.rows_stored, 0)::BIGINT AS rows_stored
            FROM dq_results r
            LEFT JOIN (SELECT load_id, check_id, count(*) AS rows_stored FROM dq_failures GROUP BY ALL) f
                 USING (load_id, check_id)
            WHERE r.load_id = ? AND NOT r.success
            ORDER BY CASE r.severity WHEN 'error' THEN 0 ELSE 1 END, r.unexpected_count DESC, r.check_id""",
        [_load(con, load_id)],
    ).df()
    frame.insert(2, "title", frame["check_id"].map(lambda i: REGISTRY[i].title if i in REGISTRY else i))
    return frame


def dq_failure_rows(
    con: duckdb.DuckDBPyConnection, check_id: str | None = None, load_id: int | None = None
) -> pd.DataFrame:
    """The stored failing rows of the latest load (or `load_id`), of one check or all: the correction CSV."""
    return con.execute(
        f"""SELECT {", ".join("f." + c if c not in ("severity", "dfe_code") else "r." + c for c in FAILURE_ROW_COLUMNS)}
            FROM dq_failures f JOIN dq_results r USING (load_id, check_id)
            WHERE f.load_id = ? AND (CAST(? AS VARCHAR) IS NULL OR f.check_id = ?)
            ORDER BY CASE r.severity WHEN 'error' THEN 0 ELSE 1 END, f.check_id, f.source_file, f.sheet,
                     f.row_number""",
        [_load(con, load_id), check_id, check_id],
    ).df()


def data_docs_url(store: str | None = None) -> str | None:
    """Where the dashboard links to the Data Docs of `store` (default the current store; None when not built)."""
    return _data_docs_url(store)
