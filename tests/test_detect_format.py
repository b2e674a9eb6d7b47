"""Format detection from content, the file checks before any reader runs, and dispatch to the readers."""

from __future__ import annotations

import zipfile
from pathlib import Path

import duckdb
import pytest

from ingest.detect import MAX_FILE_BYTES, detect_format, max_file_bytes, read_extract
from ingest.readers.base import ExtractError
from tests.shared_paths import SAMPLES as SHARED_SAMPLES

SHARED = SHARED_SAMPLES
CIN_SAMPLE = SHARED / "cin_census" / "CIN_Census_2024.xml"
XLSX_SAMPLE = SHARED / "annex_a" / "ofsted_template_aug2019_sample.xlsx"
XLS_SAMPLE = SHARED / "annex_a" / "cscdp_example_A_legacy.xls"
RECORDING_HEADER = "Record ID,Child Unique ID,Record Type,Event Date,Entered At,Worker,Team,Child Views Recorded"
LIST3_HEADER = (
    "Child Unique ID,Gender,Ethnicity,Date of Birth,Age of Child (Years),Date of Referral,Referral Source,"
    "Referral NFA?,Number of Referrals in Last 12 Months,Allocated Team,Allocated Worker"
)


def refused(path: Path, pattern: str) -> str:
    with pytest.raises(ExtractError) as err:
        detect_format(path)
    message = str(err.value)
    assert message.startswith(f"{path.name}: ") and "\n" not in message, message
    assert pattern in message, message
    return message


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (XLSX_SAMPLE, "annex_a"),
        (XLS_SAMPLE, "annex_a"),
        (CIN_SAMPLE, "cin_census"),
        (SHARED / "cin_census" / "fake_CIN_data.xml", "cin_census"),
    ],
)
def test_sample_files_are_recognised(source: Path, expected: str) -> None:
    assert detect_format(source) == expected


def test_csv_extracts_are_recognised_by_their_headings(tmp_path: Path) -> None:
    recordings = tmp_path / "export.txt"
    recordings.write_text(RECORDING_HEADER + "\nR1,1,Visit,2024-05-01,,W,T,\n", encoding="utf-8")
    list3 = tmp_path / "list3.csv"
    list3.write_text(
        "Annex A List 3 - Referrals\n" + LIST3_HEADER + "\n1001,F,WBRI,01/02/2015,9,15/03/2024,Police,No,0,MASH,Ann\n",
        encoding="utf-8-sig",
    )
    assert detect_format(recordings) == "case_recording"
    assert detect_format(list3) == "annex_a"


def test_content_wins_over_the_extension(tmp_path: Path) -> None:
    xml_as_csv = tmp_path / "census.csv"
    xml_as_csv.write_bytes(b"\xef\xbb\xbf\n  " + CIN_SAMPLE.read_bytes())
    csv_as_xlsx = tmp_path / "recordings.xlsx"
    csv_as_xlsx.write_text(RECORDING_HEADER + "\n", encoding="utf-8")
    assert detect_format(xml_as_csv) == "cin_census"
    assert detect_format(csv_as_xlsx) == "case_recording"


def test_garbage_with_a_workbook_extension_is_not_recognised(tmp_path: Path) -> None:
    garbage = tmp_path / "extract.xlsx"
    garbage.write_bytes(bytes(range(256)) * 40)
    refused(garbage, "not a recognised extract: binary content")


def test_broken_workbooks_are_unreadable(tmp_path: Path) -> None:
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"PK\x03\x04 this is not really a workbook")
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(XLSX_SAMPLE.read_bytes()[: XLSX_SAMPLE.stat().st_size // 2])
    refused(fake, "unreadable or truncated workbook")
    refused(truncated, "unreadable or truncated workbook")


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    archive = tmp_path / "extracts.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("list3.csv", LIST3_HEADER + "\n")
    refused(archive, "a zip archive that is not a spreadsheet workbook")


def test_empty_and_blank_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.csv"
    blank.write_text("\n  \n,,,\n", encoding="utf-8")
    assert refused(empty, "empty file") == "empty.csv: empty file"
    refused(blank, "empty file")


def test_oversize_file_names_its_size_and_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = tmp_path / "big.csv"
    big.write_text(RECORDING_HEADER + "\n" + "R1,1,Visit,2024-05-01,,W,T,\n" * 2000, encoding="utf-8")  # ~55 KB
    monkeypatch.setenv("FRONTDOOR_MAX_FILE_MB", "0.05")
    message = refused(big, "over the 51.2 KB limit (FRONTDOOR_MAX_FILE_MB)")
    assert f"file is {big.stat().st_size / 1024:.1f} KB" in message
    monkeypatch.setenv("FRONTDOOR_MAX_FILE_MB", "1")
    assert detect_format(big) == "case_recording"


def test_size_limit_default_and_bad_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("FRONTDOOR_MAX_FILE_MB", raising=False)
    assert max_file_bytes() == MAX_FILE_BYTES == 2 * 1024**3
    monkeypatch.setenv("FRONTDOOR_MAX_FILE_MB", "lots")
    path = tmp_path / "r.csv"
    path.write_text(RECORDING_HEADER + "\n", encoding="utf-8")
    refused(path, "FRONTDOOR_MAX_FILE_MB must be a positive number of megabytes")


def test_xml_that_is_not_a_cin_census(tmp_path: Path) -> None:
    other_root = tmp_path / "other.xml"
    other_root.write_text("<?xml version='1.0'?><Workbook><Sheet/></Workbook>", encoding="utf-8")
    other_collection = tmp_path / "903.xml"
    other_collection.write_text(
        "<Message><Header><CollectionDetails><Collection>SSDA903</Collection></CollectionDetails>"
        "</Header><Children/></Message>",
        encoding="utf-8",
    )
    refused(other_root, "not a recognised extract: XML root is <Workbook>, not a CIN census <Message>")
    refused(other_collection, "not a recognised extract: XML collection 'SSDA903' is not the CIN census")


def test_xml_with_a_dtd_is_refused_before_reading(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xml"
    bomb.write_text(
        '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><Message>&b;</Message>',
        encoding="utf-8",
    )
    refused(bomb, "XML with a DTD or entity declarations is refused")


def test_truncated_xml_is_refused_by_read_extract(tmp_path: Path) -> None:
    cut = tmp_path / "cut.xml"
    text = CIN_SAMPLE.read_text(encoding="utf-8")
    cut.write_text(text[: int(len(text) * 0.7)], encoding="utf-8")
    assert detect_format(cut) == "cin_census"  # the header is intact
    with pytest.raises(ExtractError, match=r"^cut\.xml: XML is truncated or malformed \(line \d+\)$"):
        read_extract(cut, duckdb.connect())
    broken_head = tmp_path / "head.xml"
    broken_head.write_text("<Message><Header><Collection>CIN</Header>", encoding="utf-8")
    refused(broken_head, "XML is truncated or malformed (line 1)")


def test_unrecognised_text_names_its_headings(tmp_path: Path) -> None:
    notes = tmp_path / "notes.csv"
    notes.write_text("Name,Email,Phone\nAnn,ann@example.org,01234 567890\n", encoding="utf-8")
    message = refused(
        notes,
        "not a recognised extract: headings 'Name', 'Email', 'Phone' match no Annex A list"
        " or the case-recording extract",
    )
    headerless = tmp_path / "data.csv"
    headerless.write_text("1005,ann@example.org,2024-05-01\n", encoding="utf-8")
    message = refused(headerless, "not a recognised extract")
    assert "1005" not in message and "ann@" not in message  # data-like values are masked
    gzipped = tmp_path / "x.csv.gz"
    gzipped.write_bytes(b"\x1f\x8b\x08\x00rest")
    refused(gzipped, "gzip-compressed")


def test_missing_file(tmp_path: Path) -> None:
    refused(tmp_path / "nowhere.csv", "file not found")


def test_read_extract_dispatches_to_each_reader(tmp_path: Path) -> None:
    recordings = tmp_path / "rec.csv"
    recordings.write_text(RECORDING_HEADER + "\nR1,1,Visit,2024-05-01,,W,T,\n", encoding="utf-8")
    list3 = tmp_path / "list3.csv"
    list3.write_text(LIST3_HEADER + "\n1001,F,WBRI,01/02/2015,9,15/03/2024,Police,No,0,MASH,Ann\n", encoding="utf-8")
    expected = {
        recordings: ("case_recording", "staged_recordings", 1),
        CIN_SAMPLE: ("cin_census", "staged_referrals", 2),
        list3: ("annex_a", "staged_referrals", 1),
    }
    for path, (format_, table, count) in expected.items():
        con = duckdb.connect()
        result = read_extract(path, con)
        assert result.format == format_
        assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == count
