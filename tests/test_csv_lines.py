"""The line counts and UTF-8 check the CSV readers make of a whole file, against plain references, across chunk edges."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from ingest.readers import csv_rows, text_encoding


def _reference_lines(data: bytes) -> tuple[int, int]:
    """(lines, empty lines) of the whole file at once: what count_lines gives with the header at line 0 removed."""
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    empty = len(re.findall(rb"\n(?=\r?\n)", data))
    return lines, empty


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 64])
def test_line_counts_match_a_count_of_the_whole_file_at_every_chunk_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(csv_rows, "_CHUNK", chunk)
    rng = random.Random(chunk)
    for case in range(40):
        body = b"".join(
            rng.choice([b"a", b",", b"\n", b"\r\n", b"\n\n", b"\r", b'"']) for _ in range(rng.randint(0, 60))
        )
        data = b"h1,h2\n" + body
        path = tmp_path / f"case{case}.csv"
        path.write_bytes(data)
        lines, empty = _reference_lines(data)
        got = csv_rows.count_lines(path, 0)
        assert (got.lines, got.empty) == (max(lines - 1, 0), max(empty, 0)), data


@pytest.mark.parametrize("chunk", [7, 8, 1 << 22])
def test_utf8_problems_are_found_at_the_same_byte_and_line_at_every_chunk_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(text_encoding, "_CHUNK", chunk)
    path = tmp_path / "f.csv"
    cases = {
        b"a,b\nc,d\n": None,  # ASCII only
        "a,é\nc,“d”\n".encode(): None,  # UTF-8 sequences that a small chunk splits
        b"a,b\nc,d\n\xe9,x\n": (8, 3, False),  # Windows-1252 on line 3
        "a,é\n".encode() + b"x\n\xff\n": (7, 3, True),  # mixed: UTF-8, then a byte that is not
        b"a,b\nc,\xc3": (7, 2, False),  # ends inside a UTF-8 sequence
        b"abc,def\n" * 5 + b"\xe9\n": (40, 6, False),  # after chunks of ASCII only
    }
    for data, problem in cases.items():
        path.write_bytes(data)
        assert text_encoding._utf8_problem(path) == problem, data
