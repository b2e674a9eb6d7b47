"""Reader for Ofsted Annex A child-level lists: .xlsx/.xls workbooks or one CSV per list.

Lists 1 (contacts), 3 (referrals), 4 (assessments) and 6 (children in need) are staged as
``staged_contacts``, ``staged_referrals``, ``staged_assessments`` and ``staged_cin_episodes``;
lists 2, 5 and 7-11 are skipped with a notice; guidance, code and front sheets are ignored.

A list is found by its sheet name (``List 3``, ``List_3``, ``Referrals``, ``List 3 - Referrals``)
or, failing that, by its headings. Its header row is the first of the top ten rows whose
headings give the list's child id and key date, so title rows above it are skipped. Headings
are matched loosely (``ingest.normalise.heading_key``): case, spaces, punctuation, curly
apostrophes and known variants (``Age`` / ``Age of Child (Years)``).

Workbooks are read with python-calamine (formula cells give their cached values); every cell
becomes text (dates as ISO text) and all normalisation runs in DuckDB SQL: clean once in an
inner query, parse outside (``ingest.normalise``), and map coded values through the synonym
table of ``ingest.codes_map``. A row without a child id or with a missing or unparseable key
date goes to ``staged_rejects``; fully blank rows are skipped.

``row_number`` is the row as Excel shows it (header row counted). In a CSV it is the line number,
counting title rows and lines the CSV parser rejects (themselves rejects); blank lines and line
breaks inside quoted values are not counted, so rows after one of those are numbered by record.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import zipfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import python_calamine as calamine

from ingest.codes_map import boolean_sql, code_map_sql, ensure_code_synonyms
from ingest.normalise import child_id_sql, clean_text_sql, date_sql, double_sql, heading_key, integer_sql, plain_id_sql
from ingest.readers.base import (
    ExtractError,
    ReadResult,
    create_staged_rejects,
    insertion_order,
    staged_columns,
    staged_ddl,
)
from ingest.readers.csv_rows import check_all_lines_accounted, number_records
from ingest.readers.csv_sniff import (
    HeaderRow,
    find_header,
    header_rows,
    heading_summary,
    looks_binary,
    read_head,
    truncation,
)
from ingest.readers.text_encoding import utf8_source
from ingest.readers.value_tables import distinct_values_sql, present_sql, value_or_skipped_sql
from ingest.readers.workbook_limits import check_workbook_limits

FORMAT = "annex_a"
HEADER_SCAN_ROWS = 10  # title rows tolerated above a list's header row
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
_ZIP_MAGIC, _OLE_MAGIC = b"PK\x03\x04", b"\xd0\xcf\x11\xe0"


@dataclass(frozen=True)
class Field:
    """One column of an Annex A list and how its value becomes a canonical one."""

    column: str  # canonical column of the staged table
    heading: str  # heading in the Ofsted template (for messages)
    pattern: str  # regular expression that the whole heading key must match
    kind: str  # 'child_id' | 'date' | 'text' | 'int' | 'double' | 'code' | 'bool'
    domain: str | None = None  # ingest.codes_map domain of a 'code' or 'bool' field


@dataclass(frozen=True)
class AnnexList:
    """An Annex A list that the dashboard loads."""

    number: int
    entity: str
    key_field: str  # the canonical column of its key event date
    fields: tuple[Field, ...]

    @property
    def label(self) -> str:
        return f"List {self.number} ({LIST_TITLES[self.number]})"

    def field(self, column: str) -> Field:
        return next(f for f in self.fields if f.column == column)

    @property
    def required(self) -> tuple[str, ...]:
        return ("child_id", self.key_field)


LIST_TITLES: dict[int, str] = {
    1: "Contacts",
    2: "Early help",
    3: "Referrals",
    4: "Assessments",
    5: "Section 47 enquiries and ICPCs",
    6: "Children in need",
    7: "Child protection",
    8: "Children in care",
    9: "Care leavers",
    10: "Adoption",
    11: "Adopters",
}

_CHILD = (
    Field(
        "child_id",
        "Child Unique ID",
        r".*\bchild\b.*\b(id|identifier|uid|ref|reference)\b.*|lachildid|la child id",
        "child_id",
    ),
    Field("sex", "Gender", r"gender|sex|gender current|legal sex", "code", "sex"),
    Field("ethnicity", "Ethnicity", r"ethnicity( code)?|ethnic (origin|group|code)", "code", "ethnicity"),
    Field("date_of_birth", "Date of Birth", r"(childs )?(date of birth|dob|birth date)", "date"),
    Field("age_years", "Age of Child (Years)", r"age( of child)?( in)?( years)?( at .*)?", "double"),
)
_TEAM = (
    Field("team", "Allocated Team", r"(allocated )?team( name)?", "text"),
    Field("worker", "Allocated Worker", r"(allocated )?(social )?worker( name)?", "text"),
)
_DISABILITY = Field(
    "disabled",
    "Does the Child have a Disability",
    r"(does the )?child (have|has) a disability|disability|disabled",
    "bool",
    "disability",
)

LISTS: dict[int, AnnexList] = {
    1: AnnexList(
        1,
        "contacts",
        "contact_date",
        (
            *_CHILD,
            Field("contact_date", "Date of Contact", r"date of contact|contact date", "date"),
            Field(
                "contact_source",
                "Contact Source",
                r"(contact source|source of contact)( code)?",
                "code",
                "referral_source",
            ),
        ),
    ),
    3: AnnexList(
        3,
        "referrals",
        "referral_date",
        (
            *_CHILD,
            Field("referral_date", "Date of Referral", r"date of referral|referral date", "date"),
            Field(
                "referral_source",
                "Referral Source",
                r"(referral source|source of referral)( code)?",
                "code",
                "referral_source",
            ),
            Field("nfa", "Referral NFA?", r"(referral )?(nfa|no further action)", "bool", "nfa"),
            Field(
                "referrals_last_12m",
                "Number of Referrals in Last 12 Months",
                r"(number of )?(previous )?referrals (in|within) (the )?(last|previous) (12|twelve) months",
                "int",
            ),
            *_TEAM,
        ),
    ),
    4: AnnexList(
        4,
        "assessments",
        "start_date",
        (
            *_CHILD,
            _DISABILITY,
            Field(
                "start_date",
                "Continuous Assessment Start Date",
                r"((continuous|single) )?assessment (actual )?start date|date ((continuous|single) )?assessment started",
                "date",
            ),
            Field(
                "child_seen",
                "Child Seen During Continuous Assessment",
                r"(was the )?child seen( during ((continuous|single) )?assessment)?",
                "bool",
                "child_seen",
            ),
            Field(
                "authorised_date",
                "Continuous Assessment Date of Authorisation",
                r"((continuous|single) )?assessment (date of authorisation|authorisation date|authorised date)"
                r"|(date of )?authorisation( date)?|date ((continuous|single) )?assessment authorised",
                "date",
            ),
            Field(
                "requires_support",
                "Was the child assessed as requiring LA children's social care support?",
                r"was the child assessed as (requiring|being in need).*",
                "bool",
                "yes_no",
            ),
            *_TEAM,
        ),
    ),
    6: AnnexList(
        6,
        "cin_episodes",
        "start_date",
        (
            *_CHILD,
            _DISABILITY,
            Field(
                "start_date",
                "CIN Start Date",
                r"(cin|child in need) (episode )?start date|date (cin|child in need) started",
                "date",
            ),
            Field(
                "primary_need",
                "Primary Need Code",
                r"primary need( code)?|(cin )?category of need",
                "code",
                "primary_need",
            ),
            Field(
                "last_seen_date",
                "Date Child Was Last Seen",
                r"date (the )?child (was )?last seen|last seen date",
                "date",
            ),
            Field(
                "closure_date",
                "CIN Closure Date",
                r"(cin|child in need) (episode )?(closure|end) date|closure date",
                "date",
            ),
            Field(
                "closure_reason",
                "Reason for Closure",
                r"(cin )?(reason for closure|closure reason)( code)?",
                "code",
                "closure_reason",
            ),
            Field("case_status", "Case Status", r"case status", "text"),
            *_TEAM,
        ),
    ),
}

# A heading that only one of the skipped lists has (checked before lists 1/3/4/6: List 2 has an
# 'Assessment start date' too, List 9 a 'Latest Date of Contact').
_SKIPPED_SIGNATURES: dict[int, str] = {
    11: r"individual adopter identifier|date stage 1 started",
    10: r"date of decision that child should be placed for adoption|date placed for adoption",
    9: r"eligibility category|allocated personal advisor|latest pathway plan review date",
    8: r"date started to be looked after|childs legal status",
    7: r"child protection plan start date|initial category of abuse",
    5: r"strategy discussion initiating section 47 enquiry start date|number of section 47 enquiries in the last 12 months",
    2: r"organisation completing assessment|assessment completion date",
}

# Sheet (or CSV file) names: 'List 3', 'List_3', 'List 3 - Referrals', 'Referrals', 'CIN'...
_LIST_NUMBER_NAME = re.compile(r"(?:^| )list ?0?(\d{1,2})(?: |$)")
_LIST_NAMES: dict[str, int] = {
    "contacts": 1,
    "contact": 1,
    "early help": 2,
    "early help assessments": 2,
    "referrals": 3,
    "referral": 3,
    "assessments": 4,
    "assessment": 4,
    "continuous assessments": 4,
    "single assessments": 4,
    "section 47": 5,
    "s47": 5,
    "section 47 enquiries": 5,
    "s47 and icpc": 5,
    "s47s and icpcs": 5,
    "children in need": 6,
    "child in need": 6,
    "cin": 6,
    "child protection": 7,
    "cp": 7,
    "children in care": 8,
    "looked after children": 8,
    "cla": 8,
    "lac": 8,
    "care leavers": 9,
    "adoption": 10,
    "adoptions": 10,
    "adopters": 11,
}
_NOT_A_LIST = re.compile(r"guidance|codes?\b|front|faq|read ?me|notes?\b|contents|lookups?|validation|summary|pivot")


def annex_a_list_for_sheet_name(name: str) -> int | None:
    """Which Annex A list a sheet (or CSV file stem) is by its name, or None."""
    key = heading_key(name)
    if not key or _NOT_A_LIST.search(key):
        return None
    match = _LIST_NUMBER_NAME.search(key)
    if match and 1 <= int(match.group(1)) <= 11:
        return int(match.group(1))
    return _LIST_NAMES.get(key)


def annex_a_sheet_lists(sheet_names: list[str]) -> dict[str, int]:
    """Sheet name -> list number, for the sheets whose names are Annex A lists (the detector's cheap check)."""
    found = {name: annex_a_list_for_sheet_name(name) for name in sheet_names}
    return {name: number for name, number in found.items() if number is not None}


def _match_fields(alist: AnnexList, keys: list[str]) -> dict[str, int]:
    """Canonical column -> position of the first heading that matches it (each heading used once)."""
    positions: dict[str, int] = {}
    for f in alist.fields:
        pattern = re.compile(f.pattern)
        for i, key in enumerate(keys):
            if i not in positions.values() and key and pattern.fullmatch(key):
                positions[f.column] = i
                break
    return positions


def annex_a_list_for_headings(heading_keys: list[str]) -> int | None:
    """Which Annex A list (1-11) a row of column headings is, or None (headings as ingest.normalise.heading_key)."""
    keys = [heading_key(k) for k in heading_keys]
    for number, signature in _SKIPPED_SIGNATURES.items():
        if any(re.fullmatch(signature, k) for k in keys):
            return number
    for number in (6, 4, 3, 1):
        alist = LISTS[number]
        if all(c in _match_fields(alist, keys) for c in alist.required):
            return number
    return None


# --- reading workbooks ------------------------------------------------------------------------


def _one_line(err: BaseException) -> str:
    """The first line of an error, without any quoted line of the file (it could hold a child's data)."""
    first = str(err).strip().split("\n", 1)[0].split("Original Line", 1)[0]
    return " ".join(first.split())[:160].rstrip(" :") or type(err).__name__


def _is_panic(err: BaseException) -> bool:
    """A Rust panic inside calamine (pyo3's PanicException derives from BaseException, not Exception)."""
    return type(err).__name__ == "PanicException"


def _open_workbook(path: Path) -> calamine.CalamineWorkbook:
    if zipfile.is_zipfile(path):
        check_workbook_limits(path)  # before calamine allocates anything
    try:
        return calamine.CalamineWorkbook.from_path(str(path))
    except calamine.PasswordError:
        raise ExtractError(path, "workbook is password-protected: save it without a password") from None
    except BaseException as err:  # calamine raises its own errors, zip and OS errors for damaged files
        if not isinstance(err, Exception) and not _is_panic(err):
            raise
        raise ExtractError(
            path, f"cannot read workbook (damaged, truncated or not a spreadsheet): {_one_line(err)}"
        ) from None


def _sheet_rows(book: calamine.CalamineWorkbook, path: Path, name: str, nrows: int | None = None) -> list[list]:
    try:
        return book.get_sheet_by_name(name).to_python(skip_empty_area=False, nrows=nrows)
    except BaseException as err:
        if not isinstance(err, Exception) and not _is_panic(err):
            raise
        raise ExtractError(
            path, f"cannot read sheet '{name}' (damaged or truncated workbook): {_one_line(err)}"
        ) from None


def _cell_text(value: object) -> str | None:
    """A cell as the text the SQL parsers expect: dates ISO, whole numbers without '.0'."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _display(heading: object) -> str:
    return " ".join(str(heading if heading is not None else "").split())


def _unique_headings(headings: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for h in headings:
        seen[h] = seen.get(h, 0) + 1
        out.append(h if seen[h] == 1 else f"{h} ({seen[h]})")
    return out


@dataclass
class _ListSource:
    """One list found in a file: where it is and its headings."""

    alist: AnnexList
    sheet: str  # sheet name, or 'List n' for a CSV
    header_row: int  # 1-based row number of the header row
    headings: list[str]  # display headings (blank where the file has none)


def _find_list_header(rows: list[list], alist: AnnexList) -> int | None:
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        keys = [heading_key(c) for c in row]
        if all(c in _match_fields(alist, keys) for c in alist.required):
            return i
    return None


def _identify_rows(rows: list[list]) -> int | None:
    """The list number that a header row among the first rows identifies, or None."""
    for row in rows[:HEADER_SCAN_ROWS]:
        number = annex_a_list_for_headings([str(c) for c in row])
        if number is not None:
            return number
    return None


def _missing_columns_error(path: Path, alist: AnnexList, where: str, candidates: list[list[str]]) -> ExtractError:
    best = max(candidates, key=lambda hs: len(_match_fields(alist, [heading_key(h) for h in hs])), default=[])
    found = _match_fields(alist, [heading_key(h) for h in best])
    missing = [alist.field(c).heading for c in alist.required if c not in found]
    shown = heading_summary([h for h in best if h]) if best else "none"
    return ExtractError(
        path, f"{alist.label} {where} is missing required column(s) {', '.join(missing)} (headings found: {shown})"
    )


def _sheet_list(book: calamine.CalamineWorkbook, path: Path, name: str) -> int | None:
    """The list a sheet holds: by its name, else (for sheets that are not guidance, codes...) by its headings."""
    number = annex_a_list_for_sheet_name(name)
    if number is None and not _NOT_A_LIST.search(heading_key(name)):
        number = _identify_rows(_sheet_rows(book, path, name, HEADER_SCAN_ROWS))
    return number


def annex_a_workbook_lists(path: Path) -> dict[str, int]:
    """Sheet -> Annex A list number for every list sheet of a workbook (the detector's check; ExtractError if unreadable)."""
    path = Path(path)
    book = _open_workbook(path)
    found = {name: _sheet_list(book, path, name) for name in book.sheet_names}
    return {name: number for name, number in found.items() if number is not None}


class _DateText(dict[object, str | None]):
    """Memo of the cells of a column of dates, text and blanks as `_cell_text` gives them (dates repeat a lot).

    Only for those types: no date equals a text, whereas a memo of numbers would take True for 1.0.
    """

    def __missing__(self, cell: object) -> str | None:
        text = self[cell] = _cell_text(cell)
        return text


def _column_text(values: tuple) -> list[str | None]:
    """A column of cells as `_cell_text` gives them, converted by the types it holds (text columns as they are)."""
    kinds = set(map(type, values))
    if kinds <= {str, type(None)}:
        return [v or None for v in values]
    if kinds <= {str, type(None), dt.date}:  # dates (and text): each distinct cell converted once, as _cell_text does
        return list(map(_DateText().__getitem__, values))
    return [_cell_text(v) for v in values]


def _column_array(values: tuple) -> np.ndarray:
    """A column of cells as a NumPy array of the text `_column_text` gives (objects: str or None).

    NumPy, not Arrow: building an Arrow array from Python objects imports pandas (half a second of
    CPU the reading need not pay); DuckDB scans a dict of NumPy arrays without it.
    """
    return np.array(_column_text(values), dtype=object)


_CELLS = "_annex_a_cells"  # the registered NumPy columns of one sheet; _annex_a_raw is their VARCHAR table


def _register_sheet(con: duckdb.DuckDBPyConnection, rows: list[list], header: int, width: int) -> None:
    """Put the data rows below the header in the TEMP table _annex_a_raw(row_number, c0, c1, ...), all text.

    The cells are handed to DuckDB as NumPy object arrays and copied once into a table (CAST: a column
    with no text at all would otherwise have DuckDB's NULL type), so the staging statements scan
    DuckDB's own vectors rather than Python objects.
    """
    data = rows[header + 1 :]
    if data and min(map(len, data)) < width:  # rows of a sheet are as wide as its used range: pad any that are not
        data = [list(r) + [None] * (width - len(r)) for r in data]
    columns = {"row_number": np.arange(header + 2, header + 2 + len(data), dtype=np.int32)}
    cells = list(zip(*data)) if data else [() for _ in range(width)]
    for j in range(width):
        columns[f"c{j}"] = _column_array(cells[j])
    con.register(_CELLS, columns)
    try:
        text = "".join(f", CAST(c{j} AS VARCHAR) AS c{j}" for j in range(width))
        con.execute(f"CREATE OR REPLACE TEMP TABLE _annex_a_raw AS SELECT row_number{text} FROM {_CELLS}")
    finally:
        con.unregister(_CELLS)


def _locate_list(
    book: calamine.CalamineWorkbook, path: Path, name: str, alist: AnnexList, result: ReadResult
) -> tuple[_ListSource, list[list]] | None:
    """The list's header row and rows; None (with a notice) for an empty sheet."""
    rows = _sheet_rows(book, path, name)
    header = _find_list_header(rows, alist)
    if header is not None:
        return _ListSource(alist, name, header + 1, [_display(c) for c in rows[header]]), rows
    if not any(str(c).strip() for r in rows for c in r):
        result.notices.append(f"{alist.label}: sheet '{name}' is empty")
        return None
    candidates = [[_display(c) for c in r] for r in rows[:HEADER_SCAN_ROWS]]
    raise _missing_columns_error(path, alist, f"(sheet '{name}')", candidates)


def _stage_sheet(
    con: duckdb.DuckDBPyConnection, source: _ListSource, rows: list[list] | None, tables: list[str]
) -> ReadResult:
    """Stage one located list (or create the empty staged table of an empty sheet: `rows` None); what it found.

    `tables` is the staged tables created so far, shared by the sheets of the workbook: a list on two sheets
    is staged into one table, never created again (that would drop the rows of the first).
    """
    found = ReadResult(format=FORMAT, entities=tables)
    if rows is None:
        _stage_empty(con, source.alist, found)
        return found
    try:
        _register_sheet(con, rows, source.header_row - 1, len(source.headings))
        _stage_list(con, source, found)
    finally:
        con.execute("DROP TABLE IF EXISTS _annex_a_raw")
    return found


def _read_workbook(path: Path, con: duckdb.DuckDBPyConnection) -> ReadResult:
    """Find and stage the workbook's lists, as if one after the other: every sheet is located first (a sheet's
    error comes before any staging error, its notices before theirs), then each list is staged in sheet order.

    The work overlaps: calamine parses the next sheet on this thread (it holds the GIL) while one staging
    thread runs the previous sheet's statements in DuckDB (which lets go of it). Only that thread uses
    `con`, one statement at a time, and it has finished before this returns or raises.
    """
    book = _open_workbook(path)
    result = ReadResult(format=FORMAT)
    tables: list[str] = []  # written by the staging thread only
    empty: list[str] = []  # the entities of empty sheets
    staging: list[Future[ReadResult]] = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="annex-a-staging") as stager:
        try:
            for name in book.sheet_names:
                number = _sheet_list(book, path, name)
                if number is None:
                    continue
                if number not in LISTS:
                    result.notices.append(f"List {number} ({LIST_TITLES[number]}) skipped: not used by the dashboard")
                    continue
                located = _locate_list(book, path, name, LISTS[number], result)
                if located is None:
                    empty.append(LISTS[number].entity)
                source, rows = located or (_ListSource(LISTS[number], name, 0, []), None)
                staging.append(stager.submit(_stage_sheet, con, source, rows, tables))
        except BaseException:
            stager.shutdown(wait=True, cancel_futures=True)  # the running statement ends before the error is raised
            raise
        staged = [future.result() for future in staging]  # the first failing sheet's error, in sheet order
    if not staging:
        shown = ", ".join(book.sheet_names[:20]) + (" ..." if len(book.sheet_names) > 20 else "")
        raise ExtractError(path, f"not an Annex A workbook: no List 1/3/4/6 sheets found (sheets: {shown})")
    for found in staged:
        result.rows_read += found.rows_read
        result.notices.extend(found.notices)
    result.entities = list(dict.fromkeys(empty + tables))  # the order of a reader creating the empty sheets' first
    return result


# --- reading per-list CSV files -------------------------------------------------------------

_CSV_ERRORS, _CSV_SCANS = "_annex_a_csv_errors", "_annex_a_csv_scans"


def _read_csv_sql(width: int, skip: int, delimiter: str, encoding: str, parallel: bool) -> str:
    names = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width))
    delim = {"\t": "\\t"}.get(delimiter, delimiter)
    return (
        f"read_csv($path, columns={{{names}}}, header=true, skip={skip}, auto_detect=false, delim='{delim}',"
        f" quote='\"', escape='\"', null_padding=true, parallel={str(parallel).lower()}, encoding='{encoding}',"
        f" store_rejects=true, rejects_table='{_CSV_ERRORS}', rejects_scan='{_CSV_SCANS}')"
    )


def _load_csv_raw(con: duckdb.DuckDBPyConnection, path: Path, shown_as: Path, header: HeaderRow, encoding: str) -> None:
    """Read every record below the header as text, in file order; TEMP view _annex_a_raw(row_number, c0...)."""
    for parallel in (True, False):
        for table in (_CSV_ERRORS, _CSV_SCANS):  # rejects of an earlier attempt would be counted again
            con.execute(f"DROP TABLE IF EXISTS {table}")
        try:
            with insertion_order(con, preserve=True):  # rowid must be the record's position in the file
                con.execute(
                    "CREATE OR REPLACE TEMP TABLE _annex_a_csv AS SELECT * FROM"
                    f" {_read_csv_sql(len(header.headings), header.line_index, header.delimiter, encoding, parallel)}",
                    {"path": str(path)},
                )
            break
        except duckdb.Error as err:
            if not parallel:
                raise ExtractError(shown_as, f"CSV could not be read ({_one_line(err)})") from None
            # line breaks inside quoted values cannot be read in parallel: read serially
    number_records(con, "_annex_a_csv", _CSV_ERRORS, header.line_index + 2, "_annex_a_raw")
    records = con.execute(
        f"SELECT (SELECT count(*) FROM _annex_a_csv) + (SELECT count(DISTINCT line) FROM {_CSV_ERRORS})"
    ).fetchall()[0][0]
    check_all_lines_accounted(
        con, path, shown_as, header.line_index, int(records), "_annex_a_csv", _CSV_ERRORS, len(header.headings)
    )


def _csv_header(path: Path, shown_as: Path) -> HeaderRow:
    head = read_head(path)
    header = find_header(head, lambda hs: annex_a_list_for_headings(hs) is not None)
    if header is not None:
        return header
    hint = annex_a_list_for_sheet_name(shown_as.stem)
    candidates = [row.headings for row in header_rows(head)]
    if hint in LISTS:
        raise _missing_columns_error(shown_as, LISTS[hint], "(CSV)", candidates)
    shown = heading_summary(candidates[0]) if candidates else "none"
    raise ExtractError(shown_as, f"not an Annex A list: the headings match no list (headings found: {shown})")


def _read_csv(path: Path, con: duckdb.DuckDBPyConnection) -> ReadResult:
    with open(path, "rb") as handle:
        start = handle.read(4096)
    if not start.strip():
        raise ExtractError(path, "file is empty")
    if looks_binary(start):
        raise ExtractError(path, "not a CSV file (binary content)")
    result = ReadResult(format=FORMAT)
    with tempfile.TemporaryDirectory(prefix="annex_a_") as folder:
        text = utf8_source(path, Path(folder))  # UTF-16 and Windows-1252 files are read from a UTF-8 copy
        if text.notice:
            result.notices.append(text.notice)
        header = _csv_header(text.path, path)
        if problem := truncation(text.path, header, "utf-8"):
            raise ExtractError(path, problem)
        number = annex_a_list_for_headings(header.headings)
        if number is None:
            raise ExtractError(path, "its headings match no Annex A list")
        if number not in LISTS:
            result.notices.append(f"List {number} ({LIST_TITLES[number]}) skipped: not used by the dashboard")
            return result
        _load_csv_raw(con, text.path, path, header, "utf-8")
    alist = LISTS[number]
    source = _ListSource(alist, f"List {number}", header.line_index + 1, [_display(h) for h in header.headings])
    _stage_list(con, source, result)
    malformed = con.execute(
        "INSERT INTO staged_rejects SELECT ?, line, ?, json_object('csv_line', any_value(csv_line)),"
        f" 'CSV line could not be read: ' || min(error_message) FROM {_CSV_ERRORS} GROUP BY line ORDER BY line",
        [source.sheet, alist.entity],
    ).fetchall()[0][0]
    result.rows_read += int(malformed)
    return result


# --- staging: the same SQL for workbooks and CSVs ---------------------------------------------
#
# Each field's distinct raw values (collected in one scan) are normalised once, into one narrow
# lookup of every field's values (a materialised CTE `lookup` of the row statement: field, raw,
# present, the value in the column of its kind, and a flag for a value that is present but did
# not parse or map): clean text (cleaned once per value), parsed id/date/number, or the code of
# ingest.codes_map (one code map for all the list's coded fields). Values repeat a lot (dates,
# codes, teams), so the regular expressions run on a few thousand values, not on every row; plain
# child ids need no normalising and are left out. The row query joins each field to its part of
# the lookup and writes staged_<entity> directly, all in one statement per list (a statement is
# planned once: its cost on a small file). Rows without a child id or key date are then moved to
# staged_rejects.


def _stage_empty(con: duckdb.DuckDBPyConnection, alist: AnnexList, result: ReadResult) -> None:
    if alist.entity not in result.entities:
        con.execute(staged_ddl(alist.entity))
        result.entities.append(alist.entity)


# The lookup's column holding a field's value, by the field's kind.
_VALUE_COLUMN = {
    "child_id": "v_text",
    "text": "v_text",
    "code": "v_text",
    "date": "v_date",
    "int": "v_int",
    "double": "v_double",
    "bool": "v_bool",
}


def _flagged(f: Field, alist: AnnexList) -> bool:
    """True when a present value that does not parse or map flags the row (the key date makes a reject instead)."""
    return f.kind in ("code", "bool") or (f.kind in ("date", "int", "double") and f.column != alist.key_field)


def _named(fields: list[Field], kinds: tuple[str, ...]) -> str:
    """SQL: TRUE when the lookup row's field is one of `fields` of the given kinds."""
    names = ", ".join(f"'{f.column}'" for f in fields if f.kind in kinds)
    return f"field IN ({names})" if names else "FALSE"


def _lookup_sql(alist: AnnexList, positions: dict[str, int]) -> str:
    """The CTEs (from WITH on) of the lookup: one row per field and distinct raw value, with its normalised value.

    `_vals` has each field's distinct raw values (one scan of _annex_a_raw, see
    ingest.readers.value_tables.distinct_values_sql); `lookup` has (field, raw, present, v_text,
    v_date, v_int, v_double, v_bool, flag): `present` is FALSE for a missing value, the value sits in
    the column of the field's kind (_VALUE_COLUMN) and `flag` is TRUE for a present value that does
    not parse (date, number) or map (code, yes/no).
    """
    fields = [f for f in alist.fields if f.column in positions]
    raw = {f.column: f"c{positions[f.column]}" for f in fields}
    skip = {f.column: plain_id_sql(raw[f.column]) for f in fields if f.kind == "child_id"}  # used as they are
    each = " UNION ALL ".join(
        f"SELECT '{f.column}' AS field, {f.column} AS raw FROM _vals WHERE {f.column} IS NOT NULL" for f in fields
    )
    coded = [f for f in fields if f.kind in ("code", "bool")]
    domain = (
        "CASE field " + " ".join(f"WHEN '{f.column}' THEN '{f.domain}'" for f in coded) + " END" if coded else "NULL"
    )
    codes = "SELECT NULL::VARCHAR AS domain, NULL::VARCHAR AS value, NULL::VARCHAR AS code WHERE FALSE"
    if coded:
        codes = code_map_sql("SELECT domain, clean AS value FROM _cleaned WHERE domain IS NOT NULL")
    parsed = f"""
            CASE WHEN {_named(fields, ("child_id",))} THEN {child_id_sql("clean")}
                 WHEN {_named(fields, ("text",))} THEN clean
                 WHEN {_named(fields, ("code",))} THEN coalesce(m.code, clean) END AS v_text,
            CASE WHEN {_named(fields, ("date",))} THEN {date_sql("clean")} END AS v_date,
            CASE WHEN {_named(fields, ("int",))} THEN {integer_sql("clean")} END AS v_int,
            CASE WHEN {_named(fields, ("double",))} THEN {double_sql("clean")} END AS v_double,
            CASE WHEN {_named(fields, ("bool",))} THEN {boolean_sql("m.code")} END AS v_bool,
            m.code"""
    return f"""
        WITH _vals AS MATERIALIZED ({distinct_values_sql("_annex_a_raw", raw, skip)}),
        _cleaned AS MATERIALIZED (
            SELECT field, raw, {clean_text_sql("raw")} AS clean, {domain} AS domain FROM ({each})),
        _codes AS MATERIALIZED ({codes}),
        _parsed AS (
            SELECT field, raw, clean, {parsed}
            FROM _cleaned c LEFT JOIN _codes m ON m.domain = c.domain AND m.value = c.clean),
        lookup AS MATERIALIZED (
            SELECT field, raw, clean IS NOT NULL AS present, v_text, v_date, v_int, v_double, v_bool,
                   clean IS NOT NULL AND CASE WHEN {_named(fields, ("code", "bool"))} THEN code IS NULL
                                              WHEN {_named(fields, ("date",))} THEN v_date IS NULL
                                              WHEN {_named(fields, ("int",))} THEN v_int IS NULL
                                              WHEN {_named(fields, ("double",))} THEN v_double IS NULL
                                              ELSE FALSE END AS flag
            FROM _parsed)"""


def _flags_sql(fields: list[Field], alist: AnnexList) -> str:
    """SQL of the row's flags: an empty list unless a value did not map or parse (the common case is cheap)."""
    conditions = {_flag_name(f): f"m_{f.column}.flag" for f in fields if _flagged(f, alist)}
    if not conditions:
        return "[]::VARCHAR[]"
    items = ", ".join(f"CASE WHEN {c} THEN '{name}' END" for name, c in conditions.items())
    return (
        f"CASE WHEN {' OR '.join(conditions.values())}"
        f" THEN list_filter([{items}], lambda x: x IS NOT NULL) ELSE []::VARCHAR[] END"
    )


def _flag_name(f: Field) -> str:
    return f"{f.column}_unmapped" if f.kind in ("code", "bool") else f"{f.column}_unparsed"


def _rows_sql(source: _ListSource, positions: dict[str, int]) -> str:
    """The lookup's CTEs and the SELECT of staged_<entity>'s columns for every non-blank row of _annex_a_raw (param $sheet).

    A field's value comes from its rows of the lookup, joined as m_<column>; a plain child id
    (not in the lookup) is the id as it is.
    """
    alist = source.alist
    fields = [f for f in alist.fields if f.column in positions]
    joins = " ".join(
        f"LEFT JOIN (SELECT * FROM lookup WHERE field = '{f.column}') m_{f.column} ON m_{f.column}.raw = r.c{positions[f.column]}"
        for f in fields
    )
    values = {f.column: f"m_{f.column}.{_VALUE_COLUMN[f.kind]}" for f in fields}
    values["child_id"] = value_or_skipped_sql("m_child_id", values["child_id"], f"r.c{positions['child_id']}")
    used = set(positions.values())
    other = [
        f"coalesce(length(trim(replace(r.c{j}, chr(160), ' '))), 0) > 0"
        for j, h in enumerate(source.headings)
        if h and j not in used
    ]
    not_blank = " OR ".join(
        [
            f"{values['child_id']} IS NOT NULL",
            *(present_sql(f"m_{f.column}") for f in fields if f.kind != "child_id"),
            *other,
        ]
    )
    outputs = [f"{values[c]} AS {c}" if c in values else f"NULL AS {c}" for c in staged_columns(alist.entity)[:-3]]
    return f"""{_lookup_sql(alist, positions)}
        SELECT {", ".join(outputs)}, $sheet AS sheet, r.row_number,
               {_flags_sql(fields, alist)} AS flags
        FROM _annex_a_raw r {joins}
        WHERE {not_blank}"""


def _stage_list(con: duckdb.DuckDBPyConnection, source: _ListSource, result: ReadResult) -> None:
    """Stage one list's rows from _annex_a_raw into staged_<entity> and staged_rejects."""
    alist = source.alist
    positions = _match_fields(alist, [heading_key(h) for h in source.headings])
    _stage_empty(con, alist, result)
    with insertion_order(con, preserve=False):  # staged rows carry their row_number: any order will do
        inserted = con.execute(
            f"INSERT INTO staged_{alist.entity} ({', '.join(staged_columns(alist.entity))})"
            f" {_rows_sql(source, positions)}",
            {"sheet": source.sheet},
        ).fetchall()[0][0]
    result.rows_read += int(inserted)
    blank = con.execute("SELECT count(*) FROM _annex_a_raw").fetchall()[0][0] - int(inserted)
    if blank:
        result.notices.append(f"{source.alist.label}, sheet '{source.sheet}': {blank} blank row(s) skipped")
    _move_rejects(con, source, positions)
    result.notices.extend(_list_notices(con, source, positions))


def _reject_reason_sql(key: str, key_clean: str) -> str:
    return (
        "nullif(concat_ws('; ', CASE WHEN s.child_id IS NULL THEN $child_heading || ' is missing' END,"
        f" CASE WHEN s.{key} IS NOT NULL THEN NULL WHEN {key_clean} IS NULL THEN $key_heading || ' is missing'"
        f" ELSE $key_heading || ' ''' || {key_clean} || ''' is not a date' END), '')"
    )


def _move_rejects(con: duckdb.DuckDBPyConnection, source: _ListSource, positions: dict[str, int]) -> None:
    """Move the list's rows without a child id or key date from staged_<entity> to staged_rejects."""
    alist = source.alist
    table, key = f"staged_{alist.entity}", alist.key_field
    rejected = f"sheet = $sheet AND (child_id IS NULL OR {key} IS NULL)"
    if not con.execute(f"SELECT count(*) FROM {table} WHERE {rejected}", {"sheet": source.sheet}).fetchall()[0][0]:
        return
    columns = [j for j, h in enumerate(source.headings) if h]
    headings = _unique_headings([source.headings[j] for j in columns])
    raw_json = "json_object(" + ", ".join(f"$h{i}, r.c{j}" for i, j in enumerate(columns)) + ")"
    reason = _reject_reason_sql(key, clean_text_sql(f"r.c{positions[key]}"))
    params: dict[str, object] = {f"h{i}": h for i, h in enumerate(headings)}
    params.update(
        sheet=source.sheet,
        entity=alist.entity,
        child_heading=source.headings[positions["child_id"]],
        key_heading=source.headings[positions[key]],
    )
    con.execute(
        f"INSERT INTO staged_rejects SELECT $sheet, r.row_number, $entity, {raw_json}, {reason}"
        f" FROM (SELECT row_number, child_id, {key} FROM {table} WHERE {rejected}) s"
        " JOIN _annex_a_raw r USING (row_number) ORDER BY r.row_number",
        params,
    )
    con.execute(f"DELETE FROM {table} WHERE {rejected}", {"sheet": source.sheet})


def _list_notices(con: duckdb.DuckDBPyConnection, source: _ListSource, positions: dict[str, int]) -> list[str]:
    alist = source.alist
    where = f"{alist.label}, sheet '{source.sheet}'"
    notices = []
    absent = [f.heading for f in alist.fields if f.column not in positions]
    if absent:
        notices.append(f"{where}: no column for {', '.join(absent)} (left empty)")
    counts = con.execute(
        f"SELECT flag, count(*) FROM (SELECT unnest(flags) AS flag FROM staged_{alist.entity}"
        " WHERE sheet = $sheet AND len(flags) > 0) GROUP BY flag ORDER BY flag",
        {"sheet": source.sheet},
    ).fetchall()
    if counts:
        notices.append(
            f"{where}: values kept as written and flagged: " + ", ".join(f"{flag} ({n} rows)" for flag, n in counts)
        )
    rejected = con.execute(
        "SELECT count(*) FROM staged_rejects WHERE sheet = $sheet", {"sheet": source.sheet}
    ).fetchall()[0][0]
    if rejected:
        key_heading = alist.field(alist.key_field).heading
        notices.append(f"{where}: {rejected} row(s) rejected (no child id, or no valid {key_heading})")
    return notices


# --- entry point ----------------------------------------------------------------------------


def _is_workbook(path: Path) -> bool:
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        return True
    with open(path, "rb") as handle:
        return handle.read(4) in (_ZIP_MAGIC, _OLE_MAGIC)


def read_annex_a(path: Path, con: duckdb.DuckDBPyConnection) -> ReadResult:
    """Stage an Annex A workbook or per-list CSV as TEMP staged_<entity> tables (+ staged_rejects) on `con`."""
    path = Path(path)
    if not path.is_file():
        raise ExtractError(path, "file not found")
    create_staged_rejects(con)
    ensure_code_synonyms(con)  # once for the file's lists
    try:
        if _is_workbook(path):
            return _read_workbook(path, con)
        return _read_csv(path, con)
    finally:
        con.execute("DROP VIEW IF EXISTS _annex_a_raw")
        for table in ("_annex_a_csv", "_annex_a_raw_shifts", _CSV_ERRORS, _CSV_SCANS):
            con.execute(f"DROP TABLE IF EXISTS {table}")
