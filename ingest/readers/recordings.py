"""Reader for the project's case-recording CSV: one row per item written on a child's case file.

The extract is defined in docs/CASE_RECORDING_EXTRACT.md. DuckDB's CSV reader reads the file
twice, every value as text: first for each column's distinct values, which are normalised once
with the SQL of ingest.normalise into a small value table per column
(ingest.readers.value_tables), then for the rows, which look their values up (plain ids and
date-times of the common exact shapes are used as they are): about 1 s per million rows on 2
cores (benchmarks/bench_recordings.py). Headings are matched loosely (case, spaces, punctuation,
synonyms); a row becomes a reject when it has no record id, no child id, no parseable event
date, or a non-blank "Entered At" that is not a date/time. Lines the CSV parser cannot split
(wrong number of fields, bad quoting, bad encoding) become rejects too.

``row_number`` is the record's position: the header row's line number plus the record's
ordinal after it (blank lines and line breaks inside quoted values are not counted); a line the
CSV parser rejects carries its physical line number.
"""

from __future__ import annotations

import re
import tempfile
from contextlib import AbstractContextManager
from pathlib import Path

import duckdb

from ingest.normalise import (
    bool_sql,
    child_id_sql,
    date_sql,
    heading_key,
    is_quick_timestamp_sql,
    plain_id_sql,
    quick_timestamp_sql,
    timestamp_sql,
)
from ingest.readers.base import (
    ExtractError,
    ReadResult,
    create_staged_rejects,
    in_lists_as_written,
    insertion_order,
    staged_ddl,
    without_optimizers,
)
from ingest.readers.csv_rows import check_all_lines_accounted, number_records
from ingest.readers.csv_sniff import HeaderRow, find_header, header_rows, heading_summary, read_head, truncation
from ingest.readers.text_encoding import utf8_source
from ingest.readers.value_tables import (
    distinct_values_sql,
    lookup_sql,
    present_sql,
    value_or_skipped_sql,
    value_table_sql,
)
from store.codes import RECORD_TYPES
from store.schema import ENTITIES
from store.sql import scalar

FORMAT = "case_recording"
ENTITY = "recordings"

# Canonical column -> accepted headings (compared after ingest.normalise.heading_key), preferred first.
RECORDING_HEADINGS: dict[str, tuple[str, ...]] = {
    "record_id": (
        "Record ID",
        "Recording ID",
        "Record Reference",
        "Record Ref",
        "Case Note ID",
        "Note ID",
        "Entry ID",
        "Activity ID",
    ),
    "child_id": (
        "Child Unique ID",
        "Child ID",
        "Person ID",
        "Child Unique Identifier",
        "LA Child ID",
        "LAchildID",
        "Child Reference",
        "Client ID",
        "Person Unique ID",
        "Child UID",
    ),
    "record_type": (
        "Record Type",
        "Recording Type",
        "Type",
        "Note Type",
        "Case Note Type",
        "Activity Type",
        "Event Type",
        "Record Category",
    ),
    "event_date": (
        "Event Date",
        "Event Date/Time",
        "Event DateTime",
        "Date of Event",
        "Case Note Date",
        "Activity Date",
        "Event Start Date",
        "Date",
    ),
    "entered_at": (
        "Entered At",
        "Entered Date/Time",
        "Date Entered",
        "Entered Date",
        "Entered DateTime",
        "Entered On",
        "Date/Time Entered",
        "Recorded On",
        "Recorded At",
        "Date Recorded",
        "Recorded Date",
        "Created On",
        "Created At",
        "Date Created",
        "Created Date",
        "Date Written Up",
        "Written Up On",
        "Written Up At",
        "Entry Date",
        "Input Date",
    ),
    "worker": (
        "Worker",
        "Allocated Worker",
        "Worker Name",
        "Recorded By",
        "Entered By",
        "Author",
        "Social Worker",
        "Practitioner",
        "Created By",
    ),
    "team": ("Team", "Allocated Team", "Team Name", "Worker Team", "Service Team"),
    "child_views_recorded": (
        "Child Views Recorded",
        "Child’s Views Recorded",
        "Child Views",
        "Child’s Views",
        "Views of Child Recorded",
        "Voice of the Child",
        "Voice of the Child Recorded",
        "Child Views Recorded (Yes/No)",
    ),
}
REQUIRED: tuple[str, ...] = ("record_id", "child_id", "record_type", "event_date", "entered_at", "worker", "team")
DISPLAY: dict[str, str] = {column: spellings[0] for column, spellings in RECORDING_HEADINGS.items()}

# Record type as written -> key of store.codes.RECORD_TYPES (compared snake-cased).
RECORD_TYPE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "case_note": ("Case Note", "Case Notes", "Casenote", "Note", "Notes", "Case Recording", "Case Record"),
    "visit": (
        "Visit",
        "Visits",
        "Home Visit",
        "Statutory Visit",
        "Statutory Home Visit",
        "Stat Visit",
        "Child Visit",
        "CIN Visit",
        "CP Visit",
        "Visit to Child",
        "Visit - Statutory",
        "School Visit",
    ),
    "assessment": (
        "Assessment",
        "Assessment Write-up",
        "Assessment Write Up",
        "Single Assessment",
        "Continuous Assessment",
        "Child and Family Assessment",
        "C&F Assessment",
    ),
    "supervision": ("Supervision", "Case Supervision", "Supervision Record", "Supervision Note"),
    "chronology": ("Chronology", "Chronology Entry", "Chronology Event"),
    "meeting": (
        "Meeting",
        "Strategy Discussion",
        "Strategy Meeting",
        "Core Group",
        "Core Group Meeting",
        "CIN Meeting",
        "Child in Need Meeting",
        "Network Meeting",
        "Meeting or Strategy Discussion",
    ),
    "contact": ("Contact", "Contact Record", "Contact Recording"),
}

_CSV = "_recording_csv"  # the file's records, in file order (rowid: the ordinal)
_NUMBERED = "_recording_rows"  # view: the records with their line numbers
_CSV_ERRORS = "_recording_csv_errors"
_CSV_SCANS = "_recording_csv_scans"
_VALUES = "_recording_values"  # each column's distinct raw values; _recording_values_<column>: its value table


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
    raise ExtractError(
        path,
        f"case-recording extract is missing the column(s) {', '.join(missing)};"
        f" headings found: {heading_summary(first.headings)}",
    )


def _read_csv_sql(header: HeaderRow, encoding: str, padded: bool, rejects: bool) -> str:
    """read_csv of the records below the header, every value as text: in parallel, or serially padding short rows.

    With `rejects`, lines the parser cannot split are stored in _recording_csv_errors; else skipped.
    """
    names = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header.headings)))
    delim = {"\t": "\\t"}.get(header.delimiter, header.delimiter)
    errors = (
        f"store_rejects=true, rejects_table='{_CSV_ERRORS}', rejects_scan='{_CSV_SCANS}'"
        if rejects
        else "ignore_errors=true"
    )
    return (
        f"read_csv($path, columns={{{names}}}, header=true, skip={header.line_index}, auto_detect=false,"
        f" delim='{delim}', quote='\"', escape='\"', null_padding={str(padded).lower()},"
        f" parallel={str(not padded).lower()}, encoding='{encoding}', {errors})"
    )


def snake_sql(clean: str) -> str:
    """SQL twin of snake_case() for clean text."""
    return f"trim(regexp_replace(lower({clean}), '[^a-z0-9]+', '_', 'g'), '_')"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def record_type_sql(clean: str) -> str:
    """Record type of clean text: the RECORD_TYPES key of a known spelling (record_type_map), else its snake case."""
    known = "MAP {" + ", ".join(f"{_quote(s)}: '{key}'" for s, key in record_type_map().items()) + "}"
    snake = snake_sql(clean)
    return f"coalesce(map_extract_value({known}, {snake}), nullif({snake}, ''))"


def _skipped(raw: dict[str, str]) -> dict[str, str]:
    """Per column, the shape of the raw values its value table skips: plain ids and the common date-time shapes.

    Nearly every one of these differs from the others, and they are already clean: the row query
    uses them as they are.
    """
    return {
        "record_id": plain_id_sql(raw["record_id"]),
        "child_id": plain_id_sql(raw["child_id"]),
        "entered_at": is_quick_timestamp_sql(raw["entered_at"]),
    }


def _value_tables_sql() -> dict[str, str]:
    """Value table name -> its SELECT (ingest.readers.value_tables) from the distinct values in _recording_values.

    ``unmapped`` / ``unparsed`` mark a present value that is not a known record type / not yes or no.
    """
    keys = ", ".join(f"'{key}'" for key in RECORD_TYPES)
    record_type = record_type_sql("clean")
    columns: dict[str, dict[str, str]] = {
        "record_id": {"value": "clean"},
        "child_id": {"value": child_id_sql("clean")},
        "record_type": {
            "value": record_type,
            "unmapped": f"{record_type} IS NOT NULL AND list_position([{keys}], {record_type}) IS NULL",
        },
        "event_date": {"value": date_sql("clean")},
        "entered_at": {"value": timestamp_sql("clean")},
        "worker": {"value": "clean"},
        "team": {"value": "clean"},
        "child_views_recorded": {
            "value": bool_sql("clean"),
            "unparsed": f"clean IS NOT NULL AND {bool_sql('clean')} IS NULL",
        },
    }
    return {f"{_VALUES}_{column}": value_table_sql(_VALUES, column, selected) for column, selected in columns.items()}


def _flags_sql(raw: dict[str, str]) -> str:
    unmapped = "v_record_type.unmapped"
    unparsed = "v_child_views_recorded.unparsed" if "child_views_recorded" in raw else "FALSE"
    return (
        f"CASE WHEN {unmapped} AND {unparsed} THEN ['record_type_unmapped', 'child_views_recorded_unparsed']"
        f" WHEN {unmapped} THEN ['record_type_unmapped'] WHEN {unparsed} THEN ['child_views_recorded_unparsed']"
        " ELSE []::VARCHAR[] END"
    )


_REJECTED = "record_id IS NULL OR child_id IS NULL OR event_date IS NULL OR (entered_at IS NULL AND entered_at_present)"
_REASON = """concat_ws('; ',
                   CASE WHEN record_id IS NULL THEN 'no Record ID' END,
                   CASE WHEN child_id IS NULL THEN 'no Child Unique ID' END,
                   CASE WHEN event_date IS NULL THEN
                        CASE WHEN event_date_present THEN 'Event Date is not a date' ELSE 'no Event Date' END END,
                   CASE WHEN entered_at IS NULL AND entered_at_present THEN 'Entered At is not a date/time' END)"""


def _rows_sql(raw: dict[str, str], width: int, source: str) -> str:
    """SELECT of each record of `source` (the CSV) as a staged row, its reject reason and (for rejects only) its raw values.

    A row is rejected when it has no record id, no child id, no parseable event date, or an Entered
    At that is present but not a date/time. Values come from the value tables (joined as v_<column>);
    a value a table skipped is used as it is. `source` carries each record's row_number. Params $h<i>: the headings.
    """
    r = {column: f"r.{name}" for column, name in raw.items()}
    joins = " ".join(lookup_sql(f"{_VALUES}_{c}", f"v_{c}", r[c]) for c in RECORDING_HEADINGS if c in r)
    value = {c: (f"v_{c}.value" if c in r else "NULL") for c in RECORDING_HEADINGS}
    for column in ("record_id", "child_id"):
        value[column] = value_or_skipped_sql(f"v_{column}", value[column], r[column])
    value["entered_at"] = value_or_skipped_sql(
        "v_entered_at", value["entered_at"], quick_timestamp_sql(r["entered_at"])
    )
    raw_json = "json_object(" + ", ".join(f"$h{i}, c{i}" for i in range(width)) + ")"
    return f"""
        SELECT {", ".join(RECORDING_HEADINGS)}, 'recordings' AS sheet, row_number, flags,
               reason AS _reason, CASE WHEN reason IS NOT NULL THEN {raw_json} END AS _raw
        FROM (
            SELECT *, CASE WHEN {_REJECTED} THEN {_REASON} END AS reason
            FROM (
                SELECT {", ".join(f"{value[c]} AS {c}" for c in RECORDING_HEADINGS)}, {_flags_sql(raw)} AS flags,
                       {present_sql("v_event_date")} AS event_date_present,
                       {present_sql("v_entered_at", r["entered_at"])} AS entered_at_present,
                       r.row_number, {", ".join(f"r.c{i}" for i in range(width))}
                FROM {source} r {joins}
            )
        )
    """


def _joins_as_written(con: duckdb.DuckDBPyConnection) -> AbstractContextManager[None]:
    """Run statements with DuckDB's join reordering off, then restore the connection's setting.

    Without sampling (auto_detect off) DuckDB takes a CSV for a few dozen rows and would build the
    hash tables of the joins on the CSV's million rows instead of on the small value tables.
    """
    return without_optimizers(con, "join_order,build_side_probe_side")


def _read_records(con: duckdb.DuckDBPyConnection, path: Path, header: HeaderRow, encoding: str) -> str:
    """Read every record into _recording_csv (file order) and the lines the parser cannot split into its errors table.

    Returns the encoding. DuckDB's parallel CSV scanner cannot pad short rows when a quoted value
    holds a line break, and a failed statement would abort the pipeline's transaction, so the file
    is read in parallel without padding, and read again serially, padding short rows, only if it
    has any. A file that is not UTF-8 is read again as Latin-1. The records are kept in file order
    (insertion order preserved), so rowid is their ordinal.
    """
    for padded in (False, True):
        _drop_csv_errors(con)  # the parser appends to its errors table: a first attempt's would be counted again
        try:
            with insertion_order(con, preserve=True):
                con.execute(
                    f"CREATE OR REPLACE TEMP TABLE {_CSV} AS SELECT * FROM"
                    f" {_read_csv_sql(header, encoding, padded, rejects=True)}",
                    {"path": str(path)},
                )
        except duckdb.Error as err:
            first_line = (str(err).strip().splitlines() or [type(err).__name__])[0]  # later lines may quote the data
            raise ExtractError(path, f"CSV could not be read ({first_line[:200]})") from err
        if not scalar(con, f"SELECT count(*) FROM {_CSV_ERRORS} WHERE error_type = 'MISSING COLUMNS'"):
            break
    bad_encoding = scalar(con, f"SELECT count(*) FROM {_CSV_ERRORS} WHERE error_type = 'INVALID ENCODING'")
    if bad_encoding and encoding == "utf-8":
        return _read_records(con, path, header, "latin-1")
    return encoding


def _records_read(con: duckdb.DuckDBPyConnection) -> int:
    """Rows read: every record of _recording_csv (each becomes a staged row or a reject) and every unreadable line."""
    return int(scalar(con, f"SELECT (SELECT count(*) FROM {_CSV}) + (SELECT count(DISTINCT line) FROM {_CSV_ERRORS})"))


def _collect_values(con: duckdb.DuckDBPyConnection, header: HeaderRow) -> None:
    """Each column's distinct raw values of _recording_csv into _recording_values (one scan for all columns)."""
    raw = {column: f"c{position}" for column, position in match_recording_headings(header.headings).items()}
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_VALUES} AS {distinct_values_sql(_CSV, raw, _skipped(raw))}")


def _stage_rows(con: duckdb.DuckDBPyConnection, header: HeaderRow) -> None:
    """Normalise every record of _recording_csv into staged_recordings (with _reason and _raw columns still on).

    Each record's row_number comes with it from _recording_csv's ordinal (ingest.readers.csv_rows),
    so the order the joins return rows in does not matter.
    """
    raw = {column: f"c{position}" for column, position in match_recording_headings(header.headings).items()}
    with in_lists_as_written(con):  # ingest.readers.base: the cleaning's IN lists compared in place, not joined
        _stage_normalised(con, header, raw)


def _stage_normalised(con: duckdb.DuckDBPyConnection, header: HeaderRow, raw: dict[str, str]) -> None:
    """The value tables of the raw columns `raw` (column -> c<position>), then the rows joined to them."""
    empty = _all_skipped(con, raw)
    for table, sql in _value_tables_sql().items():
        column = table.removeprefix(f"{_VALUES}_")
        if column in empty:  # every value is of a shape the row query takes as it is: an empty table, not planned SQL
            con.execute(f"CREATE OR REPLACE TEMP TABLE {table} (raw VARCHAR, present BOOLEAN, value {_TYPES[column]})")
        elif column in raw:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {sql}")
    con.execute(staged_ddl(ENTITY).removesuffix(")") + ", _reason VARCHAR, _raw JSON)")
    number_records(con, _CSV, _CSV_ERRORS, header.line_index + 2, _NUMBERED)
    sql = _rows_sql(raw, len(header.headings), _NUMBERED)
    params: dict[str, object] = {f"h{i}": h for i, h in enumerate(header.headings)}
    with _joins_as_written(con):
        con.execute(f"INSERT INTO staged_{ENTITY} {sql}", params)


_TYPES = {c.name: c.type for c in ENTITIES[ENTITY].columns}


def _all_skipped(con: duckdb.DuckDBPyConnection, raw: dict[str, str]) -> set[str]:
    """The columns with skipped shapes (_skipped) that have no value left in _recording_values to normalise."""
    columns = [c for c in _skipped(raw) if c in raw]
    counts = con.execute(f"SELECT {', '.join(f'count({c})' for c in columns)} FROM {_VALUES}").fetchall()[0]
    return {c for c, n in zip(columns, counts) if n == 0}


def _split_rejects(con: duckdb.DuckDBPyConnection) -> None:
    """Move rejected rows and unreadable CSV lines to staged_rejects."""
    create_staged_rejects(con)
    con.execute(
        f"INSERT INTO staged_rejects SELECT sheet, row_number, '{ENTITY}', _raw, _reason"
        f" FROM staged_{ENTITY} WHERE _reason IS NOT NULL"
    )
    con.execute(
        f"INSERT INTO staged_rejects SELECT 'recordings', line, '{ENTITY}', json_object('csv_line', any_value(csv_line)),"
        f" 'CSV line could not be read: ' || min(error_message) FROM {_CSV_ERRORS} GROUP BY line ORDER BY line"
    )
    con.execute(f"DELETE FROM staged_{ENTITY} WHERE _reason IS NOT NULL")
    con.execute(f"ALTER TABLE staged_{ENTITY} DROP COLUMN _reason")
    con.execute(f"ALTER TABLE staged_{ENTITY} DROP COLUMN _raw")


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
    unmapped = scalar(con, f"SELECT count(*) FROM staged_{ENTITY} WHERE list_contains(flags, 'record_type_unmapped')")
    if unmapped:
        notices.append(f"{unmapped} record(s) with a record type that is not a known type (kept, flagged)")
    return notices


def _drop_csv_errors(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"DROP TABLE IF EXISTS {_CSV_ERRORS}")
    con.execute(f"DROP TABLE IF EXISTS {_CSV_SCANS}")


def _drop_work_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the work tables; after a failed statement the transaction is aborted and its rollback drops them."""
    try:
        con.execute(f"DROP VIEW IF EXISTS {_NUMBERED}")
        for table in (_VALUES, *(f"{_VALUES}_{c}" for c in RECORDING_HEADINGS), _CSV, f"{_NUMBERED}_shifts"):
            con.execute(f"DROP TABLE IF EXISTS {table}")
        _drop_csv_errors(con)
    except duckdb.TransactionException:
        pass


def read_recordings(path: Path, con: duckdb.DuckDBPyConnection) -> ReadResult:
    """Stage a case-recording CSV as TEMP staged_recordings (+ staged_rejects) on `con`."""
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="recordings_") as folder:
        source = utf8_source(path, Path(folder))  # UTF-16 and Windows-1252 files are read from a UTF-8 copy
        result = _read_utf8(source.path, con)
    if source.notice:
        result.notices.insert(0, source.notice)
    return result


def _read_utf8(path: Path, con: duckdb.DuckDBPyConnection) -> ReadResult:
    """Stage a UTF-8 case-recording CSV; every line below its header is accounted for, else the file is refused."""
    header, encoding = _find_recording_header(path)
    if problem := truncation(path, header, encoding):
        raise ExtractError(path, problem)
    try:
        encoding = _read_records(con, path, header, encoding)
        rows_read = _records_read(con)
        check_all_lines_accounted(  # before the rows are normalised: a file that does not reconcile is refused at once
            con, path, path, header.line_index, rows_read, _CSV, _CSV_ERRORS, len(header.headings)
        )
        _collect_values(con, header)
        _stage_rows(con, header)
        _split_rejects(con)
        notices = _notices(con, match_recording_headings(header.headings), header, encoding)
    finally:
        _drop_work_tables(con)
    return ReadResult(format=FORMAT, entities=[ENTITY], rows_read=rows_read, notices=notices)
