"""Bad files found by an attack pass (issue 9): each one loaded whole or refused in one line, the store unchanged."""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import io
import os
from pathlib import Path

import duckdb
import pytest

from ingest.__main__ import main
from ingest.readers.recordings import read_recordings
from store.connection import open_read, versions_dir
from tests.storekit import copy_store

RECORDING_HEADER = "Record ID,Child Unique ID,Record Type,Event Date,Entered At,Worker,Team,Child Views Recorded"
LIST3_HEADER = (
    "Child Unique ID,Gender,Ethnicity,Date of Birth,Age of Child (Years),Date of Referral,Referral Source,"
    "Referral NFA?,Number of Referrals in Last 12 Months,Allocated Team,Allocated Worker"
)


def recording(i: int, worker: str = "Ann Smith", child: str | None = None, date: str = "2024-05-03") -> str:
    return f"R{i},{child or 1000 + i % 500},Case Note,{date},2024-05-07 09:15:00,{worker},Team A,No"


def list3_row(i: int, child: str | None = None, team: str = "MASH", referred: str = "15/03/2024") -> str:
    return f"{child or 2000 + i},a) Male,WBRI,2016-05-05,8,{referred},Schools,No,1,{team},Bob Jones"


def write(path: Path, header: str, rows: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode(encoding))
    return path


def write_recordings(path: Path, n: int, lines: dict[int, str] | None = None) -> Path:
    """What `write(path, RECORDING_HEADER, rows)` writes for `rows = [recording(i) for i in range(n)]` with the rows at
    the indexes of `lines` replaced, built by DuckDB (a Python line per row cost ~1 s for this module's big files)."""
    edits = lines or {}
    body = duckdb.sql(
        "SELECT string_agg(coalesce(e.line, 'R' || i || ',' || (1000 + i % 500) || ',Case Note,2024-05-03,"
        "2024-05-07 09:15:00,Ann Smith,Team A,No'), chr(10) ORDER BY i) FROM range($n) r(i)"
        " LEFT JOIN (SELECT unnest($at) AS i, unnest($line) AS line) e USING (i)",
        params={"n": n, "at": list(edits), "line": list(edits.values())},
    ).fetchall()[0][0]
    path.write_bytes(f"{RECORDING_HEADER}\n{body}\n".encode())
    return path


def test_big_files_hold_the_rows_recording_writes(tmp_path: Path) -> None:
    edits = {0: recording(0, worker="First Worker", child="777"), 999: recording(0, worker="Last", child="777")}
    rows = [edits.get(i, recording(i)) for i in range(1000)]
    expected = write(tmp_path / "python.csv", RECORDING_HEADER, rows).read_bytes()
    assert write_recordings(tmp_path / "duckdb.csv", 1000, edits).read_bytes() == expected


def store_state(store: Path) -> tuple[str, str, list[str]]:
    """What a reader of the store sees, and every version file: the link target, its content hash, the version names."""
    if not store.is_symlink():
        return ("", "", [])
    target = os.readlink(store)
    digest = hashlib.sha256(store.resolve().read_bytes()).hexdigest()
    return target, digest, sorted(p.name for p in versions_dir(store).iterdir())


def run(capsys: pytest.CaptureFixture[str], store: Path, *args: object) -> tuple[int, str, str]:
    code = main([*map(str, args), "--store", str(store), "--quiet", "--no-validate"])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding one load of five recordings, loaded once per module (tests change copies of it)."""
    folder = tmp_path_factory.mktemp("seeded")
    good = write(folder / "good.csv", RECORDING_HEADER, [recording(i) for i in range(5)])
    store = folder / "store.duckdb"
    assert main([str(good), "--store", str(store), "--quiet", "--no-validate"]) == 0
    return store


def seeded_store(tmp_path: Path, seeded: Path) -> Path:
    """This test's own copy of the seeded store (its version and the link to it, as the load left them)."""
    return copy_store(seeded, tmp_path / "store.duckdb")


# --- 1. an unbalanced quote -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["recordings", "list3"])
def test_unbalanced_quote_refuses_the_file_in_one_line(
    tmp_path: Path, seeded: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    store = seeded_store(tmp_path, seeded)
    before = store_state(store)
    if kind == "recordings":
        rows = [recording(i, worker='"Ann Smith' if i == 10 else "Ann Smith") for i in range(1000)]
        bad = write(tmp_path / "quote.csv", RECORDING_HEADER, rows)
    else:
        rows = [list3_row(i, team='"MASH' if i == 10 else "MASH") for i in range(1000)]
        bad = write(tmp_path / "list3.csv", LIST3_HEADER, rows)
    code, out, err = run(capsys, store, bad)
    assert code == 1
    [line] = err.strip().splitlines()
    assert line.startswith(f"error: {bad.name}: only ") and "of the 1000 lines below the header" in line
    assert "line 12" in line  # the header is line 1, the bad record line 12
    assert store_state(store) == before


def test_every_file_prints_its_rows_accounted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [recording(i) for i in range(20)] + ["R20,,Case Note,2024-05-03,,Ann,Team A,No"]  # no child id: rejected
    rows.insert(5, "")  # an empty line is neither a row nor lost
    rows.insert(8, 'R99,1001,Case Note,2024-05-03,,"Ann\nSmith",Team A,No')  # a line break inside a quoted value
    path = write(tmp_path / "rec.csv", RECORDING_HEADER, rows)
    code, out, _err = run(capsys, tmp_path / "store.duckdb", path)
    assert code == 0
    assert "22 rows read = 21 loaded + 1 rejected" in out


# --- 2. row numbers and "later row wins" whatever the parallelism ------------------------------


def test_big_file_keeps_its_own_row_numbers_with_insertion_order_off(tmp_path: Path) -> None:
    n = 130_000  # past the size where DuckDB reads a CSV in parallel
    path = write_recordings(tmp_path / "big.csv", n)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    read_recordings(path, con)
    wrong = con.execute(
        "SELECT count(*) FROM staged_recordings WHERE row_number <> CAST(substr(record_id, 2) AS INTEGER) + 2"
    ).fetchone()[0]
    assert wrong == 0


def test_later_duplicate_in_a_big_file_wins_every_time(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    n = 130_000
    first = recording(0, worker="First Worker", child="777")
    last = recording(0, worker="Last Worker", child="777")  # the same record id, later in the file
    path = write_recordings(tmp_path / "dups.csv", n, {0: first, n - 1: last})
    for attempt in range(2):
        store = tmp_path / f"store{attempt}.duckdb"
        assert run(capsys, store, path)[0] == 0
        with open_read(store) as con:
            assert con.execute("SELECT worker, row_number FROM recordings WHERE record_id = 'R0'").fetchall() == [
                ("Last Worker", n + 1)
            ]


# --- 7. encodings and files without rows ------------------------------------------------------


ENCODINGS = {
    "utf-8": ("utf-8", b""),
    "utf-8-bom": ("utf-8", codecs.BOM_UTF8),
    "utf-16-le": ("utf-16-le", codecs.BOM_UTF16_LE),
    "utf-16-be": ("utf-16-be", codecs.BOM_UTF16_BE),
    "cp1252": ("cp1252", b""),
}


@pytest.fixture(scope="module")
def encoded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, int]:
    """One load of a file in each encoding (record ids of their own, so each file's rows can be told apart):
    the store, the command's output and its exit code."""
    folder = tmp_path_factory.mktemp("encodings")
    paths = []
    for name, (encoding, bom) in ENCODINGS.items():
        rows = [recording(i, worker="Zoë O’Brien").replace(f"R{i},", f"R{name}-{i},", 1) for i in range(3)]
        path = folder / f"{name}.csv"
        path.write_bytes(bom + ("\r\n".join([RECORDING_HEADER, *rows]) + "\r\n").encode(encoding))
        paths.append(path)
    store = folder / "store.duckdb"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main([*map(str, paths), "--store", str(store), "--quiet", "--no-validate"])
    return store, out.getvalue(), code


@pytest.mark.parametrize("name", list(ENCODINGS))
def test_encodings_are_read_correctly(encoded: tuple[Path, str, int], name: str) -> None:
    store, out, code = encoded
    assert code == 0
    [line] = [line for line in out.splitlines() if line.startswith(f"loaded     {name}.csv ")]
    assert "3 recordings" in line
    with open_read(store) as con:
        workers = con.execute(
            "SELECT DISTINCT worker FROM recordings WHERE source_file = ?", [f"{name}.csv"]
        ).fetchall()
    assert workers == [("Zoë O’Brien",)]


def test_mixed_encoding_is_refused_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mixed.csv"
    body = "\n".join([RECORDING_HEADER, recording(1, worker="Zoë"), recording(2, worker="Ann")]) + "\n"
    path.write_bytes(body.encode("utf-8").replace(b"Ann", b"A\x92nn"))
    code, _out, err = run(capsys, tmp_path / "store.duckdb", path)
    assert code == 1
    [line] = err.strip().splitlines()
    assert "mixes UTF-8 with bytes of another encoding (first at line 3" in line


def test_header_only_file_is_refused_and_not_recorded(
    tmp_path: Path, seeded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = seeded_store(tmp_path, seeded)
    before = store_state(store)
    empty = write(tmp_path / "empty.csv", RECORDING_HEADER, [])
    for _attempt in range(2):  # a retry says the same: the hash was not recorded
        code, _out, err = run(capsys, store, empty)
        assert code == 1 and err.strip() == "error: empty.csv: has no data rows (only headings): nothing to load"
    assert store_state(store) == before


# --- 3. dates outside the plausible window (1900-2099) ----------------------------------------


def test_far_dates_are_rejected_or_flagged_and_the_checks_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    far = write(
        tmp_path / "far.csv",
        RECORDING_HEADER,
        [recording(1), recording(2, date="31/12/9999"), recording(3).replace("2024-05-07 09:15:00", "9999-12-31")],
    )
    list3 = write(
        tmp_path / "list3.csv",
        LIST3_HEADER,
        [list3_row(1), list3_row(2, referred="31/12/9999"), list3_row(3).replace("2016-05-05", "01/01/0001")],
    )
    store = tmp_path / "store.duckdb"
    code = main([str(far), str(list3), "--store", str(store), "--quiet"])  # with the checks
    out, err = capsys.readouterr()
    assert code == 0, err
    with open_read(store) as con:
        rejects = con.execute("SELECT source_file, row_number, reason FROM rejects ORDER BY ALL").fetchall()
        assert [(f, r) for f, r, _reason in rejects] == [("far.csv", 3), ("far.csv", 4), ("list3.csv", 3)]
        assert con.execute("SELECT flags FROM referrals WHERE child_id = '2003'").fetchone()[0] == [
            "date_of_birth_unparsed"
        ]


def test_a_store_holding_far_dates_is_validated_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import date, datetime

    from expectations.__main__ import main as expectations_main
    from tests.storekit import build_store

    store = build_store(
        tmp_path / "far.duckdb",
        {  # as a --no-validate load by an older version could leave it
            "referrals": [{"child_id": "1", "referral_date": date(9999, 12, 31), "date_of_birth": date(1, 1, 1)}],
            "recordings": [
                {
                    "record_id": "R1",
                    "child_id": "1",
                    "record_type": "case_note",
                    "event_date": date(9999, 12, 31),
                    "entered_at": datetime(9999, 12, 31, 23, 59),
                }
            ],
            "assessments": [{"child_id": "1", "start_date": date(1066, 10, 14), "authorised_date": date(9999, 1, 1)}],
        },
    )
    assert expectations_main(["validate", "--store", str(store), "--no-docs"]) in (0, 1)
    out = capsys.readouterr().out
    assert "recordings.event_date_not_after_extract" in out
    good = write(tmp_path / "good.csv", RECORDING_HEADER, [recording(i) for i in range(3)])
    assert main([str(good), "--store", str(store), "--quiet"]) == 0  # later loads, checks on, still work


# --- 4. workbooks opened with limits -----------------------------------------------------------


def list3_workbook(path: Path, far_cell: str | None = None, padding_mb: int = 0) -> Path:
    import zipfile

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "List 3"
    sheet.append(LIST3_HEADER.split(","))
    sheet.append(list3_row(1).split(","))
    if far_cell:
        sheet[far_cell] = "x"
    book.save(path)
    if padding_mb:  # a part that unpacks far bigger than the file: the shape of a zip bomb
        packed = path.with_suffix(".tmp")
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                data = source.read(info)
                if info.filename == "xl/worksheets/sheet1.xml":
                    data = data.replace(b"</worksheet>", b"<!--" + b" " * (padding_mb << 20) + b"--></worksheet>")
                target.writestr(info.filename, data)
        packed.replace(path)
    return path


def test_a_cell_at_xfd1048576_is_refused_and_other_files_load(tmp_path: Path) -> None:
    import subprocess
    import sys

    far = list3_workbook(tmp_path / "far.xlsx", far_cell="XFD1048576")
    assert far.stat().st_size < 10_000
    good = write(tmp_path / "good.csv", RECORDING_HEADER, [recording(i) for i in range(3)])
    store = tmp_path / "store.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "ingest", str(far), str(good), "--store", str(store), "--quiet", "--no-validate"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert done.returncode == 1, done.stderr[-500:]
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: far.xlsx: sheet part sheet1.xml has cells as far as row 1,048,576, column XFD")
    assert "loaded     good.csv" in done.stdout


def test_a_workbook_that_unpacks_too_big_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = list3_workbook(tmp_path / "bomb.xlsx", padding_mb=12)
    assert bomb.stat().st_size < 200_000
    monkeypatch.setenv("FRONTDOOR_MAX_WORKBOOK_MB", "4")
    good = write(tmp_path / "good.csv", RECORDING_HEADER, [recording(i) for i in range(3)])
    code, out, err = run(capsys, tmp_path / "store.duckdb", bomb, good)
    assert code == 1
    assert err.strip() == (
        "error: bomb.xlsx: workbook unpacks to more than 4 MB (a zip bomb, or far too big to be an"
        " extract; FRONTDOOR_MAX_WORKBOOK_MB sets the limit)"
    )
    assert "loaded     good.csv" in out


# --- 5. the store: broken link, pruning, working copies, permissions, full disk ----------------


def test_a_link_to_a_missing_version_is_refused_with_how_to_recover(
    tmp_path: Path, seeded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from store.connection import StoreLinkBroken

    store = seeded_store(tmp_path, seeded)
    first = store.resolve()
    second = write(tmp_path / "second.csv", RECORDING_HEADER, [recording(i) for i in range(5, 9)])
    assert run(capsys, store, second)[0] == 0
    store.resolve().unlink()  # the version the link points to is deleted
    kept = sorted(p.name for p in versions_dir(store).iterdir())
    third = write(tmp_path / "third.csv", RECORDING_HEADER, [recording(i) for i in range(9, 12)])
    code, _out, err = run(capsys, store, third)
    assert code == 2
    [line] = err.strip().splitlines()
    assert "which is missing; point it at the newest version left (ln -sfn" in line and first.name in line
    assert sorted(p.name for p in versions_dir(store).iterdir()) == kept  # nothing pruned, nothing started
    with pytest.raises(StoreLinkBroken):
        open_read(store)


def test_versions_not_provably_older_are_never_pruned(
    tmp_path: Path, seeded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = seeded_store(tmp_path, seeded)
    future = versions_dir(store) / "v9999999999999999999-1.duckdb"  # a version from a clock ahead of this one
    future.write_bytes(store.resolve().read_bytes())
    for i in range(5):
        assert run(capsys, store, write(tmp_path / f"more{i}.csv", RECORDING_HEADER, [recording(100 + i)]))[0] == 0
    names = sorted(p.name for p in versions_dir(store).iterdir())
    assert future.name in names and len(names) == 3  # two kept by age and the one whose age is not proven older


@pytest.fixture(scope="module")
def big_recordings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200,000 recordings (12 MB): a load long enough to be killed, or to fill a small disk; written once per module
    and only read."""
    return write_recordings(tmp_path_factory.mktemp("big") / "big.csv", 200_000)


def test_a_killed_load_leaves_no_version_behind(
    tmp_path: Path,
    seeded: Path,
    big_recordings: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    import signal
    import subprocess
    import sys
    import time

    store = seeded_store(tmp_path, seeded)
    published = {store.resolve().name}
    load = subprocess.Popen(
        [sys.executable, "-m", "ingest", str(big_recordings), "--store", str(store), "--quiet", "--no-validate"],
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while len(list(versions_dir(store).iterdir())) < 2 and time.time() < deadline:
        time.sleep(0.02)
    load.send_signal(signal.SIGKILL)
    load.wait()
    assert len(list(versions_dir(store).iterdir())) >= 2  # the killed load's working copy is there
    for i in range(4):
        assert run(capsys, store, write(tmp_path / f"next{i}.csv", RECORDING_HEADER, [recording(300 + i)]))[0] == 0
        published.add(store.resolve().name)
    assert {p.name for p in versions_dir(store).iterdir()} <= published  # only versions that were published
    assert "left by an interrupted load" in caplog.text


def test_store_files_are_readable_only_by_their_owner(seeded: Path) -> None:
    import stat

    store = seeded  # as the load left it
    assert stat.S_IMODE(versions_dir(store).stat().st_mode) == 0o700
    for version in versions_dir(store).iterdir():
        assert stat.S_IMODE(version.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.with_name(store.name + ".lock").stat().st_mode) == 0o600


def test_a_full_disk_says_no_space_left(
    tmp_path: Path, big_recordings: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import subprocess

    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6M", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        store = disk / "store.duckdb"
        assert run(capsys, store, write(tmp_path / "a.csv", RECORDING_HEADER, [recording(1)]))[0] == 0
        before = store_state(store)
        # more than the 6 MB disk holds beside the first version (each row goes into the file once, not via a log)
        code, _out, err = run(capsys, store, big_recordings)
        assert code == 2, err
        assert err.strip() == (
            f"error: no space left on the disk holding the store ({disk}): the load failed and"
            " the store is unchanged; free some space and load again"
        )
        assert store_state(store) == before
    finally:
        subprocess.run(["umount", str(disk)], check=False)


# --- 11. the small items ---------------------------------------------------------------------


def test_an_unwritable_data_docs_folder_does_not_fail_the_load(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from expectations import data_docs

    blocker = tmp_path / "docs_parent"
    blocker.write_text("a file where the folder should be")  # unwritable whoever runs the test (root too)
    monkeypatch.setattr(data_docs, "store_docs_dir", lambda store: blocker / "store.duckdb.data_docs")
    good = write(tmp_path / "good.csv", RECORDING_HEADER, [recording(i) for i in range(3)])
    assert main([str(good), "--store", str(tmp_path / "store.duckdb"), "--quiet"]) == 0
    assert "Data Docs were not built" in caplog.text


def test_size_is_checked_before_the_file_is_hashed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    huge = tmp_path / "huge.csv"
    with open(huge, "wb") as handle:  # sparse: 8 GB on paper, nothing on disk
        handle.write((RECORDING_HEADER + "\n").encode())
        handle.truncate(8 * 1024**3)
    monkeypatch.setenv("FRONTDOOR_MAX_FILE_MB", "1")
    started = time.perf_counter()
    code, _out, err = run(capsys, tmp_path / "store.duckdb", huge)
    assert time.perf_counter() - started < 3  # hashing 8 GB takes many seconds
    assert code == 1 and err.strip() == "error: huge.csv: file is 8.0 GB, over the 1.0 MB limit (FRONTDOOR_MAX_FILE_MB)"


def test_a_folder_or_a_fifo_is_reported_as_such(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "extracts"
    folder.mkdir()
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    code, _out, err = run(capsys, tmp_path / "store.duckdb", folder, fifo)
    assert code == 1
    assert err.strip().splitlines() == [
        "error: extracts: is a folder, not a file: give the extract files in it (e.g. folder/*.csv)",
        "error: pipe.csv: is a named pipe (FIFO), not a file: save the extract to a file first",
    ]


def test_a_second_load_waiting_on_the_lock_says_so(
    tmp_path: Path, seeded: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    import fcntl
    import threading
    import time

    store = seeded_store(tmp_path, seeded)
    good = write(tmp_path / "more.csv", RECORDING_HEADER, [recording(50)])
    with open(store.with_name(store.name + ".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # a load in progress elsewhere
        codes: list[int] = []
        waiting = threading.Thread(
            target=lambda: codes.append(main([str(good), "--store", str(store), "--quiet", "--no-validate"]))
        )
        waiting.start()
        deadline = time.monotonic() + 30  # the load says it waits, then blocks on the lock with no time limit
        while "another load is writing to the store" not in caplog.text and time.monotonic() < deadline:
            waiting.join(timeout=0.05)
        waiting.join(timeout=1)  # and it is still waiting a second later
        assert waiting.is_alive() and "another load is writing to the store" in caplog.text
        fcntl.flock(handle, fcntl.LOCK_UN)
    waiting.join(timeout=60)
    assert codes == [0]


CIN_WRAPPED = """<?xml version="1.0" encoding="utf-8"?>
<Message><Header><CollectionDetails><Collection>CIN</Collection><Year>2024</Year>
<ReferenceDate>2024-03-31</ReferenceDate></CollectionDetails><Source><SourceLevel>L</SourceLevel><LEA>999</LEA>
<SoftwareCode>X</SoftwareCode><Release>1</Release><SerialNo>1</SerialNo><DateTime>2024-04-01T00:00:00</DateTime>
</Source></Header><Children><ChildList><Child><ChildIdentifiers><LAchildID>C1</LAchildID></ChildIdentifiers>
<CINdetails><CINreferralDate>2024-01-05</CINreferralDate></CINdetails></Child></ChildList></Children></Message>
"""


def test_cin_children_wrapped_one_level_deeper_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cin.xml"
    path.write_text(CIN_WRAPPED, encoding="utf-8")
    code, _out, err = run(capsys, tmp_path / "store.duckdb", path)
    assert code == 1
    assert err.strip() == (
        "error: cin.xml: no <Child> elements directly under Message/Children; found 1 <childlist>"
        " there instead (children wrapped one level too deep?): nothing to load"
    )


# --- 8. as-of dates ---------------------------------------------------------------------------


def test_as_of_is_never_after_today(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import date, timedelta

    later = (date.today() + timedelta(days=40)).isoformat()
    path = write(tmp_path / "ahead.csv", RECORDING_HEADER, [recording(1, date=later), recording(2, date=later)])
    store = tmp_path / "store.duckdb"
    code, out, _err = run(capsys, store, path)
    assert code == 0 and f"as of {date.today()}" in out and "is after today: as-of set to today" in out
    with pytest.raises(SystemExit):
        main([str(path), "--store", str(store), "--as-of", later])
    assert "is after today" in capsys.readouterr().err


def cin_file(path: Path, reference: str) -> Path:
    path.write_text(
        CIN_WRAPPED.replace("<ChildList>", "").replace("</ChildList>", "").replace("2024-03-31", reference),
        encoding="utf-8",
    )
    return path


def test_a_census_header_date_far_beyond_its_events_needs_as_of(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store.duckdb"
    path = cin_file(tmp_path / "cin.xml", "2026-03-31")  # events in January 2024
    code, _out, err = run(capsys, store, path)
    assert code == 1
    assert err.strip() == (
        "error: cin.xml: header date 2026-03-31 is more than a year after the file's last event"
        " (2024-01-05); if it is right, load the file with --as-of 2026-03-31"
    )
    code, out, _err = run(capsys, store, path, "--as-of", "2026-03-31")
    assert code == 0 and "as of 2026-03-31" in out
    assert run(capsys, tmp_path / "other.duckdb", cin_file(tmp_path / "ok.xml", "2024-03-31"))[0] == 0


@pytest.mark.parametrize("order", [("a", "b"), ("b", "a")])
def test_a_tie_on_as_of_goes_to_the_later_load_and_is_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], order: tuple[str, str]
) -> None:
    files = {
        name: write(tmp_path / f"{name}.csv", RECORDING_HEADER, [recording(1, worker=f"Worker {name}")])
        for name in ("a", "b")
    }
    store = tmp_path / "store.duckdb"
    assert run(capsys, store, files[order[0]])[0] == 0
    code, out, _err = run(capsys, store, files[order[1]])
    assert (
        code == 0
        and "is the same as 1 earlier load(s) (latest: load 1): where they carry the same record, this later load wins"
        in out
    )
    with open_read(store) as con:
        assert con.execute("SELECT worker FROM recordings").fetchall() == [(f"Worker {order[1]}",)]


# --- 10. child ids -----------------------------------------------------------------------------


def test_child_ids_are_trimmed_and_excel_damage_is_flagged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from expectations.checks import DAMAGED_CHILD_ID_FLAG as CHECKED_FLAG
    from ingest.normalise import DAMAGED_CHILD_ID_FLAG

    same = ["1005", " 1005", "1005\t", "1005\u200b", "\u00a01005\u2060", "\ufeff1005"]
    damaged = ["\uff1d1005", "1.2E+5", '"1,005"', "\uff11\uff10\uff10\uff15", "'1005", "=1005"]
    rows = [recording(i, child=child) for i, child in enumerate(same + damaged)]
    path = write(tmp_path / "ids.csv", RECORDING_HEADER, rows)
    store = tmp_path / "store.duckdb"
    code, out, _err = run(capsys, store, path)
    assert code == 0 and "6 row(s) with a child id that looks changed by Excel" in out
    with open_read(store) as con:
        kept = con.execute(
            "SELECT child_id, list_contains(flags, ?) FROM recordings ORDER BY row_number", [DAMAGED_CHILD_ID_FLAG]
        ).fetchall()
    assert kept == [("1005", False)] * 6 + [(c.strip('"'), True) for c in damaged]
    assert CHECKED_FLAG == DAMAGED_CHILD_ID_FLAG
    from expectations.checks import REGISTRY

    assert "format the child id column as Text" in REGISTRY["recordings.child_id_looks_damaged"].description


def test_header_dates_can_be_trusted_for_sample_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FRONTDOOR_TRUST_HEADER_DATES", "1")
    code, out, _err = run(capsys, tmp_path / "store.duckdb", cin_file(tmp_path / "cin.xml", "2026-03-31"))
    assert code == 0 and "as of 2026-03-31" in out


def test_a_failed_first_load_leaves_no_store_and_no_versions_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(tmp_path / "not_an_extract.csv", "foo,bar", ["1,2"])
    store = tmp_path / "new" / "la.duckdb"
    code, out, err = run(capsys, store, bad)
    assert code == 1
    assert (
        err.strip()
        == f"error: {bad.name}: not a recognised extract: headings 'foo', 'bar' match no Annex A list or the case-recording extract"
    )
    assert not store.exists() and not versions_dir(store).exists()
    assert f"store: {store} (not created: no file loaded)" in out
    assert [p.name for p in store.parent.iterdir()] == ["la.duckdb.lock"]  # the lock file alone, empty
