"""The audit trail file: appended only, hash-chained, safe with several writers, and a change anywhere is found."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from ui import audit


def add(path: Path, n: int, user: str = "ana@council.example") -> None:
    for _ in range(n):
        audit.append(
            path,
            "view_list",
            user=user,
            roles=["analyst"],
            page="re-referrals",
            what="re_referred_children",
            filters={"from": "2024-04-01", "team": None},
            rows=3,
        )


def test_entries_are_chained_and_the_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "trail" / "audit.jsonl"
    add(path, 3)
    lines = path.read_bytes().splitlines()
    assert json.loads(lines[0])["prev"] == audit.GENESIS
    assert json.loads(lines[2])["prev"] == audit.line_hash(lines[1])
    assert path.stat().st_mode & 0o777 == 0o600
    assert audit.verify(path) == audit.ChainCheck(3, True)
    assert set(audit.read(path)[0]) == set(audit.FIELDS)


def test_concurrent_writers_keep_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    threads = [threading.Thread(target=add, args=(path, 50, f"user{i}@council.example")) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert audit.verify(path) == audit.ChainCheck(200, True)


@pytest.mark.parametrize("tamper", ["change", "remove", "insert"])
def test_a_rewritten_trail_is_found(tmp_path: Path, tamper: str) -> None:
    path = tmp_path / "audit.jsonl"
    add(path, 4)
    lines = path.read_text().splitlines()
    if tamper == "change":
        lines[1] = lines[1].replace('"rows": 3', '"rows": 30')
    elif tamper == "remove":
        del lines[1]
    else:
        lines.insert(1, lines[0])
    path.write_text("\n".join(lines) + "\n")
    check = audit.verify(path)
    # a changed line breaks the link from the line after it; a removed or inserted one breaks at its own place
    assert not check.intact and check.first_broken_line == {"change": 3, "remove": 2, "insert": 2}[tamper]


def test_unknown_events_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        audit.append(tmp_path / "audit.jsonl", "viewed_everything", user="x", roles=[])
