"""Fuzzing the loader with mutated samples: each file is loaded whole (rows accounted for) or refused in one line.

Samples from ../shared/samples (an Annex A workbook, CIN census XML, and CSVs made from them) are
truncated, byte-flipped, re-encoded and quote-injected with a fixed seed. For every mutant the
command must exit 0 or 1 (never crash), and either print that rows read = loaded + rejected for
the file, or print exactly one error line naming the file and leave the store byte for byte as it was.
"""

from __future__ import annotations

import codecs
import hashlib
import random
import re
from pathlib import Path

import pytest
import python_calamine as calamine

from ingest.__main__ import main
from tests.shared_paths import SAMPLES

SEED = 20261202
MUTANTS_PER_SAMPLE = 7
RECORDING_HEADER = "Record ID,Child Unique ID,Record Type,Event Date,Entered At,Worker,Team,Child Views Recorded"
ACCOUNTED = re.compile(r"^\s+(\d+) rows read = (\d+) loaded \+ (\d+) rejected$", re.MULTILINE)


def _csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n') else text


def _samples(folder: Path) -> dict[str, bytes]:
    """name -> bytes of the files to mutate: real samples and CSVs made from them."""
    annex_a = SAMPLES / "annex_a" / "liia_Annex_A_2024_Jan.xlsx"
    cin = SAMPLES / "cin_census" / "CIN_Census_2024.xml"
    if not annex_a.exists() or not cin.exists():
        pytest.skip("shared samples not found")
    book = calamine.CalamineWorkbook.from_path(str(annex_a))
    sheet = next(name for name in book.sheet_names if "3" in name)
    rows = book.get_sheet_by_name(sheet).to_python()
    list3 = "\n".join(",".join(_csv_cell(c) for c in row) for row in rows) + "\n"
    recordings = (
        "\n".join(
            [RECORDING_HEADER]
            + [
                f"R{i},{1000 + i % 37},{'Visit' if i % 3 else 'Case Note'},2024-0{1 + i % 9}-1{i % 10},"
                f"2024-0{1 + i % 9}-1{i % 10} 10:00,Zoë O’Brien,Team {i % 4},{'Yes' if i % 2 else 'No'}"
                for i in range(300)
            ]
        )
        + "\n"
    )
    return {
        "annex_a.xlsx": annex_a.read_bytes(),
        "cin.xml": cin.read_bytes(),
        "list3.csv": list3.encode("utf-8"),
        "recordings.csv": recordings.encode("utf-8"),
    }


def _truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(1, len(data))]


def _flip(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def _reencode(data: bytes, rng: random.Random) -> bytes:
    text = data.decode("utf-8", errors="replace")
    choice = rng.choice(["utf-16-le", "utf-16-be", "cp1252", "utf-8-sig", "utf-32"])
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}.get(choice, b"")
    return bom + text.encode(choice, errors="replace")


def _quote(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(1, max(2, len(lines) - 1))
        line = lines[i]
        at = rng.randrange(len(line) + 1)
        lines[i] = line[:at] + b'"' + line[at:]
    return b"\n".join(lines)


MUTATIONS = {"truncated": _truncate, "flipped": _flip, "reencoded": _reencode, "quoted": _quote}


def _mutants(folder: Path) -> list[Path]:
    rng = random.Random(SEED)
    paths = []
    for name, data in _samples(folder).items():
        kinds = ["truncated", "flipped"] + (["reencoded", "quoted"] if not name.endswith(".xlsx") else [])
        for n in range(MUTANTS_PER_SAMPLE):
            kind = kinds[n % len(kinds)]
            path = folder / f"{kind}{n}_{name}"
            path.write_bytes(MUTATIONS[kind](data, rng))
            paths.append(path)
    return paths


def _store_hash(store: Path) -> str:
    digest = hashlib.sha256()
    if store.exists():
        digest.update(str(store.resolve().name).encode())
        digest.update(store.resolve().read_bytes())
    return digest.hexdigest()


def test_every_mutant_is_loaded_whole_or_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store.duckdb"
    seed = tmp_path / "seed.csv"
    seed.write_text(RECORDING_HEADER + "\nS1,1,Visit,2024-01-02,,Ann,Team,Yes\n", encoding="utf-8")
    assert main([str(seed), "--store", str(store), "--quiet", "--no-validate"]) == 0
    capsys.readouterr()
    outcomes = {"loaded": 0, "refused": 0, "unchanged": 0}
    (tmp_path / "mutants").mkdir()
    state = _store_hash(store)  # what the store holds before each mutant: hashed again only after a load changed it
    for path in _mutants(tmp_path / "mutants"):
        before = state
        code = main([str(path), "--store", str(store), "--quiet", "--no-validate"])
        out, err = capsys.readouterr()
        assert code in (0, 1), f"{path.name}: exit {code}: {err.strip()[:300]}"
        if code == 1:
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith(f"error: {path.name}: "), f"{path.name}: {err[:300]}"
            assert _store_hash(store) == before, f"{path.name}: refused but the store changed"
            outcomes["refused"] += 1
        elif "unchanged  " in out:
            assert _store_hash(store) == before
            outcomes["unchanged"] += 1
        else:
            [(read, loaded, rejected)] = ACCOUNTED.findall(out)
            assert int(read) == int(loaded) + int(rejected) > 0, f"{path.name}: {out}"
            outcomes["loaded"] += 1
            state = _store_hash(store)
    assert outcomes["loaded"] and outcomes["refused"], outcomes  # the mutations exercise both paths
