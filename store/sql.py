"""SQL helpers every layer shares: the one value a query returns, constant lists quoted, the ethnicity category."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import duckdb

from store.codes import ETHNICITY_KNOWN, ETHNICITY_NOT_KNOWN


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> Any:
    """The first column of the first row of `sql` (an aggregate always returns one row)."""
    row = con.execute(sql, params).fetchone() if params is not None else con.execute(sql).fetchone()
    if row is None:
        raise LookupError(f"query returned no row: {sql[:80]}")
    return row[0]


def quoted(values: Iterable[str]) -> str:
    """Constant values (code lists, never user input) as comma-separated SQL string literals."""
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def ethnicity_category_sql(column: str) -> str:
    """SQL for the completeness category of a recorded ethnicity: known, REFU, NOBT, missing or invalid."""
    return (
        f"CASE WHEN {column} IS NULL OR trim({column}) = '' THEN 'missing'"
        f" WHEN {column} IN ({quoted(sorted(ETHNICITY_KNOWN))}) THEN 'known'"
        f" WHEN {column} IN ({quoted(sorted(ETHNICITY_NOT_KNOWN))}) THEN {column} ELSE 'invalid' END"
    )


def store_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The store's own tables (its main schema: not the connection's TEMP tables): one look at the catalogue."""
    return {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'"
        ).fetchall()
    }
