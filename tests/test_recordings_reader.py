"""The case-recording CSV reader: messy headings, encodings, date styles, record types, rejects, row order."""

from __future__ import annotations

import csv
import json
import re
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from ingest.normalise import clean_text_sql, install_macros
from ingest.readers.base import ExtractError, staged_columns
from ingest.readers.recordings import (
    RECORD_TYPE_SYNONYMS,
    RECORDING_HEADINGS,
    _rows_sql,
    _value_tables_sql,
    is_recording_header,
    read_recordings,
    record_type_map,
)
from store.codes import RECORD_TYPES
from tests.storekit import fresh_connection

ROOT = Path(__file__).resolve().parent.parent
HEADER = "Record ID,Child Unique ID,Record Type,Event Date,Entered At,Worker,Team,Child Views Recorded"


def write(path: Path, lines: list[str], encoding: str = "utf-8", newline: str = "\n") -> Path:
    path.write_bytes(newline.join(lines).encode(encoding) + newline.encode())
    return path


def rows(con: duckdb.DuckDBPyConnection) -> list[dict]:
    cur = con.execute("SELECT * FROM staged_recordings ORDER BY row_number")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def rejects(con: duckdb.DuckDBPyConnection) -> list[dict]:
    cur = con.execute("SELECT * FROM staged_rejects ORDER BY row_number")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def test_standard_extract(tmp_path: Path) -> None:
    path = write(
        tmp_path / "rec.csv",
        [
            HEADER,
            "CN-1,1005,Case Note,2024-05-03,2024-05-07 09:15:00,Ann Smith,Assessment Team 1,No",
            "CN-2,1005.0,Home Visit,2024-05-03,2024-05-03T16:40:00,Ann Smith,Assessment Team 1,Yes",
            "CN-3,0457,supervision,2024-05-14,,Dev  Patel,\u00a0MASH\u00a0,",
        ],
    )
    con = fresh_connection()
    result = read_recordings(path, con)
    assert result.format == "case_recording" and result.entities == ["recordings"] and result.rows_read == 3
    assert [d[0] for d in con.execute("SELECT * FROM staged_recordings").description] == staged_columns("recordings")
    got = [
        (
            r["record_id"],
            r["child_id"],
            r["record_type"],
            r["event_date"],
            r["entered_at"],
            r["worker"],
            r["team"],
            r["child_views_recorded"],
            r["row_number"],
            r["flags"],
        )
        for r in rows(con)
    ]
    assert got == [
        (
            "CN-1",
            "1005",
            "case_note",
            date(2024, 5, 3),
            datetime(2024, 5, 7, 9, 15),
            "Ann Smith",
            "Assessment Team 1",
            False,
            2,
            [],
        ),
        (
            "CN-2",
            "1005",
            "visit",
            date(2024, 5, 3),
            datetime(2024, 5, 3, 16, 40),
            "Ann Smith",
            "Assessment Team 1",
            True,
            3,
            [],
        ),
        (
            "CN-3",
            "0457",
            "supervision",
            date(2024, 5, 14),
            None,
            "Dev Patel",
            "MASH",
            None,
            4,
            [],
        ),  # not yet written up
    ]
    assert con.execute("SELECT count(*) FROM staged_rejects").fetchone()[0] == 0


MESSY_HEADINGS = [
    "RECORD_ID,Person ID,record type,Case Note Date,Date Entered,Recorded By,team name,Child’s Views Recorded",
    "Record\u00a0ID ,child unique id ,Type,Event Date/Time,Entered Date/Time,WORKER,Allocated Team,Voice of the Child",
    "Recording ID,Child ID,Note Type,Date of Event,Recorded On,Author,Team,Child Views Recorded (Yes/No)",
    "Record ID,LAchildID,Activity Type,Activity Date,Created At,Practitioner,Service Team,child_views_recorded",
]


@pytest.mark.parametrize("header", MESSY_HEADINGS)
def test_messy_headings_are_recognised(tmp_path: Path, header: str) -> None:
    path = write(
        tmp_path / "messy.csv", [header, "R1,77,Statutory Visit,03/05/2024 10:00,07/05/2024 09:15,Ann,MASH,yes"]
    )
    con = fresh_connection()
    read_recordings(path, con)
    [row] = rows(con)
    assert (
        row["record_id"],
        row["child_id"],
        row["record_type"],
        row["event_date"],
        row["entered_at"],
        row["worker"],
        row["team"],
        row["child_views_recorded"],
    ) == ("R1", "77", "visit", date(2024, 5, 3), datetime(2024, 5, 7, 9, 15), "Ann", "MASH", True)


def test_bom_crlf_and_uk_dates(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(
        b"\xef\xbb\xbf"
        + "\r\n".join(
            [
                HEADER,
                "A1,9,Chronology Entry,31/01/2024,01/02/2024 17:05,Bob,CIN 2,No",
                "A2,9,Strategy Discussion,1/2/2024,02/02/2024,Bob,CIN 2,N",
                "A3,9,meeting,2024-02-03 10:30,2024-02-05 08:00:05,Bob,CIN 2,Y",
            ]
        ).encode()
        + b"\r\n"
    )
    con = fresh_connection()
    read_recordings(path, con)
    got = [
        (r["record_id"], r["record_type"], r["event_date"], r["entered_at"], r["child_views_recorded"])
        for r in rows(con)
    ]
    assert got == [
        ("A1", "chronology", date(2024, 1, 31), datetime(2024, 2, 1, 17, 5), False),
        ("A2", "meeting", date(2024, 2, 1), datetime(2024, 2, 2), False),
        ("A3", "meeting", date(2024, 2, 3), datetime(2024, 2, 5, 8, 0, 5), True),
    ]


def test_record_types_normalised_and_unknown_kept_flagged(tmp_path: Path) -> None:
    spellings = [
        "Case Note",
        "CASE_NOTE",
        "Home Visit",
        "Statutory Visit",
        "home-visit",
        "Assessment Write-up",
        "Core Group Meeting",
        "Contact Record",
        "Genogram",
        "Family Network Meeting!",
        "",
        "#N/A",
    ]
    lines = [HEADER] + [f"R{i},5,{s},2024-05-01,,W,T," for i, s in enumerate(spellings)]
    con = fresh_connection()
    result = read_recordings(write(tmp_path / "types.csv", lines), con)
    got = [(r["record_type"], r["flags"]) for r in rows(con)]
    assert got == [
        ("case_note", []),
        ("case_note", []),
        ("visit", []),
        ("visit", []),
        ("visit", []),
        ("assessment", []),
        ("meeting", []),
        ("contact", []),
        ("genogram", ["record_type_unmapped"]),
        ("family_network_meeting", ["record_type_unmapped"]),
        (None, []),
        (None, []),
    ]
    assert "2 record(s) with a record type that is not a known type" in " ".join(result.notices)


def test_every_record_type_name_and_synonym_maps_to_its_key() -> None:
    mapping = record_type_map()
    assert set(mapping.values()) == set(RECORD_TYPES)
    for key, spellings in RECORD_TYPE_SYNONYMS.items():
        assert key in RECORD_TYPES
        for spelling in spellings:
            assert mapping[re.sub(r"[^a-z0-9]+", "_", spelling.lower()).strip("_")] == key, spelling


def test_rejects_keep_raw_values_and_reasons(tmp_path: Path) -> None:
    path = write(
        tmp_path / "bad.csv",
        [
            HEADER,
            "R1,1,Visit,2024-05-01,2024-05-02 10:00,W,T,Yes",  # fine
            ",2,Visit,2024-05-01,,W,T,",  # no record id
            "R3,#N/A,Visit,2024-05-01,,W,T,",  # no child id
            "R4,4,Visit,31/02/2024,,W,T,",  # no such date
            "R5,5,Visit,,,W,T,",  # no event date
            "R6,6,Visit,2024-05-01,next week,W,T,",  # entered at is not a date
            "R7,7,Visit,2024-05-01,,W,T,maybe",  # loads, flagged
            "R8,8,Visit,2024-05-01,,W,T,Yes,surplus",  # a line with too many fields
        ],
    )
    con = fresh_connection()
    result = read_recordings(path, con)
    assert [(r["record_id"], r["flags"]) for r in rows(con)] == [("R1", []), ("R7", ["child_views_recorded_unparsed"])]
    got = [(r["row_number"], r["entity"], r["reason"]) for r in rejects(con)]
    assert got[:5] == [
        (3, "recordings", "no Record ID"),
        (4, "recordings", "no Child Unique ID"),
        (5, "recordings", "Event Date is not a date"),
        (6, "recordings", "no Event Date"),
        (7, "recordings", "Entered At is not a date/time"),
    ]
    assert got[5][0] == 9 and got[5][2].startswith("CSV line could not be read: Expected Number of Columns: 8 Found: 9")
    raw = json.loads(rejects(con)[2]["raw"])
    assert raw == {
        "Record ID": "R4",
        "Child Unique ID": "4",
        "Record Type": "Visit",
        "Event Date": "31/02/2024",
        "Entered At": None,
        "Worker": "W",
        "Team": "T",
        "Child Views Recorded": None,
    }
    assert result.rows_read == 8


def test_missing_required_headings_name_the_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path / "partial.csv", ["Record ID,Child Unique ID,Record Type,Event Date,Team", "R1,1,Visit,2024-05-01,T"]
    )
    with pytest.raises(ExtractError) as err:
        read_recordings(path, fresh_connection())
    message = str(err.value)
    assert message.startswith("partial.csv: case-recording extract is missing the column(s) Entered At, Worker;")
    assert "headings found: 'Record ID', 'Child Unique ID', 'Record Type', 'Event Date', 'Team'" in message
    assert "\n" not in message


def test_optional_views_column_may_be_absent(tmp_path: Path) -> None:
    path = write(
        tmp_path / "noviews.csv",
        [
            "Record ID,Child Unique ID,Record Type,Event Date,Entered At,Worker,Team,Notes",
            "R1,1,Visit,2024-05-01,,W,T,free text ignored",
        ],
    )
    con = fresh_connection()
    result = read_recordings(path, con)
    assert rows(con)[0]["child_views_recorded"] is None
    assert any("no Child Views Recorded column" in n for n in result.notices)
    assert any("columns not used: 'Notes'" in n for n in result.notices)


def test_latin1_semicolon_and_title_rows(tmp_path: Path) -> None:
    path = write(
        tmp_path / "latin.csv",
        [
            "Case recording extract;;;;;;;",
            "Produced 2024-06-01;;;;;;;",
            HEADER.replace(",", ";"),
            "R1;12;Visit;2024-05-01;;Zoë Brontë;Équipe A;Yes",
        ],
        encoding="latin-1",
    )
    con = fresh_connection()
    result = read_recordings(path, con)
    [row] = rows(con)
    assert (row["worker"], row["team"], row["row_number"]) == ("Zoë Brontë", "Équipe A", 4)
    assert "file is not UTF-8: read as Windows-1252 (Latin-1)" in result.notices
    assert "header row found on line 3" in result.notices


def test_excel_unicode_text_utf16_tab_separated(tmp_path: Path) -> None:
    path = tmp_path / "unicode.txt"
    path.write_text(
        HEADER.replace(",", "\t") + "\nR1\t1\tHome Visit\t03/05/2024\t07/05/2024 10:00\tZoë\tMASH\tYes\n",
        encoding="utf-16",
    )
    con = fresh_connection()
    read_recordings(path, con)
    assert [(r["record_type"], r["event_date"], r["worker"], r["child_views_recorded"]) for r in rows(con)] == [
        ("visit", date(2024, 5, 3), "Zoë", True)
    ]


@pytest.mark.parametrize("quoted", [True, False], ids=["with-quotes", "without-quotes"])
def test_short_rows_and_quoted_line_breaks_inside_a_transaction(tmp_path: Path, quoted: bool) -> None:
    first = (
        'R1,1,Visit,2024-05-01,,"Smith, Ann","Team ""A""\nNorth",Yes'
        if quoted
        else "R1,1,Visit,2024-05-01,,Ann,North,Yes"
    )
    path = write(tmp_path / "quoted.csv", [HEADER, first, "R2,2,Visit,2024-05-02,,W,T"])  # R2 omits the last field
    con = duckdb.connect()
    con.execute("BEGIN TRANSACTION")  # as in the pipeline: a failed statement here would abort the load
    read_recordings(path, con)
    expected_first = ("R1", "Smith, Ann", 'Team "A" North', True) if quoted else ("R1", "Ann", "North", True)
    assert [(r["record_id"], r["worker"], r["team"], r["child_views_recorded"]) for r in rows(con)] == [
        expected_first,
        ("R2", "W", "T", None),
    ]
    con.execute("COMMIT")


def test_row_numbers_follow_the_file_order_inside_a_transaction(tmp_path: Path) -> None:
    path = tmp_path / "large.csv"
    fresh_connection().execute(f"""
        COPY (SELECT 'R' || i AS "Record ID", CAST(i % 977 AS VARCHAR) AS "Child Unique ID", 'Visit' AS "Record Type",
                     CASE WHEN i % 1000 = 7 THEN 'not a date' ELSE '2024-05-01' END AS "Event Date",
                     '' AS "Entered At", 'W' AS "Worker", 'T' AS "Team"
              FROM range(200000) t(i)) TO '{path}' (HEADER)""")
    con = duckdb.connect()
    con.execute("BEGIN TRANSACTION")  # the pipeline reads inside a transaction, where row ids start high
    result = read_recordings(path, con)
    mismatched = con.execute(
        "SELECT count(*) FROM staged_recordings WHERE record_id <> 'R' || (row_number - 2)"
    ).fetchone()[0]
    assert mismatched == 0
    assert con.execute("SELECT count(*), min(row_number), max(row_number) FROM staged_recordings").fetchone() == (
        199800,
        2,
        200001,
    )
    bad = con.execute("SELECT list(row_number ORDER BY row_number)[1:2] FROM staged_rejects").fetchone()[0]
    assert bad == [9, 1009]  # records R7 and R1007, on lines 9 and 1009
    assert result.rows_read == 200000
    con.execute("ROLLBACK")


def test_is_recording_header() -> None:
    assert is_recording_header(HEADER.split(","))
    assert not is_recording_header(["Child Unique ID", "Gender", "Date of Referral"])


def test_docs_list_every_accepted_spelling() -> None:
    doc = (ROOT / "docs" / "CASE_RECORDING_EXTRACT.md").read_text(encoding="utf-8")
    for spellings in (*RECORDING_HEADINGS.values(), *RECORD_TYPE_SYNONYMS.values()):
        for spelling in spellings:
            assert spelling in doc, f"docs/CASE_RECORDING_EXTRACT.md does not mention {spelling!r}"
    for key in RECORD_TYPES:
        assert f"`{key}`" in doc


def test_values_are_the_shared_normalisation_of_each_raw_value(tmp_path: Path) -> None:
    """Plain ids and common date-time shapes are taken as they are, the rest looked up: both give ingest.normalise's value."""
    ids = ["R1", "CN-2", " R3", "R 4", "R5.0", "r6\u00a0", "#N/A", "NA", "", "1005", "1005.0", " 0457 ", "A/7"]
    times = [
        "2024-05-02 10:00",
        "2024-05-02T10:00:05",
        "03/05/2024 10:15",
        "03/05/2024",
        " 2024-05-02 10:00",
        "2024-02-30 10:00",
        "03/05/2024 10:00 PM",
        "2024-05-02 10:00 PM",
        "45415.5",
        "next week",
        "#N/A",
        "",
        "NULL",
    ]
    cells = [(rid, cid, ts) for rid in ids for cid in ids[::-1][:4] for ts in times][:400]
    cells += [(f"K{i}", ids[i % len(ids)], times[i % len(times)]) for i in range(len(ids) * len(times))]
    path = tmp_path / "awkward.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(HEADER.split(","))
        out.writerows([rid, cid, "Visit", "2024-05-01", ts, "W", "T", "Yes"] for rid, cid, ts in cells)
    con = fresh_connection()
    read_recordings(path, con)
    expected_con = fresh_connection()
    install_macros(expected_con)
    expected = expected_con.execute(
        "SELECT i + 2, fd_clean(rid), fd_child_id(cid), fd_timestamp(ts), fd_clean(ts) IS NOT NULL FROM"
        " (SELECT unnest(range(len($r))) AS i, unnest($r) AS rid, unnest($c) AS cid, unnest($t) AS ts)",
        {"r": [c[0] or None for c in cells], "c": [c[1] or None for c in cells], "t": [c[2] or None for c in cells]},
    ).fetchall()
    staged = {r["row_number"]: (r["record_id"], r["child_id"], r["entered_at"]) for r in rows(con)}
    rejected = {r["row_number"] for r in rejects(con)}
    for row_number, rid, cid, ts, ts_present in expected:
        if rid is None or cid is None or (ts is None and ts_present):
            assert row_number in rejected and row_number not in staged
        else:
            assert staged[row_number] == (rid, cid, ts)
    assert len(staged) > 100 and len(rejected) > 100


def test_values_are_normalised_once_per_distinct_value() -> None:
    """The row query only looks values up: cleaning wrapped in the parsers, per row, costs seconds a million rows."""
    raw = {column: f"c{i}" for i, column in enumerate(RECORDING_HEADINGS)}
    cleaning = clean_text_sql("raw")
    value_tables = _value_tables_sql()
    assert set(value_tables) == {f"_recording_values_{column}" for column in RECORDING_HEADINGS}
    assert all(sql.count(cleaning) == 1 and "AS MATERIALIZED" in sql for sql in value_tables.values())
    assert "regexp_replace" not in _rows_sql(raw, len(raw), "t")


def test_a_file_cut_off_mid_row_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cut.csv"
    path.write_text(HEADER + "\nR1,1,Visit,2024-05-01,2024-05-02 10:00,W,T,Yes\nR2,2,Visit,2024-05-01,2024-05-0")
    with pytest.raises(ExtractError) as err:
        read_recordings(path, fresh_connection())
    assert str(err.value) == (
        "cut.csv: looks cut short: its last line has 5 of 8 fields and no line break after it"
        " (was the file copied or downloaded completely?)"
    )
