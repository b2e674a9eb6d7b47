"""What Data Docs call a validation: the data source after the store's file, the run after the load's files and dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

MAX_FILES_NAMED = 3


@dataclass(frozen=True)
class DocsNames:
    """Names GE writes into Data Docs (and into their folder names) instead of internal ids."""

    source: str
    run_name: str
    run_time: datetime | None


def _safe(name: str) -> str:
    """A name GE can use as a folder: no path separators."""
    return name.replace("/", "_").replace("\\", "_").strip() or "store"


def _files_label(files: list[str]) -> str:
    shown = ", ".join(files[:MAX_FILES_NAMED])
    more = len(files) - MAX_FILES_NAMED
    return f"{shown} and {more} more" if more > 0 else shown


def docs_names(con: duckdb.DuckDBPyConnection, load_id: int | None, store_name: str | None) -> DocsNames:
    """The store's file name as the data source; 'load of FILES (extract AS_OF)' as the run, at the load's time."""
    row = con.execute(
        """SELECT list(DISTINCT source_file ORDER BY source_file), max(as_of), max(loaded_at)
           FROM loads WHERE load_id = ?""",
        [load_id],
    ).fetchone()
    files, as_of, loaded_at = row if row else (None, None, None)
    source = _safe(store_name or "store")
    if not files:
        return DocsNames(source=source, run_name="checks on the store", run_time=None)
    extract = f" (extract {as_of.isoformat()})" if as_of is not None else ""
    run_time = loaded_at.astimezone() if loaded_at is not None else None  # stored as local wall time
    return DocsNames(source=source, run_name=_safe(f"load of {_files_label(files)}{extract}"), run_time=run_time)
