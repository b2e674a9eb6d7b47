"""Reader for the project's case-recording CSV: one row per item written on a child's case file.

The extract is defined in docs/CASE_RECORDING_EXTRACT.md. The file is read by DuckDB's CSV
reader (every value as text) and normalised in SQL in the same pass, with cheap paths for clean
values (ingest.readers.fast_normalise): about 2 CPU-seconds per million rows
(benchmarks/bench_recordings.py). Headings are matched loosely (case, spaces, punctuation,
synonyms); a row becomes a reject when it has no record id, no child id, no parseable event
date, or a non-blank "Entered At" that is not a date/time. Lines the CSV parser cannot split
(wrong number of fields, bad quoting, bad encoding) become rejects too.

``row_number`` is the record's position: the header row's line number plus the record's
ordinal after it (blank lines and line breaks inside quoted values are not counted); a line the
CSV parser rejects carries its physical line number.
"""

from __future__ import annotations

import mmap
import re
from pathlib import Path

import duckdb

from ingest.normalise import clean_text_sql, heading_key
from ingest.readers.base import ExtractError, ReadResult, create_staged_rejects, staged_columns, staged_ddl
from ingest.readers.fast_normalise import (
    fast_child_id_sql,
    lazy_sql,
    missing_to_null_sql,
    raw_bool_sql,
    raw_date_sql,
    raw_present_sql,
    raw_timestamp_sql,
    squeeze_sql,
)
from ingest.readers.csv_sniff import HeaderRow, find_header, heading_summary, header_rows, read_head
from store.codes import RECORD_TYPES

FORMAT = "case_recording"
ENTITY = "recordings"

# Canonical column -> accepted headings (compared after ingest.normalise.heading_key), preferred first.
RECORDING_HEADINGS: dict[str, tuple[str, ...]] = {
    "record_id": ("Record ID", "Recording ID", "Record Reference", "Record Ref", "Case Note ID", "Note ID",
                  "Entry ID", "Activity ID"),
    "child_id": ("Child Unique ID", "Child ID", "Person ID", "Child Unique Identifier", "LA Child ID",
                 "LAchildID", "Child Reference", "Client ID", "Person Unique ID", "Child UID"),
    "record_type": ("Record Type", "Recording Type", "Type", "Note Type", "Case Note Type", "Activity Type",
                    "Event Type", "Record Category"),
    "event_date": ("Event Date", "Event Date/Time", "Event DateTime", "Date of Event", "Case Note Date",
                   "Activity Date", "Event Start Date", "Date"),
    "entered_at": ("Entered At", "Entered Date/Time", "Date Entered", "Entered Date", "Entered DateTime",
                   "Entered On", "Date/Time Entered", "Recorded On", "Recorded At", "Date Recorded",
                   "Recorded Date", "Created On", "Created At", "Date Created", "Created Date",
                   "Date Written Up", "Written Up On", "Written Up At", "Entry Date", "Input Date"),
    "worker": ("Worker", "Allocated Worker", "Worker Name", "Recorded By", "Entered By", "Author",
               "Social Worker", "Practitioner", "Created By"),
    "team": ("Team", "Allocated Team", "Team Name", "Worker Team", "Service Team"),
    "child_views_recorded": ("Child Views Recorded", "Child’s Views Recorded", "Child Views",
                             "Child’s Views", "Views of Child Recorded", "Voice of the Child",
                             "Voice of the Child Recorded", "Child Views Recorded (Yes/No)"),
}
REQUIRED: tuple[str, ...] = ("record_id", "child_id", "record_type", "event_date", "entered_at", "worker", "team")
DISPLAY: dict[str, str] = {column: spellings[0] for column, spellings in RECORDING_HEADINGS.items()}

# Record type as written -> key of store.codes.RECORD_TYPES (compared snake-cased).
RECORD_TYPE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "case_note": ("Case Note", "Case Notes", "Casenote", "Note", "Notes", "Case Recording", "Case Record"),
    "visit": ("Visit", "Visits", "Home Visit", "Statutory Visit", "Statutory Home Visit", "Stat Visit",
              "Child Visit", "CIN Visit", "CP Visit", "Visit to Child", "Visit - Statutory", "School Visit"),
    "assessment": ("Assessment", "Assessment Write-up", "Assessment Write Up", "Single Assessment",
                   "Continuous Assessment", "Child and Family Assessment", "C&F Assessment"),
    "supervision": ("Supervision", "Case Supervision", "Supervision Record", "Supervision Note"),
    "chronology": ("Chronology", "Chronology Entry", "Chronology Event"),
    "meeting": ("Meeting", "Strategy Discussion", "Strategy Meeting", "Core Group", "Core Group Meeting",
                "CIN Meeting", "Child in Need Meeting", "Network Meeting", "Meeting or Strategy Discussion"),
    "contact": ("Contact", "Contact Record", "Contact Recording"),
}

_CSV_ERRORS = "_recording_csv_errors"
_CSV_SCANS = "_recording_csv_scans"


def snake_case(text: str) -> str:
    """A label as a snake-case key: 'Home Visit' -> 'home_visit', 'C&F Assessment' -> 'c_f_assessment'."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def record_type_map() -> dict[str, str]:
    """Every accepted record-type spelling (snake-cased) -> its RECORD_TYPES key."""
    mapping = {key: key for key in RECORD_TYPES}
    mapping.update({snake_case(name): key for key, name in RECORD_TYPES.items()})
    for key, spellings in RECORD_TYPE_SYNONYMS.items():
        mapping.update({snake_case(s): key for s in spellings})
    return mapping


def _heading_lookup() -> dict[str, tuple[str, int]]:
    """heading key -> (canonical column, preference rank)."""
    lookup: dict[str, tuple[str, int]] = {}
    for column, spellings in RECORDING_HEADINGS.items():
        for rank, spelling in enumerate(spellings):
            key = heading_key(spelling)
            lookup.setdefault(key, (column, rank))
            lookup.setdefault(key.replace(" ", ""), (column, rank))
    return lookup


_LOOKUP = _heading_lookup()


def _column_for(heading: str) -> tuple[str, int] | None:
    key = heading_key(heading)
    return _LOOKUP.get(key) or _LOOKUP.get(key.replace(" ", ""))


def match_recording_headings(headings: list[str]) -> dict[str, int]:
    """Canonical column -> position of the heading that provides it (the preferred spelling wins)."""
    best: dict[str, tuple[int, int]] = {}
    for position, heading in enumerate(headings):
        found = _column_for(heading)
        if found and (found[0] not in best or found[1] < best[found[0]][0]):
            best[found[0]] = (found[1], position)
    return {column: position for column, (_rank, position) in best.items()}


def missing_recording_columns(headings: list[str]) -> list[str]:
    """Required columns of the extract that no heading provides (display names)."""
    found = match_recording_headings(headings)
    return [DISPLAY[c] for c in REQUIRED if c not in found]


def is_recording_header(headings: list[str]) -> bool:
    """True when the headings provide every required column of the case-recording extract."""
    return not missing_recording_columns(headings)


def _find_recording_header(path: Path) -> tuple[HeaderRow, str]:
    head = read_head(path)
    row = find_header(head, is_recording_header)
    if row is not None:
        return row, head.encoding
    first = next(header_rows(head), None)
    if first is None:
        raise ExtractError(path, "no header row: the case-recording extract needs a row of headings")
    missing = missing_recording_columns(first.headings)
    raise ExtractError(path, f"case-recording extract is missing the column(s) {', '.join(missing)};"
                             f" headings found: {heading_summary(first.headings)}")


def _read_csv_sql(header: HeaderRow, encoding: str, parallel: bool) -> str:
    names = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header.headings)))
    delim = {"\t": "\\t"}.get(header.delimiter, header.delimiter)
    return (
        f"read_csv($path, columns={{{names}}}, header=true, skip={header.line_index}, auto_detect=false,"
        f" delim='{delim}', quote='\"', escape='\"', null_padding=true, parallel={str(parallel).lower()},"
        f" encoding='{encoding}', store_rejects=true, rejects_table='{_CSV_ERRORS}', rejects_scan='{_CSV_SCANS}')"
    )


def snake_sql(clean: str) -> str:
    """SQL twin of snake_case() for clean text."""
    return f"trim(regexp_replace(lower({clean}), '[^a-z0-9]+', '_', 'g'), '_')"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _spelling_map() -> str:
    """MAP literal: every accepted record-type spelling (lower case and snake case) -> its RECORD_TYPES key."""
    spellings = {s.lower(): key for key, names in RECORD_TYPE_SYNONYMS.items() for s in names}
    spellings.update({name.lower(): key for key, name in RECORD_TYPES.items()})
    spellings.update(record_type_map())
    return "MAP {" + ", ".join(f"{_quote(s)}: '{key}'" for s, key in spellings.items()) + "}"


def record_type_lookup_sql(raw: str) -> tuple[str, str]:
    """First step of the record type: (a known spelling's key from the raw text, the snake case of the others).

    The lookup by lower case covers nearly every row; only the rest are cleaned and snake-cased with
    a regular expression. Finish with record_type_sql in an outer query.
    """
    known = f"map_extract_value({_spelling_map()}, lower({raw}))"
    snake = lazy_sql(raw, snake_sql(clean_text_sql("v")))
    return known, f"(CASE WHEN {raw} IS NOT NULL AND {known} IS NULL THEN {snake} END)"


def record_type_sql(known: str, snake: str) -> str:
    """Record type as a RECORD_TYPES key when the spelling is known, else snake-cased as written (NULL when blank)."""
    return f"coalesce({known}, map_extract_value({_spelling_map()}, {snake}), nullif({snake}, ''))"


def _reason_sql(raw: dict[str, str]) -> str:
    """Why a row cannot be loaded (NULL when it can); the costlier tests run only on failing rows."""
    return f"""nullif(concat_ws('; ',
                   CASE WHEN record_id IS NULL THEN 'no Record ID' END,
                   CASE WHEN child_id IS NULL THEN 'no Child Unique ID' END,
                   CASE WHEN event_date IS NULL THEN
                        CASE WHEN {raw_present_sql(raw['event_date'])} THEN 'Event Date is not a date'
                             ELSE 'no Event Date' END END,
                   CASE WHEN entered_at IS NULL THEN
                        CASE WHEN {raw_present_sql(raw['entered_at'])} THEN 'Entered At is not a date/time' END END
               ), '')"""


def _flags_sql(raw: dict[str, str]) -> str:
    known = ", ".join(f"'{key}'" for key in RECORD_TYPES)
    unmapped = f"(record_type IS NOT NULL AND list_position([{known}], record_type) IS NULL)"
    unparsed = (f"(CASE WHEN child_views_recorded IS NULL THEN {raw_present_sql(raw['child_views_recorded'])}"
                " ELSE FALSE END)")
    return (f"CASE WHEN {unmapped} AND {unparsed} THEN ['record_type_unmapped', 'child_views_recorded_unparsed']"
            f" WHEN {unmapped} THEN ['record_type_unmapped'] WHEN {unparsed} THEN ['child_views_recorded_unparsed']"
            " ELSE []::VARCHAR[] END")


def _parsed_sql(positions: dict[str, int], width: int, source: str) -> str:
    """SELECT of each CSV row as a staged row plus its reject reason and (for rejects only) raw values.

    Two layers: parse the raw text (cheap paths first, see ingest.readers.fast_normalise), then judge
    the row. row_number is left NULL: it is set from the table's row order afterwards (a window
    function would make the read serial).
    """
    raw_cols = ", ".join(f"c{i}" for i in range(width))
    raw = {c: (f"c{positions[c]}" if c in positions else "NULL::VARCHAR") for c in RECORDING_HEADINGS}
    raw_json = "json_object(" + ", ".join(f"$h{i}, c{i}" for i in range(width)) + ")"
    known_type, snake_type = record_type_lookup_sql(raw["record_type"])
    return f"""
        SELECT record_id, child_id, record_type, event_date, entered_at, worker, team, child_views_recorded,
               'recordings' AS sheet, NULL::INTEGER AS row_number, {_flags_sql(raw)} AS flags,
               reason AS _reason, CASE WHEN reason IS NOT NULL THEN {raw_json} END AS _raw
        FROM (
            SELECT *, {record_type_sql('record_type_known', 'record_type_snake')} AS record_type,
                   {_reason_sql(raw)} AS reason
            FROM (
                SELECT {missing_to_null_sql(squeeze_sql(raw['record_id']))} AS record_id,
                       {fast_child_id_sql(missing_to_null_sql(squeeze_sql(raw['child_id'])))} AS child_id,
                       {known_type} AS record_type_known, {snake_type} AS record_type_snake,
                       {raw_date_sql(raw['event_date'])} AS event_date,
                       {raw_timestamp_sql(raw['entered_at'])} AS entered_at,
                       {missing_to_null_sql(squeeze_sql(raw['worker']))} AS worker,
                       {missing_to_null_sql(squeeze_sql(raw['team']))} AS team,
                       {raw_bool_sql(raw['child_views_recorded'])} AS child_views_recorded,
                       {raw_cols}
                FROM {source}
            )
        )
    """


def _stage_rows(con: duckdb.DuckDBPyConnection, path: Path, header: HeaderRow, encoding: str, parallel: bool) -> None:
    """Read and normalise in one pass into staged_recordings (with _reason and _raw columns still on)."""
    positions = match_recording_headings(header.headings)
    sql = _parsed_sql(positions, len(header.headings), _read_csv_sql(header, encoding, parallel))
    con.execute(staged_ddl(ENTITY))
    con.execute(f"ALTER TABLE staged_{ENTITY} ADD COLUMN _reason VARCHAR")
    con.execute(f"ALTER TABLE staged_{ENTITY} ADD COLUMN _raw JSON")
    params: dict[str, object] = {f"h{i}": h for i, h in enumerate(header.headings)}
    con.execute(f"INSERT INTO staged_{ENTITY} {sql}", {"path": str(path), **params})
    # rows keep the file's order (preserve_insertion_order), so rowid gives each record's position;
    # inside a transaction a new table's rowids start at a large offset, hence the minimum
    con.execute(f"UPDATE staged_{ENTITY} SET row_number = CAST(rowid - (SELECT min(rowid) FROM staged_{ENTITY})"
                f" AS INTEGER) + {header.line_index + 2}")


def has_quotes(path: Path) -> bool:
    """True when the file holds a double quote anywhere (a quoted value may then hold a line break)."""
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return data.find(b'"') >= 0


def _read_rows(con: duckdb.DuckDBPyConnection, path: Path, header: HeaderRow, encoding: str) -> str:
    """Stage every row (falling back to Latin-1 when the file is not UTF-8); returns the encoding used.

    DuckDB's parallel CSV scanner cannot pad short rows when a quoted value holds a line break, and
    a failed statement would abort the pipeline's transaction, so a file with any double quote is
    read serially.
    """
    try:
        _stage_rows(con, path, header, encoding, parallel=not has_quotes(path))
    except duckdb.Error as err:
        first_line = (str(err).strip().splitlines() or [type(err).__name__])[0]  # later lines may quote the data
        raise ExtractError(path, f"CSV could not be read ({first_line[:200]})") from err
    bad_encoding = con.execute(f"SELECT count(*) FROM {_CSV_ERRORS} WHERE error_type = 'INVALID ENCODING'").fetchone()[0]
    if bad_encoding and encoding == "utf-8":
        _drop_work_tables(con)
        return _read_rows(con, path, header, "latin-1")
    return encoding


def _split_rejects(con: duckdb.DuckDBPyConnection) -> int:
    """Move rejected rows and unreadable CSV lines to staged_rejects; returns the rows read."""
    create_staged_rejects(con)
    con.execute(f"INSERT INTO staged_rejects SELECT sheet, row_number, '{ENTITY}', _raw, _reason"
                f" FROM staged_{ENTITY} WHERE _reason IS NOT NULL")
    con.execute(
        f"INSERT INTO staged_rejects SELECT 'recordings', line, '{ENTITY}', json_object('csv_line', csv_line),"
        f" 'CSV line could not be read: ' || error_message FROM {_CSV_ERRORS}"
    )
    rows_read = con.execute(f"SELECT (SELECT count(*) FROM staged_{ENTITY}) + (SELECT count(*) FROM {_CSV_ERRORS})").fetchone()[0]
    con.execute(f"DELETE FROM staged_{ENTITY} WHERE _reason IS NOT NULL")
    con.execute(f"ALTER TABLE staged_{ENTITY} DROP COLUMN _reason")
    con.execute(f"ALTER TABLE staged_{ENTITY} DROP COLUMN _raw")
    return int(rows_read)


def _notices(con: duckdb.DuckDBPyConnection, positions: dict[str, int], header: HeaderRow, encoding: str) -> list[str]:
    notices = []
    used = set(positions.values())
    ignored = [h for i, h in enumerate(header.headings) if i not in used and h.strip()]
    if ignored:
        notices.append(f"columns not used: {heading_summary(ignored)}")
    if "child_views_recorded" not in positions:
        notices.append("no Child Views Recorded column: child's views not known for these records")
    if encoding == "latin-1":
        notices.append("file is not UTF-8: read as Latin-1")
    if header.line_index:
        notices.append(f"header row found on line {header.line_index + 1}")
    unmapped = con.execute(
        f"SELECT count(*) FROM staged_{ENTITY} WHERE list_contains(flags, 'record_type_unmapped')").fetchone()[0]
    if unmapped:
        notices.append(f"{unmapped} record(s) with a record type that is not a known type (kept, flagged)")
    return notices


def _drop_work_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the work tables; after a failed statement the transaction is aborted and its rollback drops them."""
    try:
        for table in (_CSV_ERRORS, _CSV_SCANS):
            con.execute(f"DROP TABLE IF EXISTS {table}")
    except duckdb.TransactionException:
        pass


def read_recordings(path: Path, con: duckdb.DuckDBPyConnection) -> ReadResult:
    """Stage a case-recording CSV as TEMP staged_recordings (+ staged_rejects) on `con`."""
    path = Path(path)
    header, encoding = _find_recording_header(path)
    try:
        encoding = _read_rows(con, path, header, encoding)
        rows_read = _split_rejects(con)
        notices = _notices(con, match_recording_headings(header.headings), header, encoding)
    finally:
        _drop_work_tables(con)
    return ReadResult(format=FORMAT, entities=[ENTITY], rows_read=rows_read, notices=notices)
