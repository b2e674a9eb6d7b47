"""The Annex A reader on per-list CSV files: list found by headings, the same normalisation and rejects as workbooks."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest

from ingest.readers.annex_a import annex_a_list_for_headings, read_annex_a
from ingest.readers.base import ExtractError

LIST_1 = "Child Unique ID,Gender,Ethnicity,Date of Birth,Age of Child (Years),Date of Contact,Contact Source"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def staged(con: duckdb.DuckDBPyConnection, entity: str, columns: str) -> list[tuple]:
    return con.execute(f"SELECT {columns} FROM staged_{entity} ORDER BY row_number").fetchall()


def test_list_1_csv_with_a_title_row(tmp_path: Path):
    path = write(
        tmp_path / "contacts_march.csv",
        "\n".join(
            [
                "Annex A List 1 - contacts,,,,,,",
                LIST_1,
                '1005,a) Male,a) WBRI,01/02/2015,9,05/01/2024,"q) 6: Police"',
                "1005.0,M,White British,2015-02-01,9.0,2024-01-05,Police",
                '"1006",b) Female,#N/A,,,06/01/2024,"Housing, LA"',
                ",,,,,,",
                "1007,F,WBRI,,,31/02/2024,6",
                "",
            ]
        ),
    )
    con = duckdb.connect()
    result = read_annex_a(path, con)
    assert result.format == "annex_a" and result.entities == ["contacts"]
    assert staged(
        con,
        "contacts",
        "child_id, contact_date, contact_source, sex, ethnicity, date_of_birth, age_years, sheet, row_number, flags",
    ) == [
        ("1005", dt.date(2024, 1, 5), "6", "M", "WBRI", dt.date(2015, 2, 1), 9.0, "List 1", 3, []),
        ("1005", dt.date(2024, 1, 5), "6", "M", "WBRI", dt.date(2015, 2, 1), 9.0, "List 1", 4, []),
        ("1006", dt.date(2024, 1, 6), "Housing, LA", "F", None, None, None, "List 1", 5, ["contact_source_unmapped"]),
    ]
    assert con.execute("SELECT row_number, reason FROM staged_rejects").fetchall() == [
        (7, "Date of Contact '31/02/2024' is not a date")
    ]
    raw = json.loads(con.execute("SELECT raw FROM staged_rejects").fetchone()[0])
    assert raw == dict(zip(LIST_1.split(","), ["1007", "F", "WBRI", None, None, "31/02/2024", "6"]))
    assert result.rows_read == 4


def test_semicolons_and_a_list_3_csv(tmp_path: Path):
    path = write(
        tmp_path / "extract.csv",
        "\n".join(
            [
                "Child Unique ID;Gender;Ethnicity;Date of Birth;Age;Date of referral;Referral Source;Referral NFA?;"
                "Number of Referrals in Last 12 Months;Allocated Team;Allocated Worker",
                "77;b) Female;k) APKN;;;16/09/2020;j) 3D: Health services;b) No;2;Duty Team;Mo\u00a0Khan",
            ]
        ),
    )
    con = duckdb.connect()
    assert read_annex_a(path, con).entities == ["referrals"]
    assert staged(
        con,
        "referrals",
        "child_id, referral_date, referral_source, nfa, referrals_last_12m, team, worker, sheet, row_number",
    ) == [("77", dt.date(2020, 9, 16), "3D", False, 2, "Duty Team", "Mo Khan", "List 3", 2)]


def test_row_numbers_follow_the_file_order_in_a_large_csv(tmp_path: Path):
    lines = [LIST_1] + [
        f"{i},M,WBRI,,,{(dt.date(2020, 1, 1) + dt.timedelta(days=i % 999)):%d/%m/%Y},6" for i in range(50_000)
    ]
    path = write(tmp_path / "big.csv", "\n".join(lines) + "\n")
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")  # the reader needs file order: it must set it itself
    assert read_annex_a(path, con).rows_read == 50_000
    assert con.execute("SELECT current_setting('preserve_insertion_order')").fetchone() == (False,)  # restored
    assert con.execute(
        "SELECT count(*) FROM staged_contacts WHERE row_number <> CAST(child_id AS INTEGER) + 2"
        " OR contact_date <> DATE '2020-01-01' + CAST(child_id AS INTEGER) % 999"
    ).fetchone() == (0,)


def test_a_csv_of_a_list_that_is_not_loaded_is_skipped(tmp_path: Path):
    path = write(
        tmp_path / "list2.csv",
        "Child Unique ID,Gender,Ethnicity,Date of Birth,Age of Child (Years),"
        "Assessment start date,Assessment completion date,Organisation completing assessment\n"
        "1,M,WBRI,,,01/01/2024,,School\n",
    )
    con = duckdb.connect()
    result = read_annex_a(path, con)
    assert result.entities == [] and result.rows_read == 0
    assert result.notices == ["List 2 (Early help) skipped: not used by the dashboard"]
    assert con.execute("SELECT count(*) FROM staged_rejects").fetchone() == (0,)


def test_malformed_csv_lines_become_rejects_and_later_rows_keep_their_line_numbers(tmp_path: Path):
    path = write(
        tmp_path / "l1.csv",
        "\n".join(
            [
                "List 1",
                LIST_1,  # lines 1-2
                "1,M,WBRI,,,01/01/2024,6",  # line 3
                "2,M,WBRI,,,01/01/2024,6,extra,fields",  # line 4: too many fields
                "3,M,WBRI,,,01/01/2024,6",  # line 5
                "4,M,WBRI,,,01/01/2024,6,x",  # line 6: too many fields
                "5,M,WBRI,,,01/01/2024,6,y",  # line 7: too many fields
                "6,M,WBRI,,,01/01/2024,6",  # line 8
                '7,M,WBRI,,,01/01/2024,"Police,\nYOT"',  # lines 9-10: a line break inside quotes (read serially)
            ]
        )
        + "\n",
    )
    con = duckdb.connect()
    result = read_annex_a(path, con)
    assert staged(con, "contacts", "child_id, row_number") == [("1", 3), ("3", 5), ("6", 8), ("7", 9)]
    assert [r[0] for r in con.execute("SELECT row_number FROM staged_rejects ORDER BY 1").fetchall()] == [4, 6, 7]
    reasons = {r[0] for r in con.execute("SELECT reason FROM staged_rejects").fetchall()}
    assert all(reason.startswith("CSV line could not be read") for reason in reasons)
    assert result.rows_read == 7


def test_latin_1_csv_loads(tmp_path: Path):
    text = LIST_1.replace("Contact Source", "Contact Source") + "\n5,F,WBRI,,,02/01/2024,‘POLICE’.\n"
    path = write(tmp_path / "cp1252.csv", text, "cp1252")
    con = duckdb.connect()
    result = read_annex_a(path, con)
    assert staged(con, "contacts", "child_id, contact_date, contact_source") == [("5", dt.date(2024, 1, 2), "6")]
    assert "file is not UTF-8: read as Windows-1252 (Latin-1)" in result.notices


def test_csv_that_stops_being_utf_8_after_its_first_lines(tmp_path: Path):
    lines = [LIST_1] + [f"{i},M,WBRI,,,02/01/2024,6" for i in range(3000)] + ["9999,F,WBRI,,,03/01/2024,‘POLICE’."]
    path = write(tmp_path / "late.csv", "\n".join(lines) + "\n", "cp1252")
    assert path.stat().st_size > 64 * 1024  # past the head that csv_sniff decodes
    con = duckdb.connect()
    result = read_annex_a(path, con)
    assert result.rows_read == 3001 and "file is not UTF-8: read as Windows-1252 (Latin-1)" in result.notices
    assert staged(con, "contacts", "child_id, contact_source")[-1] == ("9999", "6")


@pytest.mark.parametrize(
    "name, text, problem",
    [
        ("empty.csv", "", "file is empty"),
        ("binary.csv", "\x00\x01\x02" * 50, "not a CSV file (binary content)"),
        (
            "people.csv",
            "Name,Address,Postcode\nA,B,C\n",
            "not an Annex A list: the headings match no list (headings found: 'Name', 'Address', 'Postcode')",
        ),
        (
            "List_3.csv",
            "Child Unique ID,Gender,Referral Source\n1,M,6\n",
            "List 3 (Referrals) (CSV) is missing required column(s) Date of Referral"
            " (headings found: 'Child Unique ID', 'Gender', 'Referral Source')",
        ),
        (
            "cut.csv",
            "Child Unique ID,Date of Contact,Contact Source\n1,01/02/2024,6\n2,02/02/2",
            "looks cut short: its last line has 2 of 3 fields and no line break after it"
            " (was the file copied or downloaded completely?)",
        ),
    ],
)
def test_csv_that_cannot_be_loaded(tmp_path: Path, name: str, text: str, problem: str):
    path = write(tmp_path / name, text)
    with pytest.raises(ExtractError) as refused:
        read_annex_a(path, duckdb.connect())
    assert str(refused.value) == f"{name}: {problem}"


@pytest.mark.parametrize(
    "headings, number",
    [
        (LIST_1.split(","), 1),
        (["child unique id ", "DATE OF CONTACT"], 1),
        (["Child Unique ID", "Date of referral", "Referral Source"], 3),
        (["LA Child ID", "Continuous Assessment Start Date"], 4),
        (
            [
                "Child Unique ID",
                "Assessment start date",
                "Assessment completion date",
                "Organisation completing assessment",
            ],
            2,
        ),
        (["Child Unique ID", "CIN Start Date", "Primary Need Code"], 6),
        (["Child Unique ID", "Child Protection Plan Start Date"], 7),
        (["Child Unique ID", "Latest Date of Contact", "Eligibility Category"], 9),
        (["Child Unique ID", "Gender"], None),
        (["Date of Contact", "Contact Source"], None),  # no child id
    ],
)
def test_list_for_headings(headings: list[str], number: int | None):
    assert annex_a_list_for_headings(headings) == number


def test_a_last_line_without_a_line_break_is_fine_when_complete(tmp_path: Path):
    """Only a short last line without a line break is taken for a cut-off file."""
    complete = write(
        tmp_path / "List_1.csv", "Child Unique ID,Date of Contact,Contact Source\n1,01/02/2024,6\n2,02/02/2024,6"
    )
    con = duckdb.connect()
    assert read_annex_a(complete, con).rows_read == 2
    short_but_ended = write(tmp_path / "List_1b.csv", "Child Unique ID,Date of Contact,Contact Source\n1,01/02/2024\n")
    assert read_annex_a(short_but_ended, duckdb.connect()).rows_read == 1
