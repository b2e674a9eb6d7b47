"""Checks a file's staged rows must pass before they are written: every row accounted for, a plausible as-of date."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import duckdb

from ingest.readers.base import ExtractError, ReadResult
from store.sql import scalar

HEADER_DATE_TOLERANCE = timedelta(days=366)  # a header date this far beyond the file's last event is refused


def staged_counts(con: duckdb.DuckDBPyConnection, result: ReadResult) -> tuple[int, int]:
    """(rows staged to load, rows staged as rejects) for a reader's result."""
    loaded = sum(int(scalar(con, f"SELECT count(*) FROM staged_{e}")) for e in result.entities)
    return loaded, _staged_rejects(con)


def _staged_rejects(con: duckdb.DuckDBPyConnection) -> int:
    """Rows in the TEMP table staged_rejects, 0 when the reader made none (before the file's transaction starts).

    Looked up by name: a catalog function (duckdb_tables()) would first load every table's metadata from the store
    file, ~20 ms on each load's new connection."""
    try:
        return int(scalar(con, "SELECT count(*) FROM temp.staged_rejects"))
    except duckdb.CatalogException:
        return 0


def check_rows_accounted(con: duckdb.DuckDBPyConnection, path: Path, result: ReadResult) -> None:
    """Refuse the file unless its rows to load plus its rejects are exactly the rows the reader read."""
    loaded, rejected = staged_counts(con, result)
    if loaded + rejected != result.rows_read:
        raise ExtractError(
            path,
            f"the reader read {result.rows_read} rows but accounts for {loaded} loaded and"
            f" {rejected} rejected; nothing was loaded from this file",
        )


def check_has_rows(path: Path, result: ReadResult) -> None:
    """Refuse a file with no data rows at all: loading it would change nothing but record it as loaded."""
    if result.rows_read == 0 and result.entities:
        raise ExtractError(path, "has no data rows (only headings): nothing to load")


def capped_as_of(found: date | None, today: date) -> tuple[date | None, list[str]]:
    """An as-of date taken from a file, never later than today (with a notice when it had to be capped)."""
    if found is not None and found > today:
        return today, [f"latest date in the file ({found}) is after today: as-of set to today ({today})"]
    return found, []


TRUST_HEADER_DATES_ENV = "FRONTDOOR_TRUST_HEADER_DATES"  # '1': take header dates as stated (test and sample files)


def check_header_date(path: Path, stated: date, last_event: date | None, given: date | None) -> None:
    """Refuse a header date more than a year after the file's last event, unless --as-of confirms it.

    FRONTDOOR_TRUST_HEADER_DATES=1 accepts such dates (the DfE's sample files date their events in 1970).
    """
    if given is not None or last_event is None or os.environ.get(TRUST_HEADER_DATES_ENV, "").strip() == "1":
        return
    if stated - last_event > HEADER_DATE_TOLERANCE:
        raise ExtractError(
            path,
            f"header date {stated} is more than a year after the file's last event"
            f" ({last_event}); if it is right, load the file with --as-of {stated}",
        )


def same_as_of_notice(con: duckdb.DuckDBPyConnection, as_of: date | None) -> list[str]:
    """A notice when earlier loads have the same as-of date: where both have a row, this later load's wins."""
    same = con.execute("SELECT count(*), max(load_id) FROM loads WHERE as_of = ?", [as_of]).fetchone()
    if not same or not same[0]:
        return []
    return [
        f"as-of {as_of} is the same as {same[0]} earlier load(s) (latest: load {same[1]}): where they carry"
        " the same record, this later load wins"
    ]


def flag_damaged_child_ids(con: duckdb.DuckDBPyConnection, result: ReadResult) -> list[str]:
    """Flag staged rows whose child id looks damaged by Excel (kept as written); a notice with the count."""
    from ingest.normalise import DAMAGED_CHILD_ID_FLAG, damaged_child_id_sql

    flagged = 0
    for entity in result.entities:
        flagged += int(
            scalar(
                con,
                f"UPDATE staged_{entity} SET flags = list_append(coalesce(flags, []::VARCHAR[]), '{DAMAGED_CHILD_ID_FLAG}')"
                f" WHERE NOT regexp_full_match(child_id, '[A-Za-z0-9_/-]*') AND {damaged_child_id_sql('child_id')}",
            )
        )
    if not flagged:
        return []
    return [
        f"{flagged} row(s) with a child id that looks changed by Excel (1.2E+5, 1,005, ='1005', full-width"
        f" digits): kept as written and flagged {DAMAGED_CHILD_ID_FLAG}"
    ]
