"""The audit trail: who signed in, viewed a child-level list or downloaded child rows, appended to a hash-chained JSON-lines file outside the store."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

AUDIT_ENV = "FRONTDOOR_AUDIT_LOG"
GENESIS = "0" * 64
EVENTS = ("sign_in", "sign_out", "view_list", "download_rows")
# Only these fields are written: who, when, what, where, filters and a row count; never a child-level value.
FIELDS = ("at", "event", "user", "roles", "page", "what", "filters", "rows", "prev")
_TAIL_BYTES = 1 << 16


@dataclass(frozen=True)
class ChainCheck:
    """Whether every line of the trail carries the hash of the line before it."""

    entries: int
    intact: bool
    first_broken_line: int | None = None


def line_hash(line: bytes) -> str:
    """SHA-256 of one line as written (without its line break)."""
    return hashlib.sha256(line).hexdigest()


def _last_line(fd: int) -> bytes | None:
    size = os.fstat(fd).st_size
    if size == 0:
        return None
    start = max(0, size - _TAIL_BYTES)
    tail = os.pread(fd, size - start, start).rstrip(b"\n")
    return tail.rsplit(b"\n", 1)[-1]


def append(
    path: Path,
    event: str,
    *,
    user: str,
    roles: list[str],
    page: str | None = None,
    what: str | None = None,
    filters: dict[str, Any] | None = None,
    rows: int | None = None,
) -> dict[str, Any]:
    """Append one entry (the file is only ever opened to append, under an exclusive lock); returns it."""
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        reader = os.open(path, os.O_RDONLY)
        try:
            last = _last_line(reader)
        finally:
            os.close(reader)
        entry = {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "event": event,
            "user": user,
            "roles": sorted(roles),
            "page": page,
            "what": what,
            "filters": filters or {},
            "rows": rows,
            "prev": GENESIS if last is None else line_hash(last),
        }
        os.write(fd, json.dumps(entry, sort_keys=True, default=str).encode("utf-8") + b"\n")
        os.fsync(fd)
        return entry
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _lines(path: Path) -> list[bytes]:
    if not path.exists():
        return []
    return [line for line in path.read_bytes().split(b"\n") if line]


def read(path: Path) -> list[dict[str, Any]]:
    """Every entry, oldest first (an unreadable line is shown as such, not skipped)."""
    entries = []
    for number, line in enumerate(_lines(path), start=1):
        try:
            entries.append({k: v for k, v in json.loads(line).items() if k in FIELDS})
        except ValueError:
            entries.append({"event": f"unreadable line {number}"})
    return entries


def verify(path: Path) -> ChainCheck:
    """Check the hash chain: a line changed, removed or inserted breaks it at that point."""
    previous = GENESIS
    lines = _lines(path)
    for number, line in enumerate(lines, start=1):
        try:
            prev = json.loads(line).get("prev")
        except ValueError:
            prev = None
        if prev != previous:
            return ChainCheck(len(lines), False, number)
        previous = line_hash(line)
    return ChainCheck(len(lines), True)
