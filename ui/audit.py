"""The audit trail: who signed in, viewed a child-level list or downloaded child rows, appended to a hash-chained JSON-lines file outside the store, its heads file and, if set, the system log; and the checks of a trail against both."""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import socket
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from logging.handlers import SysLogHandler
from pathlib import Path
from typing import Any

AUDIT_ENV = "FRONTDOOR_AUDIT_LOG"
SYSLOG_ENV = "FRONTDOOR_AUDIT_SYSLOG"
SYSLOG_IDENT = "frontdoor-audit: "
HEADS_SUFFIX = ".heads"
GENESIS = "0" * 64
EVENTS = ("sign_in", "sign_out", "view_list", "download_rows")
# Only these fields are written: who, when, what, where, filters and a row count; never a child-level value.
FIELDS = ("at", "event", "user", "roles", "page", "what", "filters", "rows", "prev")
_TAIL_BYTES = 1 << 16


@dataclass(frozen=True)
class ChainCheck:
    """Whether every line of the trail carries the hash of the line before it, and the heads file the hash of each line."""

    entries: int
    intact: bool
    first_broken_line: int | None = None


@dataclass(frozen=True)
class Syslog:
    """Where each entry is also sent: the system log (journald or rsyslog at /dev/log) or a syslog server."""

    address: str  # "/dev/log" (a local socket), "udp://host:514" or "tcp://host:601"
    facility: str = "authpriv"

    @classmethod
    def parse(cls, address: str, facility: str = "authpriv") -> Syslog:
        """A syslog destination from settings text; ValueError with a one-line reason when it is not one."""
        check_facility(facility)
        if not (address.startswith("/") or re.fullmatch(r"(udp|tcp)://[^\s:/]+:\d{1,5}", address)):
            raise ValueError(
                f"syslog address {address!r} is not a socket path (/dev/log), udp://host:port or tcp://host:port"
            )
        return cls(address, facility)


def check_facility(name: str) -> str:
    """A syslog facility name (authpriv, local0...), or ValueError with a one-line reason."""
    if name not in SysLogHandler.facility_names:
        raise ValueError(f"syslog facility {name!r} is not one of {', '.join(sorted(SysLogHandler.facility_names))}")
    return name


class _SyslogHandler(SysLogHandler):
    """Python's syslog handler, but an entry that cannot be sent raises instead of printing a traceback and moving on."""

    def handleError(self, record: logging.LogRecord) -> None:
        raise


_HANDLERS: dict[Syslog, _SyslogHandler] = {}
_HANDLERS_LOCK = threading.Lock()


def _new_handler(sink: Syslog) -> _SyslogHandler:
    facility = SysLogHandler.facility_names[sink.facility]
    if sink.address.startswith("/"):
        handler = _SyslogHandler(address=sink.address, facility=facility)
        connected = getattr(handler, "socket", None)
        if connected is None or connected.fileno() < 0:  # Python ignores this failure: repeat it to raise
            handler.close()
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as probe:
                probe.connect(sink.address)
    else:
        scheme, host, port = re.split(r"://|:(?=\d+$)", sink.address)
        kind = socket.SOCK_DGRAM if scheme == "udp" else socket.SOCK_STREAM
        handler = _SyslogHandler(address=(host, int(port)), facility=facility, socktype=kind)
        handler.append_nul = kind == socket.SOCK_DGRAM  # TCP: one message per line (RFC 6587)
    handler.ident = SYSLOG_IDENT
    return handler


def _handler(sink: Syslog) -> _SyslogHandler:
    """One open connection per destination, shared by every session of the server."""
    with _HANDLERS_LOCK:
        if sink not in _HANDLERS:
            _HANDLERS[sink] = _new_handler(sink)
        return _HANDLERS[sink]


def _forget(sink: Syslog) -> None:
    with _HANDLERS_LOCK:
        handler = _HANDLERS.pop(sink, None)
    if handler is not None:
        handler.close()


def open_syslog(sink: Syslog) -> None:
    """Connect to the system log now (a local socket or TCP), so a missing one is found at start, not at the first
    entry; OSError when it cannot be reached (UDP has no connection: nothing is known until a message is lost)."""
    _handler(sink)


def send_to_syslog(sink: Syslog, entry: dict[str, Any], sha256: str) -> None:
    """One entry (with the hash of its line in the file) to the system log; a broken connection is retried once."""
    message = json.dumps({**entry, "sha256": sha256}, sort_keys=True, default=str)
    if not sink.address.startswith(("/", "udp://")):
        message += "\n"
    record = logging.makeLogRecord({"msg": message, "levelno": logging.INFO, "levelname": "INFO"})
    for attempt in range(2):
        try:
            _handler(sink).handle(record)
            return
        except OSError:
            _forget(sink)
            if attempt:
                raise


def heads_path(path: Path) -> Path:
    """The heads file beside the trail: the hash of each line, one per line, appended in the same step."""
    return path.with_name(path.name + HEADS_SUFFIX)


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
    syslog: Syslog | None = None,
) -> dict[str, Any]:
    """Append one entry to the trail and its hash to the heads file (both only ever opened to append, under an
    exclusive lock), and send it to `syslog` if given, in the same order; returns it."""
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
        line = json.dumps(entry, sort_keys=True, default=str).encode("utf-8")
        os.write(fd, line + b"\n")
        os.fsync(fd)
        _append_head(heads_path(path), line_hash(line))
        if syslog is not None:
            send_to_syslog(syslog, entry, line_hash(line))
        return entry
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _append_head(path: Path, sha256: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, sha256.encode("ascii") + b"\n")
        os.fsync(fd)
    finally:
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
    """Check the hash chain and the heads file: a line changed, removed or inserted breaks it at that line, the last
    line included (its hash is in the heads file, which only grows)."""
    previous = GENESIS
    lines = _lines(path)
    heads = [head.decode("ascii", "replace") for head in _lines(heads_path(path))]
    for number, line in enumerate(lines, start=1):
        try:
            prev = json.loads(line).get("prev")
        except ValueError:
            prev = None
        if prev != previous or heads[number - 1 : number] != [line_hash(line)]:
            return ChainCheck(len(lines), False, number)
        previous = line_hash(line)
    if len(heads) > len(lines):  # lines removed from the end
        return ChainCheck(len(lines), False, len(lines) + 1)
    return ChainCheck(len(lines), True)


def syslog_hashes(lines: Iterable[str]) -> list[str]:
    """The line hash of each trail entry in a system-log export, oldest first: rsyslog's file (`/var/log/auth.log`),
    `journalctl -o cat` or a SIEM export; other lines are passed over."""
    found = []
    for text in lines:
        start = text.find('{"at": ')
        try:
            sent = json.loads(text[start:].rstrip("\x00\r\n")) if start >= 0 else None
        except ValueError:
            continue
        if isinstance(sent, dict) and isinstance(sent.get("sha256"), str) and "prev" in sent:
            found.append(sent["sha256"])
    return found


def verify_against(path: Path, copy: list[str]) -> ChainCheck:
    """The trail against the system log's copy of its line hashes: the first line changed, removed or added, found
    even when the trail and its heads file were rewritten together (which the app's own account could do)."""
    lines = _lines(path)
    for number, (line, sha256) in enumerate(zip(lines, copy), start=1):
        if line_hash(line) != sha256:
            return ChainCheck(len(lines), False, number)
    if len(lines) != len(copy):
        return ChainCheck(len(lines), False, min(len(lines), len(copy)) + 1)
    return ChainCheck(len(lines), True)


def _report(path: Path, check: ChainCheck, against: str) -> str:
    if check.intact:
        return f"{path}: {check.entries:,} entries; intact ({against})."
    return f"{path}: changed at line {check.first_broken_line:,} of {check.entries:,} ({against})."


def main(argv: list[str]) -> int:
    """`python -m ui.audit TRAIL [SYSLOG_EXPORT]`: one line per check; exit status 1 when one fails."""
    if not 1 <= len(argv) <= 2:
        print("usage: python -m ui.audit TRAIL [SYSLOG_EXPORT]", file=sys.stderr)
        return 2
    path = Path(argv[0])
    checks = [(verify(path), "hash chain and heads file")]
    if len(argv) == 2:
        copy = syslog_hashes(Path(argv[1]).read_text(encoding="utf-8", errors="replace").splitlines())
        checks.append((verify_against(path, copy), f"against the {len(copy):,} entries in {argv[1]}"))
    for check, against in checks:
        print(_report(path, check, against))
    return 0 if all(check.intact for check, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
