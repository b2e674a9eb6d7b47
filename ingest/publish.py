"""What happens to a working copy of the store before it is published: canonical rebuild, derived tables, validation."""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingest.merge import rebuild_canonical


def finalise(
    con: duckdb.DuckDBPyConnection,
    load_id: int | None,
    validate: bool = True,
    data_docs_dir: Path | None = None,
) -> None:
    """Bring every table that depends on the versions up to date, then run the data quality suites."""
    from store.derive import build_derived

    rebuild_canonical(con)
    build_derived(con)
    if validate:
        from expectations.runner import validate_store

        validate_store(con, load_id, data_docs_dir=data_docs_dir)
