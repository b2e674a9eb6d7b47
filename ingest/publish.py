"""What happens to a working copy of the store before it is published: canonical rebuild, derived tables, validation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from ingest.merge import rebuild_canonical


def finalise(
    con: duckdb.DuckDBPyConnection,
    load_id: int | None,
    validate: bool = True,
    data_docs_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> None:
    """Bring every table that depends on the versions up to date, then run the data quality suites."""
    from store.derive import build_derived

    say = progress or (lambda _msg: None)
    say("merging versions")
    rebuild_canonical(con)
    say("deriving tables for the metrics")
    build_derived(con)
    if validate:
        from expectations.runner import validate_store

        say("running the data quality checks")
        validate_store(con, load_id, data_docs_dir=data_docs_dir)
