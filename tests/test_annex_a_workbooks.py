"""The Annex A reader on small hand-made messy workbooks (xlsxwriter .xlsx, xlwt .xls): variants, normalisation, rejects, errors."""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import xlsxwriter
import xlwt

from ingest.readers.annex_a import annex_a_list_for_sheet_name, read_annex_a
from ingest.readers.base import ExtractError
from tests.storekit import fresh_connection

NBSP = "\u00a0"
LIST_1 = [
    "Child Unique ID",
    "Gender",
    "Ethnicity",
    "Date of Birth",
    "Age of Child (Years)",
    "Date of Contact",
    "Contact Source",
]
LIST_3 = [
    "Child Unique ID",
    "Gender",
    "Ethnicity",
    "Date of Birth",
    "Age of Child (Years)",
    "Date of Referral",
    "Referral Source",
    "Referral NFA?",
    "Number of Referrals in Last 12 Months",
    "Allocated Team",
    "Allocated Worker",
]
LIST_4 = [
    "Child Unique ID",
    "Gender",
    "Ethnicity",
    "Date of Birth",
    "Age of Child (Years)",
    "Does the Child have a Disability",
    "Continuous Assessment Start Date",
    "Child Seen During Continuous Assessment",
    "Continuous Assessment Date of Authorisation",
    "Was the child assessed as requiring LA children’s social care support?",
    "Allocated Team",
    "Allocated Worker",
]
LIST_6 = [
    "Child Unique ID",
    "Gender",
    "Ethnicity",
    "Date of Birth",
    "Age of Child (Years)",
    "Does the Child have a Disability",
    "CIN Start Date",
    "Primary Need Code",
    "Date Child Was Last Seen",
    "CIN Closure Date",
    "Reason for Closure",
    "Case Status",
    "Allocated Team",
    "Allocated Worker",
]


@dataclass(frozen=True)
class Formula:
    """A formula cell with the value Excel cached for it."""

    formula: str
    cached: float | str


def write_xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    """A workbook: dates as real date cells, Formula as formula + cached value, None as an empty cell."""
    book = xlsxwriter.Workbook(str(path))
    date_format = book.add_format({"num_format": "dd/mm/yyyy"})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, Formula):
                    sheet.write_formula(r, c, value.formula, date_format, value.cached)
                elif isinstance(value, dt.date):
                    sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_format)
                elif isinstance(value, str):
                    sheet.write_string(r, c, value)
                else:
                    sheet.write_number(r, c, value)
    book.close()
    return path


def staged(con: duckdb.DuckDBPyConnection, entity: str, columns: str) -> list[tuple]:
    return con.execute(f"SELECT {columns} FROM staged_{entity} ORDER BY sheet, row_number").fetchall()


def rejects(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "SELECT sheet, row_number, entity, reason FROM staged_rejects ORDER BY sheet, row_number"
    ).fetchall()


# --- a messy List 3 ------------------------------------------------------------------------

MESSY_HEADINGS = [
    "child unique id ",
    "GENDER",
    "Ethnicity ",
    f"Date{NBSP}of Birth",
    "Age",
    f"Date{NBSP}of referral ",
    "referral source",
    "Referral NFA? ",
    "Number of referrals in last 12 months",
    "Allocated Team",
    "Allocated Worker",
]


@pytest.fixture(scope="module")
def messy(tmp_path_factory) -> tuple[duckdb.DuckDBPyConnection, object]:
    rows: list[list[object]] = [
        ["Annex A - List 3: Referrals"],  # row 1: title
        ["Extract date 31/03/2024"],  # row 2: title
        MESSY_HEADINGS,  # row 3: header
        [
            1005,
            "b) Female",
            "a) WBRI",
            dt.date(2015, 1, 1),
            9,
            dt.date(2024, 1, 5),
            "q) 6: Police",
            "a) Yes",
            2,
            f"Team{NBSP}A",
            f"Jo{NBSP}Bloggs ",
        ],  # row 4: real dates, prefixed codes, nbsp
        [
            "1005.0",
            "F",
            "WBRI",
            "01/02/2015",
            "9",
            45296,
            "Police",
            "yes",
            "2",
            "Team A",
            "Jo Bloggs",
        ],  # row 5: text, serial
        [
            " 1005 ",
            "Female",
            "White British",
            42005,
            9.5,
            Formula("=DATE(2024,2,1)", 45323),
            "6",
            "b) No",
            3.0,
            "Team A",
            "Jo Bloggs",
        ],  # row 6: formula with a cached value
        [],  # row 7: blank
        [
            2001,
            "Male",
            "Martian",
            "31/13/2010",
            "nine",
            "31/01/2024",
            "e) 2A: Schools",
            "Maybe",
            "#N/A",
            "#N/A",
            "",
        ],  # row 8: unmapped and unparsed values
        [
            None,
            "a) Male",
            "a) WBRI",
            None,
            None,
            dt.date(2024, 1, 9),
            "Police",
            "No",
            0,
            "Team B",
            "Al",
        ],  # row 9: no id
        [2002, "a) Male", "a) WBRI", None, None, "31/02/2024", "Police", "No", 0, "Team B", "Al"],  # row 10: bad date
        [2003, "a) Male", "a) WBRI", None, None, "#N/A", "Police", "No", 0, "Team B", "Al"],  # row 11: no date
        [
            "#N/A",
            "#N/A",
            "#N/A",
            "#N/A",
            "#N/A",
            "#N/A",
            "#N/A",
            "#N/A",
            "#N/A",
            "#N/A",
            "#N/A",
        ],  # row 12: dragged formulas
        ["", None, " ", NBSP],  # row 13: blank-looking
    ]
    path = write_xlsx(
        tmp_path_factory.mktemp("messy") / "messy.xlsx",
        {"Front_Sheet": [["Annex A"]], "List_3": rows, "Codes_used": [["Gender"], ["a) Male"]]},
    )
    con = fresh_connection()
    return con, read_annex_a(path, con)


def test_messy_rows_load_from_below_the_title_rows(messy):
    con, result = messy
    assert result.entities == ["referrals"]
    assert [r[0] for r in staged(con, "referrals", "row_number")] == [4, 5, 6, 8]
    assert result.rows_read == 7  # 4 staged + 3 rejected; rows 7, 12 and 13 are blank


def test_child_ids_1005_and_1005_0_and_text_are_one_child(messy):
    con, _ = messy
    assert [r[0] for r in staged(con, "referrals", "child_id")] == ["1005", "1005", "1005", "2001"]


def test_dates_real_text_serial_and_formula(messy):
    con, _ = messy
    assert staged(con, "referrals", "referral_date, date_of_birth")[:3] == [
        (dt.date(2024, 1, 5), dt.date(2015, 1, 1)),  # real date cells
        (dt.date(2024, 1, 5), dt.date(2015, 2, 1)),  # serial 45296 and DD/MM/YYYY text
        (dt.date(2024, 2, 1), dt.date(2015, 1, 1)),  # formula's cached value; serial 42005
    ]


def test_prefixed_and_bare_codes_give_dfe_codes(messy):
    con, _ = messy
    assert staged(con, "referrals", "sex, ethnicity, referral_source, nfa, referrals_last_12m, age_years")[:3] == [
        ("F", "WBRI", "6", True, 2, 9.0),
        ("F", "WBRI", "6", True, 2, 9.0),
        ("F", "WBRI", "6", False, 3, 9.5),
    ]


def test_nbsp_and_spaces_in_names_are_cleaned(messy):
    con, _ = messy
    assert set(staged(con, "referrals", "team, worker")[:3]) == {("Team A", "Jo Bloggs")}


def test_unmapped_codes_are_kept_as_written_and_flagged(messy):
    con, result = messy
    row = con.execute(
        "SELECT sex, ethnicity, referral_source, nfa, date_of_birth, age_years, referrals_last_12m,"
        " team, worker, flags FROM staged_referrals WHERE row_number = 8"
    ).fetchone()
    assert row[:9] == ("M", "Martian", "2A", None, None, None, None, None, None)
    assert sorted(row[9]) == ["age_years_unparsed", "date_of_birth_unparsed", "ethnicity_unmapped", "nfa_unmapped"]
    assert con.execute("SELECT flags FROM staged_referrals WHERE row_number = 4").fetchone()[0] == []
    assert any("ethnicity_unmapped (1 rows)" in n for n in result.notices)


def test_each_reject_has_its_reason_row_and_raw_values(messy):
    con, _ = messy
    assert rejects(con) == [
        ("List_3", 9, "referrals", "child unique id is missing"),
        ("List_3", 10, "referrals", "Date of referral '31/02/2024' is not a date"),
        ("List_3", 11, "referrals", "Date of referral is missing"),
    ]
    raw = json.loads(con.execute("SELECT raw FROM staged_rejects WHERE row_number = 10").fetchone()[0])
    assert list(raw) == [" ".join(h.split()) for h in MESSY_HEADINGS]
    assert raw["Date of referral"] == "31/02/2024" and raw["child unique id"] == "2002"


def test_guidance_front_and_codes_sheets_are_ignored(messy):
    _, result = messy
    assert not [n for n in result.notices if "Front" in n or "Codes" in n]


# --- sheet names and headings ----------------------------------------------------------------


@pytest.mark.parametrize(
    "sheet, entity",
    [
        ("List 3", "referrals"),
        ("List_3", "referrals"),
        ("Referrals", "referrals"),
        ("List 3 - Referrals", "referrals"),
        ("list 3", "referrals"),
        ("LIST_3 ", "referrals"),
        ("List3", "referrals"),
        ("List 1", "contacts"),
        ("Contacts", "contacts"),
        ("List 4 - Assessments", "assessments"),
        ("Assessments", "assessments"),
        ("Children in Need", "cin_episodes"),
        ("CIN", "cin_episodes"),
        ("List_6", "cin_episodes"),
    ],
)
def test_sheet_name_variants(tmp_path: Path, sheet: str, entity: str):
    headings = {"referrals": LIST_3, "contacts": LIST_1, "assessments": LIST_4, "cin_episodes": LIST_6}[entity]
    row = [1005, "a) Male", "a) WBRI", dt.date(2010, 1, 1), 14] + [dt.date(2024, 3, 1)] * (len(headings) - 5)
    path = write_xlsx(tmp_path / "book.xlsx", {sheet: [headings, row]})
    con = fresh_connection()
    result = read_annex_a(path, con)
    assert result.entities == [entity]
    assert staged(con, entity, "child_id, sheet, row_number") == [("1005", sheet, 2)]


@pytest.mark.parametrize(
    "name, number",
    [
        ("Front_Sheet", None),
        ("Guidance", None),
        ("Codes_used", None),
        ("FAQ_and_changes", None),
        ("Sheet1", None),
        ("List_2", 2),
        ("Early Help", 2),
        ("List 11", 11),
        ("List 10 - Adoption", 10),
        ("Care leavers", 9),
    ],
)
def test_sheet_names_that_are_not_loaded_lists(name: str, number: int | None):
    assert annex_a_list_for_sheet_name(name) == number


def test_a_list_under_an_unknown_sheet_name_is_found_by_its_headings(tmp_path: Path):
    path = write_xlsx(
        tmp_path / "book.xlsx",
        {"Sheet1": [["Referrals to 31 March"], LIST_3, [7, "M", "WBRI", None, None, "05/01/2024"]]},
    )
    con = fresh_connection()
    assert read_annex_a(path, con).entities == ["referrals"]
    assert staged(con, "referrals", "child_id, referral_date, row_number") == [("7", dt.date(2024, 1, 5), 3)]


def test_list_4_headings_with_curly_or_straight_apostrophe_and_lower_case(tmp_path: Path):
    straight = [h.replace("’", "'").lower() for h in LIST_4]
    row = [
        11,
        "b) Female",
        "k) APKN",
        dt.date(2012, 8, 8),
        8,
        "a) Yes",
        dt.date(2024, 1, 2),
        "b) No",
        None,
        "a) Yes",
        "Team",
        "Worker",
    ]
    path = write_xlsx(tmp_path / "book.xlsx", {"List 4": [LIST_4, row], "Assessments": [straight, row]})
    con = fresh_connection()
    read_annex_a(path, con)
    expected = ("11", dt.date(2024, 1, 2), None, True, False, True, "F", "APKN", [])
    assert staged(
        con,
        "assessments",
        "child_id, start_date, authorised_date, disabled, child_seen, requires_support, sex, ethnicity, flags",
    ) == [expected, expected]


def test_list_6_codes_and_dates(tmp_path: Path):
    rows = [
        LIST_6,
        [
            21,
            "a) Male",
            "i) MOTH",
            dt.date(2009, 1, 1),
            15,
            "b) No",
            dt.date(2023, 6, 9),
            "N1 - Abuse or neglect",
            dt.date(2024, 1, 21),
            dt.date(2024, 2, 1),
            "RC8 - Case closed after assessment, no further action",
            "e) Closed episode",
            "Locality 1",
            "Sam",
        ],
        [
            22,
            "b) Female",
            "WBRI",
            None,
            None,
            "No",
            "09/06/2023",
            "N2",
            None,
            None,
            None,
            "c) Child in need plan",
            None,
            None,
        ],
    ]
    path = write_xlsx(tmp_path / "book.xlsx", {"List 6": rows})
    con = fresh_connection()
    read_annex_a(path, con)
    assert staged(
        con,
        "cin_episodes",
        "child_id, start_date, primary_need, last_seen_date, closure_date, closure_reason,"
        " case_status, disabled, referral_source, disabilities",
    ) == [
        (
            "21",
            dt.date(2023, 6, 9),
            "N1",
            dt.date(2024, 1, 21),
            dt.date(2024, 2, 1),
            "RC8",
            "e) Closed episode",
            False,
            None,
            None,
        ),
        ("22", dt.date(2023, 6, 9), "N2", None, None, None, "c) Child in need plan", False, None, None),
    ]


def test_age_heading_variants(tmp_path: Path):
    other = ["Age" if h == "Age of Child (Years)" else h for h in LIST_1]
    row = [3, "M", "WBRI", None, 4, "05/01/2024", "Police"]
    path = write_xlsx(tmp_path / "book.xlsx", {"List 1": [LIST_1, row], "Contacts": [other, row]})
    con = fresh_connection()
    read_annex_a(path, con)
    assert staged(con, "contacts", "age_years, contact_source") == [(4.0, "6"), (4.0, "6")]


def test_only_some_lists_and_a_header_only_list(tmp_path: Path):
    path = write_xlsx(
        tmp_path / "book.xlsx",
        {
            "List 3": [LIST_3],
            "List 6": [LIST_6, [1, "M", "WBRI", None, None, None, "01/04/2023"]],
            "List 7": [["Child Unique ID"]],
        },
    )
    con = fresh_connection()
    result = read_annex_a(path, con)
    assert sorted(result.entities) == ["cin_episodes", "referrals"]
    assert staged(con, "referrals", "child_id") == []
    assert staged(con, "cin_episodes", "child_id") == [("1",)]
    assert "List 7 (Child protection) skipped: not used by the dashboard" in result.notices


def test_missing_optional_columns_are_reported(tmp_path: Path):
    path = write_xlsx(tmp_path / "book.xlsx", {"List 3": [["Child Unique ID", "Date of Referral"], [9, "01/05/2024"]]})
    con = fresh_connection()
    result = read_annex_a(path, con)
    assert staged(con, "referrals", "child_id, referral_date, sex, team") == [("9", dt.date(2024, 5, 1), None, None)]
    assert any(
        n.startswith("List 3 (Referrals), sheet 'List 3': no column for Gender, Ethnicity") for n in result.notices
    )


def test_a_list_on_two_sheets_keeps_the_rows_of_both_with_empty_sheets_anywhere(tmp_path: Path):
    """Sheets are staged on a thread of their own while the next is parsed: a list's second sheet (or an empty one
    after it) adds to its staged table and never re-creates it; the staged tables come empty sheets' first."""
    row = [3, "M", "WBRI", None, 4, "05/01/2024", "Police"]
    other = [4, "F", "WBRI", None, 5, "06/01/2024", "Schools"]
    sheets = {"List 1": [LIST_1, row], "List 3": [], "Contacts": [LIST_1, other], "List_1": []}
    path = write_xlsx(tmp_path / "book.xlsx", sheets)
    con = fresh_connection()
    result = read_annex_a(path, con)
    assert staged(con, "contacts", "sheet, child_id") == [("Contacts", "4"), ("List 1", "3")]
    assert result.entities == ["referrals", "contacts"]
    assert result.rows_read == 2
    assert result.notices[:2] == [
        "List 3 (Referrals): sheet 'List 3' is empty",
        "List 1 (Contacts): sheet 'List_1' is empty",
    ]


def test_a_later_sheet_is_refused_after_an_earlier_list_was_staged(tmp_path: Path):
    """A sheet's error is raised once the staging thread has finished with the connection."""
    rows = [[i, "M", "WBRI", None, 4, "05/01/2024", "Police"] for i in range(500)]
    path = write_xlsx(tmp_path / "book.xlsx", {"List 1": [LIST_1, *rows], "List 3": [["Child Unique ID"], [1]]})
    con = fresh_connection()
    with pytest.raises(ExtractError, match=r"List 3 \(Referrals\) \(sheet 'List 3'\) is missing required column"):
        read_annex_a(path, con)
    assert not [t for t in threading.enumerate() if t.name.startswith("annex-a-staging")]
    assert con.execute("SELECT 42").fetchall() == [(42,)]


# --- legacy .xls ---------------------------------------------------------------------------------


def test_legacy_xls_written_with_xlwt(tmp_path: Path):
    book = xlwt.Workbook()
    sheet = book.add_sheet("List_1")
    date_style = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    sheet.write(0, 0, "List 1: Contacts")
    for c, heading in enumerate(LIST_1):
        sheet.write(1, c, heading)
    sheet.write(2, 0, 1005.0)
    sheet.write(2, 1, "b) Female")
    sheet.write(2, 2, "a) WBRI")
    sheet.write(2, 3, dt.datetime(2015, 1, 1), date_style)
    sheet.write(2, 4, 9)
    sheet.write(2, 5, dt.datetime(2024, 1, 5), date_style)
    sheet.write(2, 6, "q) 6: Police")
    sheet.write(3, 0, "1006")
    sheet.write(3, 5, "06/01/2024")
    sheet.write(3, 6, "Schools")
    sheet.write(4, 0, 1007)
    sheet.write(4, 5, 45297)  # a serial number without a date format
    path = tmp_path / "legacy.xls"
    book.save(str(path))
    con = fresh_connection()
    assert read_annex_a(path, con).entities == ["contacts"]
    assert staged(
        con, "contacts", "child_id, contact_date, contact_source, sex, ethnicity, date_of_birth, row_number"
    ) == [
        ("1005", dt.date(2024, 1, 5), "6", "F", "WBRI", dt.date(2015, 1, 1), 3),
        ("1006", dt.date(2024, 1, 6), "2A", None, None, None, 4),
        ("1007", dt.date(2024, 1, 6), None, None, None, None, 5),
    ]


# --- files that cannot be loaded -------------------------------------------------------------------


def refusal(path: Path) -> str:
    with pytest.raises(ExtractError) as refused:
        read_annex_a(path, fresh_connection())
    message = str(refused.value)
    assert "\n" not in message and message.startswith(f"{path.name}: ")
    return message


def test_list_missing_required_columns(tmp_path: Path):
    path = write_xlsx(
        tmp_path / "book.xlsx", {"List 3": [["Child Unique ID", "Gender", "Referral Source"], [1, "M", "6"]]}
    )
    assert refusal(path) == (
        "book.xlsx: List 3 (Referrals) (sheet 'List 3') is missing required column(s) Date of Referral"
        " (headings found: 'Child Unique ID', 'Gender', 'Referral Source')"
    )


def test_list_missing_child_id_column(tmp_path: Path):
    path = write_xlsx(
        tmp_path / "book.xlsx", {"Contacts": [["Title"], ["Person", "Date of Contact"], ["x", "01/01/2024"]]}
    )
    assert "List 1 (Contacts) (sheet 'Contacts') is missing required column(s) Child Unique ID" in refusal(path)


def test_workbook_without_annex_a_lists(tmp_path: Path):
    path = write_xlsx(
        tmp_path / "book.xlsx", {"Child journeys": [["child unique id", "journey"]], "Legend": [["Event"]]}
    )
    assert refusal(path) == (
        "book.xlsx: not an Annex A workbook: no List 1/3/4/6 sheets found (sheets: Child journeys, Legend)"
    )


def test_workbook_with_only_lists_that_are_not_loaded(tmp_path: Path):
    path = write_xlsx(tmp_path / "book.xlsx", {"List 2": [["Child Unique ID"]], "List 8": [["Child Unique ID"]]})
    assert "no List 1/3/4/6 sheets found (sheets: List 2, List 8)" in refusal(path)


def test_truncated_workbook(tmp_path: Path):
    whole = write_xlsx(tmp_path / "whole.xlsx", {"List 3": [LIST_3] + [[i, "M", "WBRI"] for i in range(200)]})
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert "cannot read workbook" in refusal(cut)


def test_not_a_spreadsheet(tmp_path: Path):
    path = tmp_path / "notes.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not a zip file at all")
    assert "cannot read workbook" in refusal(path)


@pytest.mark.parametrize(
    "cells",
    [
        (dt.date(2025, 4, 1), "", None, dt.date(1900, 1, 1), dt.date(9999, 12, 31)),  # dates and blanks: the memo
        (dt.date(2025, 4, 1), "", dt.date(2025, 4, 1), dt.date(1, 1, 1), "", dt.date(2025, 4, 1)),  # repeated dates
        (dt.date(2025, 4, 1), "31/04/2025"),  # a date typed as text among dates
        (dt.date(2025, 1, 1), dt.datetime(2025, 1, 1, 3)),  # a date and a date-time
        (0.0, False, dt.date(2020, 1, 1)),  # falsy cells that are not blanks
        ("", None),
    ],
)
def test_a_column_of_cells_becomes_the_same_text_by_either_conversion(cells: tuple) -> None:
    """The column conversion (dates and blanks through a memo of each distinct date) gives the per-cell text."""
    from ingest.readers.annex_a import _cell_text, _column_array

    assert list(_column_array(cells)) == [_cell_text(c) for c in cells]
    assert all(v is None or type(v) is str for v in _column_array(cells))


def test_a_sheet_is_staged_as_text_even_where_a_column_has_no_text() -> None:
    """_annex_a_raw has VARCHAR columns whatever the cells: a column of blanks is not DuckDB's NULL type."""
    import duckdb

    from ingest.readers.annex_a import _register_sheet

    con = duckdb.connect()
    rows = [["Child ID", "Team", "Date"], ["1005", None, dt.date(2025, 4, 1)], ["1006", "", None], ["1007"]]
    _register_sheet(con, rows, 0, 3)
    assert con.execute("SELECT typeof(c0), typeof(c1), typeof(c2) FROM _annex_a_raw LIMIT 1").fetchall() == [
        ("VARCHAR", "VARCHAR", "VARCHAR")
    ]
    assert con.execute("SELECT row_number, c0, c1, c2 FROM _annex_a_raw ORDER BY row_number").fetchall() == [
        (2, "1005", None, "2025-04-01"),
        (3, "1006", None, None),
        (4, "1007", None, None),
    ]
