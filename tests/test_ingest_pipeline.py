"""The load pipeline: all or nothing per file, idempotent, overlap-safe, atomic publication, rejects kept."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ingest.__main__ import main as ingest_main
from ingest.pipeline import LoadSummary, load_files
from store.connection import open_read, published_version
from store.schema import ENTITIES
from tests.shared_paths import SHARED
from tests.storekit import copy_store

ROOT = Path(__file__).resolve().parent.parent

LIST3_HEADER = (
    "Child Unique ID,Gender,Ethnicity,Date of Birth,Age of Child (Years),Date of Referral,Referral Source,"
    "Referral NFA?,Number of Referrals in Last 12 Months,Allocated Team,Allocated Worker"
)
RECORDING_HEADER = "Record ID,Child Unique ID,Record Type,Event Date,Entered At,Worker,Team,Child Views Recorded"


def write_list3(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([LIST3_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def write_recordings(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([RECORDING_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture()
def extracts(tmp_path: Path) -> dict[str, Path]:
    """Two overlapping monthly List 3 extracts: the later one corrects a team and adds a referral."""
    return write_extracts(tmp_path)


@pytest.fixture(scope="module")
def early_loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding one load of the early extract, loaded once per module (tests change copies of it)."""
    folder = tmp_path_factory.mktemp("early")
    store = folder / "s.duckdb"
    [summary] = load_files([write_extracts(folder)["early"]], store=store, validate=False)
    assert summary.status == "loaded", summary.error
    return store


@pytest.fixture(scope="module")
def late_then_early(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, LoadSummary]:
    """A store that loaded the late extract, then the early one in a publish of its own (an older extract arriving
    late), and the early load's summary; loaded once per module and only read by the tests."""
    folder = tmp_path_factory.mktemp("late_then_early")
    store, files = folder / "s.duckdb", write_extracts(folder)
    assert [s.status for s in load_files([files["late"]], store=store, validate=False)] == ["loaded"]
    [summary] = load_files([files["early"]], store=store, validate=False)
    assert summary.status == "loaded", summary.error
    return store, summary


def write_extracts(tmp_path: Path) -> dict[str, Path]:
    early = write_list3(
        tmp_path / "list3_2024_05.csv",
        [
            "1001,b) Female,a) WBRI,01/02/2015,9,15/03/2024,q) 6: Police,b) No,0,Assessment Team 1,Ann Smith",
            "1002,a) Male,WBRI,2016-05-05,8,20/04/2024,Schools,No,1,Assessment Team 2,Bob Jones",
        ],
    )
    late = write_list3(
        tmp_path / "list3_2024_06.csv",
        [
            "1001,b) Female,a) WBRI,01/02/2015,9,15/03/2024,q) 6: Police,b) No,0,MASH,Ann Smith",  # team corrected
            "1002,a) Male,WBRI,2016-05-05,8,20/04/2024,Schools,No,1,Assessment Team 2,Bob Jones",  # unchanged
            "1003,a) Male,APKN,2012-01-01,12,03/06/2024,Housing,No,0,MASH,Cara Khan",  # new
        ],
    )
    return {"early": early, "late": late}


def canonical(store: Path, table: str) -> list[tuple]:
    """A canonical table without load ids (which depend on load order), sorted."""
    cols = [c for c in ENTITIES[table].column_names] + ["source_file", "sheet", "row_number", "as_of"]
    with open_read(store) as con:
        return con.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY ALL").fetchall()


def test_later_extract_wins_whatever_the_order(
    tmp_path: Path, extracts: dict[str, Path], late_then_early: tuple[Path, LoadSummary]
) -> None:
    forward, (backward, _summary) = tmp_path / "forward.duckdb", late_then_early  # backward: late, then early
    load_files([extracts["early"], extracts["late"]], store=forward, validate=False)
    assert canonical(forward, "referrals") == canonical(backward, "referrals")
    with open_read(forward) as con:
        teams = dict(con.execute("SELECT child_id, team FROM referrals").fetchall())
        versions = con.execute("SELECT count(*) FROM referrals_versions WHERE child_id = '1001'").fetchone()[0]
    assert teams == {"1001": "MASH", "1002": "Assessment Team 2", "1003": "MASH"}
    assert versions == 2  # the earlier version stays queryable


def test_same_file_twice_changes_nothing(tmp_path: Path, extracts: dict[str, Path], early_loaded: Path) -> None:
    """The early extract (loaded by the fixture as load 1, from a file of the same content) loaded again."""
    store = copy_store(early_loaded, tmp_path / "s.duckdb")
    version = published_version(store)
    again = load_files([extracts["early"]], store=store, validate=False)
    assert again[0].status == "unchanged"
    assert "already loaded as load 1" in again[0].notices[0]
    assert published_version(store) == version  # not even republished


def test_overlap_counts_unchanged_and_superseded(late_then_early: tuple[Path, LoadSummary]) -> None:
    _store, summary = late_then_early  # the early (older) extract's load, after the late one's
    assert summary.rows == {"referrals": 2}
    assert summary.superseded == 2  # both rows lose to the later as-of
    assert summary.unchanged == 1  # 1002 is identical to the current version
    assert summary.as_of == date(2024, 4, 20)


def test_failed_file_leaves_store_unchanged(tmp_path: Path, early_loaded: Path) -> None:
    store = copy_store(early_loaded, tmp_path / "s.duckdb")
    before = {t: canonical(store, t) for t in ENTITIES}
    version = published_version(store)
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"PK\x03\x04 this is not really a workbook")
    [summary] = load_files([bad], store=store, validate=False)
    assert summary.status == "failed" and summary.error.startswith("broken.xlsx: ")
    assert published_version(store) == version
    assert {t: canonical(store, t) for t in ENTITIES} == before


def test_good_files_publish_when_another_fails(tmp_path: Path, extracts: dict[str, Path]) -> None:
    store = tmp_path / "s.duckdb"
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    summaries = load_files([extracts["early"], empty, extracts["late"]], store=store, validate=False)
    assert [s.status for s in summaries] == ["loaded", "failed", "loaded"]
    with open_read(store) as con:
        assert con.execute("SELECT count(*) FROM loads").fetchone()[0] == 2


def test_rejected_rows_are_kept_with_their_reason(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    extract = write_list3(
        tmp_path / "list3.csv",
        [
            "1001,F,WBRI,01/02/2015,9,15/03/2024,Police,No,0,MASH,Ann Smith",
            ",F,WBRI,01/02/2015,9,16/03/2024,Police,No,0,MASH,Ann Smith",  # no child id
            "1004,F,WBRI,01/02/2015,9,31/02/2024,Police,No,0,MASH,Ann Smith",  # no such date
        ],
    )
    [summary] = load_files([extract], store=store, validate=False)
    assert summary.rows == {"referrals": 1} and summary.rejected == 2
    with open_read(store) as con:
        rejects = con.execute("SELECT source_file, row_number, reason, raw FROM rejects ORDER BY row_number").fetchall()
    assert [(r[0], r[1]) for r in rejects] == [("list3.csv", 3), ("list3.csv", 4)]
    assert "31/02/2024" in rejects[1][3]


def test_reader_sees_old_or_new_state_never_a_mixture(
    tmp_path: Path, extracts: dict[str, Path], early_loaded: Path
) -> None:
    store = copy_store(early_loaded, tmp_path / "s.duckdb")
    seen: set[tuple[int, int]] = set()
    stop = threading.Event()

    def read_loop() -> None:
        while not stop.is_set():
            with open_read(store) as con:
                seen.add(
                    con.execute("SELECT (SELECT count(*) FROM loads), (SELECT count(*) FROM referrals)").fetchone()
                )

    reader = threading.Thread(target=read_loop)
    reader.start()
    try:
        load_files([extracts["late"]], store=store, validate=False)
    finally:
        stop.set()
        reader.join()
    assert seen <= {(1, 2), (2, 3)} and (1, 2) in seen


def test_cli_reports_bad_input_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("this is not an extract\nat all\n")
    proc = subprocess.run(
        [sys.executable, "-m", "ingest", str(bad), "--store", str(tmp_path / "s.duckdb"), "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "FRONTDOOR_DEBUG": ""},
    )
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("error: notes.txt: "), proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "s.duckdb").exists()  # nothing was written


def test_cli_summary_and_exit_code(
    tmp_path: Path, extracts: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """The command's code in this process (the process and its exit code are tested above): summary and code 0."""
    code = ingest_main([str(extracts["early"]), "--store", str(tmp_path / "s.duckdb"), "--quiet", "--no-validate"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "loaded     list3_2024_05.csv [annex_a, as of 2024-04-20, load 1]: 2 referrals" in out
    assert "1 loaded, 0 unchanged, 0 failed" in out


def test_store_env_variable_names_the_store(
    tmp_path: Path, extracts: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "env.duckdb"
    monkeypatch.setenv("FRONTDOOR_STORE", str(target))
    assert ingest_main([str(extracts["early"]), "--quiet", "--no-validate"]) == 0, capsys.readouterr().err
    assert (
        duckdb.connect(str(target.resolve()), read_only=True).execute("SELECT count(*) FROM referrals").fetchone()[0]
        == 2
    )


def test_assessment_keeps_the_census_referral_date_when_annex_a_wins(tmp_path: Path) -> None:
    census = tmp_path / "cin_2023_24.xml"
    census.write_text(
        "<Message><Header><CollectionDetails><Collection>CIN</Collection><Year>2024</Year>"
        "<ReferenceDate>2024-03-31</ReferenceDate></CollectionDetails><Source><LEA>889</LEA></Source></Header>"
        "<Children><Child><ChildIdentifiers><LAchildID>2001</LAchildID><PersonBirthDate>2015-01-01</PersonBirthDate>"
        "<GenderCurrent>2</GenderCurrent></ChildIdentifiers><ChildCharacteristics><Ethnicity>WBRI</Ethnicity>"
        "</ChildCharacteristics><CINdetails><CINreferralDate>2024-01-08</CINreferralDate><ReferralSource>6</ReferralSource>"
        "<PrimaryNeedCode>N1</PrimaryNeedCode><ReferralNFA>false</ReferralNFA><Assessments>"
        "<AssessmentActualStartDate>2024-01-10</AssessmentActualStartDate>"
        "<AssessmentAuthorisationDate>2024-02-20</AssessmentAuthorisationDate></Assessments></CINdetails></Child>"
        "</Children></Message>",
        encoding="utf-8",
    )
    list4 = tmp_path / "list4_2024_06.csv"
    list4.write_text(
        "Child Unique ID,Gender,Ethnicity,Date of Birth,Age of Child (Years),Does the Child have a Disability,"
        "Continuous Assessment Start Date,Child Seen During Continuous Assessment,"
        "Continuous Assessment Date of Authorisation,Was the child assessed as requiring LA children's social care support?,"
        "Allocated Team,Allocated Worker\n"
        "2001,F,WBRI,01/01/2015,9,No,10/01/2024,Yes,20/02/2024,Yes,MASH,Ann Smith\n",
        encoding="utf-8",
    )
    store = tmp_path / "s.duckdb"
    load_files([census], store=store, as_of=date(2024, 3, 31), validate=False)
    load_files([list4], store=store, as_of=date(2024, 6, 30), validate=False)
    with open_read(store) as con:
        row = con.execute("SELECT source_file, team, referral_date FROM assessments").fetchone()
    assert row == ("list4_2024_06.csv", "MASH", date(2024, 1, 8))  # Annex A wins; the census referral date stays


def test_census_as_of_is_its_header_reference_date(tmp_path: Path) -> None:
    samples = SHARED / "samples" / "cin_census"
    summaries = load_files(
        [samples / "CIN_Census_2024.xml", samples / "fake_CIN_data.xml"], store=tmp_path / "s.duckdb", validate=False
    )
    assert [s.as_of for s in summaries] == [date(2024, 3, 31), date(2022, 7, 21)]
    assert any("the date the file's header states" in n for n in summaries[0].notices)
    later = [n for n in summaries[1].notices if "later" in n]  # the fake file holds events after its header's date
    assert len(later) == 1 and "check the header" in later[0]


def test_as_of_option_overrides_the_census_header(tmp_path: Path) -> None:
    sample = SHARED / "samples" / "cin_census" / "CIN_Census_2024.xml"
    [summary] = load_files([sample], store=tmp_path / "s.duckdb", as_of=date(2024, 4, 2), validate=False)
    assert summary.as_of == date(2024, 4, 2)
