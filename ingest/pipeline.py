"""Load extract files into the store: each file all or nothing, idempotent, overlap-safe, published atomically."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from ingest.detect import check_file
from ingest.load_checks import (
    capped_as_of,
    check_has_rows,
    check_header_date,
    check_rows_accounted,
    flag_damaged_child_ids,
    same_as_of_notice,
)
from ingest.merge import MergeCounts
from ingest.publish import finalise, prepare_checks
from ingest.readers.base import ExtractError, ReadResult, insertion_order
from ingest.submitted import check_as_submitted, record_as_submitted
from store.connection import is_disk_full, open_for_update
from store.events import EVENT_DATE_COLUMNS
from store.schema import ENTITIES, PROVENANCE
from store.sql import scalar

Progress = Callable[[str], None]


@dataclass
class LoadSummary:
    """What one file did to the store."""

    file: str
    status: str  # 'loaded' | 'unchanged' | 'failed'
    format: str | None = None
    load_id: int | None = None
    as_of: date | None = None
    rows_read: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # versions added per table
    rejected: int = 0
    superseded: int = 0  # this file's rows that lost to a later extract (or a later duplicate row)
    replaced: int = 0  # rows that were current before and that this file replaced
    unchanged: int = 0  # rows identical to the version already current
    notices: list[str] = field(default_factory=list)
    error: str | None = None


def file_sha256(path: Path) -> str:
    """Content hash of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _already_loaded(con: duckdb.DuckDBPyConnection, sha: str) -> tuple[int, str] | None:
    row = con.execute("SELECT load_id, source_file FROM loads WHERE sha256 = ? LIMIT 1", [sha]).fetchone()
    return (row[0], row[1]) if row else None


def _next_load_id(con: duckdb.DuckDBPyConnection) -> int:
    return int(scalar(con, "SELECT coalesce(max(load_id), 0) + 1 FROM loads"))


def _insert_versions(con: duckdb.DuckDBPyConnection, entity: str, load_id: int, source_file: str, as_of: date) -> int:
    """Append the staged rows as versions; the rows written (run with insertion order off: each row carries its row number)."""
    e = ENTITIES[entity]
    cols = e.column_names + [c.name for c in PROVENANCE]
    inserted = con.execute(
        f"INSERT INTO {e.versions_table} ({', '.join(cols)}) "
        f"SELECT {', '.join(e.column_names)}, ?, ?, sheet, row_number, ?, coalesce(flags, []::VARCHAR[]) "
        f"FROM staged_{entity}",
        [load_id, source_file, as_of],
    ).fetchall()
    return int(inserted[0][0])


def _insert_rejects(con: duckdb.DuckDBPyConnection, load_id: int, source_file: str) -> int:
    inserted = con.execute(
        "INSERT INTO rejects SELECT ?, ?, sheet, row_number, entity, raw, reason FROM staged_rejects",
        [load_id, source_file],
    ).fetchall()
    return int(inserted[0][0])


def _staged_event_dates(entities: list[str]) -> str | None:
    """SELECT of every event date (column d) on the staged rows, or None when these entities have none."""
    parts = [f"SELECT {col} AS d FROM staged_{e}" for e in entities for col in EVENT_DATE_COLUMNS[e]]
    return " UNION ALL ".join(parts) or None


def _event_span(con: duckdb.DuckDBPyConnection, entities: list[str]) -> tuple[date | None, date | None]:
    dates = _staged_event_dates(entities)
    row = con.execute(f"SELECT min(d), max(d) FROM ({dates})").fetchone() if dates else None
    return (row[0], row[1]) if row else (None, None)


def _drop_staged(con: duckdb.DuckDBPyConnection) -> None:
    for entity in ENTITIES:
        con.execute(f"DROP TABLE IF EXISTS staged_{entity}")
    con.execute("DROP TABLE IF EXISTS staged_rejects")


def _default_as_of(con: duckdb.DuckDBPyConnection, entities: list[str]) -> date | None:
    """Latest event date in the file, ignoring dates after today (those are errors the checks report) if it has others."""
    dates = _staged_event_dates(entities)
    if dates is None:
        return None
    return scalar(con, f"SELECT coalesce(max(d) FILTER (WHERE d <= current_date), max(d)) FROM ({dates})")


def _after_stated_date(con: duckdb.DuckDBPyConnection, result: ReadResult) -> list[str]:
    """A notice when events in the file are dated after the date its header states (the as-of used)."""
    dates = _staged_event_dates(result.entities)
    later = scalar(con, f"SELECT count(*) FROM ({dates}) WHERE d > ?", [result.as_of]) if dates else 0
    if not later:
        return [f"as-of {result.as_of}: the date the file's header states"]
    return [
        f"as-of {result.as_of}: the date the file's header states, though {later} event date(s) in the file are"
        " later; check the header's date or those dates (or give --as-of)"
    ]


def _stage_file(con: duckdb.DuckDBPyConnection, path: Path) -> ReadResult:
    from ingest.detect import read_extract  # the dispatcher chooses the reader from the content

    return read_extract(path, con)


def _load_one(con: duckdb.DuckDBPyConnection, path: Path, as_of: date | None) -> LoadSummary:
    """Stage one file (TEMP tables only), then write its versions, rejects and load record in one transaction."""
    summary = LoadSummary(file=path.name, status="loaded")
    check_file(path)  # missing, a directory, a FIFO, empty or over the size limit: refused before it is hashed
    sha = file_sha256(path)
    previous = _already_loaded(con, sha)
    if previous:
        summary.status = "unchanged"
        summary.load_id = previous[0]
        summary.notices.append(
            f"identical content already loaded as load {previous[0]} ({previous[1]}); nothing changed"
        )
        return summary
    result = _stage_file(con, path)  # readers write only TEMP staged_* tables
    check_rows_accounted(con, path, result)
    check_has_rows(path, result)
    check_as_submitted(con, path, result.format)  # DfE's rules on a CIN census file as submitted
    summary.format, summary.rows_read, summary.notices = result.format, result.rows_read, list(result.notices)
    summary.notices.extend(flag_damaged_child_ids(con, result))
    if result.as_of and not as_of:
        check_header_date(path, result.as_of, _event_span(con, result.entities)[1], as_of)
    summary.as_of, capped = capped_as_of(as_of or result.as_of or _default_as_of(con, result.entities), date.today())
    if result.as_of and not as_of:
        summary.notices.extend(_after_stated_date(con, result))
    summary.notices.extend(capped)
    if summary.as_of is None:
        summary.as_of = date.today()
        summary.notices.append("no event dates in the file: as-of set to today")
    con.execute("BEGIN TRANSACTION")
    try:
        _write_load(con, path, sha, result, summary)
        con.execute("COMMIT")
    except BaseException:
        _rollback(con)
        raise
    return summary


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back the file's transaction; if that fails too (a full disk), the first error is the one to report."""
    with contextlib.suppress(duckdb.Error):
        con.execute("ROLLBACK")


def _write_load(con: duckdb.DuckDBPyConnection, path: Path, sha: str, result: ReadResult, summary: LoadSummary) -> None:
    summary.load_id = _next_load_id(con)
    assert summary.as_of is not None, "the as-of date is set before a load is written"
    with insertion_order(con, preserve=False):  # versions in any order: each carries its row number
        for entity in result.entities:
            summary.rows[entity] = _insert_versions(con, entity, summary.load_id, path.name, summary.as_of)
    summary.rejected = _insert_rejects(con, summary.load_id, path.name)
    summary.notices.extend(same_as_of_notice(con, summary.as_of))
    record_as_submitted(con, summary.load_id, path.name, result.format)
    first, last = _event_span(con, result.entities)
    con.execute(
        "INSERT INTO loads VALUES (?, ?, ?, ?, ?, now(), ?, ?, ?, 0, ?, ?, ?, ?)",
        [
            summary.load_id,
            path.name,
            sha,
            result.format,
            summary.as_of,
            summary.rows_read,
            sum(summary.rows.values()),
            summary.rejected,
            summary.unchanged,
            summary.notices,
            first,
            last,
        ],
    )


def _record_merge(con: duckdb.DuckDBPyConnection, summaries: list[LoadSummary], counts: MergeCounts) -> None:
    """Put the merge's superseded, replaced and unchanged counts on each loaded file's summary and load record."""
    for s in summaries:
        if s.status == "loaded" and s.load_id is not None:
            s.superseded = counts.superseded.get(s.load_id, 0)
            s.replaced = counts.replaced.get(s.load_id, 0)
            s.unchanged = counts.unchanged.get(s.load_id, 0)
            con.execute(
                "UPDATE loads SET rows_superseded = ?, rows_unchanged = ? WHERE load_id = ?",
                [s.superseded, s.unchanged, s.load_id],
            )


def load_files(
    paths: list[Path],
    store: Path | None = None,
    as_of: date | None = None,
    progress: Progress | None = None,
    validate: bool = True,
) -> list[LoadSummary]:
    """Load each file into the store; a file that fails leaves no trace, the others are published together."""
    say = progress or (lambda _msg: None)
    summaries: list[LoadSummary] = []
    checks_prepared = not validate
    try:
        with open_for_update(store) as con:
            for path in map(Path, paths):
                say(f"reading {path.name}")
                summaries.append(_load_in_transaction(con, path, as_of))
                if not checks_prepared and summaries[-1].status == "loaded":
                    prepare_checks()  # once there is something to check: a load whose files all fail never imports them
                    checks_prepared = True
            loaded = [s for s in summaries if s.status == "loaded"]
            if not loaded:
                raise _NothingToPublish
            load_ids = [s.load_id for s in loaded if s.load_id is not None]
            counts = finalise(con, max(load_ids), validate=validate, progress=say, new_loads=load_ids)
            _record_merge(con, summaries, counts or MergeCounts())
            say("publishing")
    except _NothingToPublish:
        pass  # the working copy is discarded: the store is untouched
    return summaries


class _NothingToPublish(Exception):
    """Every file was unchanged or failed: keep the published store as it is."""


def _load_in_transaction(con: duckdb.DuckDBPyConnection, path: Path, as_of: date | None) -> LoadSummary:
    """One file, all or nothing: on any failure, nothing of it remains in the store."""
    try:
        return _load_one(con, path, as_of)
    except ExtractError as err:
        return LoadSummary(file=path.name, status="failed", error=str(err))
    except Exception as err:  # any other failure of a messy file is reported in one line, not a traceback
        if os.environ.get("FRONTDOOR_DEBUG") or is_disk_full(err):
            raise  # a full disk fails the whole command: the store is left as it was
        text = str(err).strip()
        first_line = text.splitlines()[0] if text else type(err).__name__
        return LoadSummary(file=path.name, status="failed", error=f"{path.name}: could not be loaded ({first_line})")
    finally:
        _drop_staged(con)
