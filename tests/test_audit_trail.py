"""The audit trail file: appended only, hash-chained, safe with several writers, and a change anywhere is found, the last
line included (the heads file); each entry also reaches the system log over a local socket, UDP or TCP."""

from __future__ import annotations

import json
import queue
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ui import access_config, audit


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


@pytest.mark.parametrize("tamper", ["change", "remove", "insert", "change last", "remove last"])
def test_a_rewritten_trail_is_found(tmp_path: Path, tamper: str) -> None:
    path = tmp_path / "audit.jsonl"
    add(path, 4)
    lines = path.read_text().splitlines()
    if tamper.startswith("change"):
        at = -1 if tamper.endswith("last") else 1
        lines[at] = lines[at].replace('"rows": 3', '"rows": 30')
    elif tamper.startswith("remove"):
        del lines[-1 if tamper.endswith("last") else 1]
    else:
        lines.insert(1, lines[0])
    path.write_text("\n".join(lines) + "\n")
    check = audit.verify(path)
    # the heads file holds each line's hash, so a change is found at the changed line itself, the last one included
    # (the chain alone finds a change only from the line after it, so never one to the last line)
    expected = {"change": 2, "remove": 2, "insert": 2, "change last": 4, "remove last": 4}[tamper]
    assert not check.intact and check.first_broken_line == expected


def test_the_heads_file_holds_each_line_hash_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    add(path, 3)
    heads = audit.heads_path(path)
    assert heads.read_text().splitlines() == [audit.line_hash(line) for line in path.read_bytes().splitlines()]
    assert heads.stat().st_mode & 0o777 == 0o600
    heads.unlink()  # a trail whose heads were deleted is not taken as intact
    assert audit.verify(path) == audit.ChainCheck(3, False, 1)


def test_unknown_events_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        audit.append(tmp_path / "audit.jsonl", "viewed_everything", user="x", roles=[])


@pytest.fixture(params=["unix", "udp", "tcp"])
def syslog_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[audit.Syslog, queue.Queue[bytes]]]:
    """A stand-in system log on a local socket, UDP or TCP: what it receives, one message per item."""
    received: queue.Queue[bytes] = queue.Queue()
    if request.param == "unix":
        server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        server.bind(str(tmp_path / "log.sock"))
        sink = audit.Syslog.parse(str(tmp_path / "log.sock"))
    elif request.param == "udp":
        server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        server.bind(("127.0.0.1", 0))
        sink = audit.Syslog.parse(f"udp://127.0.0.1:{server.getsockname()[1]}", "local3")
    else:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.bind(("127.0.0.1", 0))
        server.listen()
        sink = audit.Syslog.parse(f"tcp://127.0.0.1:{server.getsockname()[1]}")

    def serve() -> None:
        if request.param == "tcp":
            connection, _ = server.accept()
            with connection, connection.makefile("rb") as stream:
                for line in stream:
                    received.put(line.rstrip(b"\n"))
        else:
            while True:
                message = server.recv(65536)
                if message == b"stop":
                    return
                received.put(message.rstrip(b"\0"))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield sink, received
    if request.param == "tcp":
        audit._forget(sink)  # closes the connection: the server reads to the end
    else:
        server.sendto(b"stop", server.getsockname())
    thread.join(timeout=10)
    server.close()


def test_each_entry_reaches_the_system_log_with_its_line_hash(
    tmp_path: Path, syslog_server: tuple[audit.Syslog, queue.Queue[bytes]]
) -> None:
    sink, received = syslog_server
    path = tmp_path / "audit.jsonl"
    for rows in (3, 4):
        audit.append(path, "view_list", user="ana@council.example", roles=["analyst"], what="overdue", rows=rows,
                     filters={"team": "North"}, syslog=sink)  # fmt: skip
    lines = path.read_bytes().splitlines()
    priority = 8 * audit.SysLogHandler.facility_names[sink.facility] + 6  # the facility, level "info"
    messages = []
    for line in lines:
        message = received.get(timeout=10)
        head = f"<{priority}>{audit.SYSLOG_IDENT}".encode()
        assert message.startswith(head), message[:40]
        sent = json.loads(message[len(head) :])
        assert sent.pop("sha256") == audit.line_hash(line)
        assert sent == json.loads(line)  # the same entry as the file: who, when, page, filters, row count; nothing else
        messages.append(sent)
    assert set(messages[0]) == set(audit.FIELDS) and messages[1]["prev"] == audit.line_hash(lines[0])


def test_an_unreachable_system_log_fails_the_entry_loudly(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    with pytest.raises(OSError):
        audit.append(path, "sign_in", user="x", roles=[], syslog=audit.Syslog.parse(str(tmp_path / "no-such-socket")))


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        ('syslog = "syslog.council.local"', "is not a socket path (/dev/log), udp://host:port or tcp://host:port"),
        ('syslog = "/dev/log"\nsyslog_facility = "siem"', "syslog facility 'siem' is not one of"),
    ],
)
def test_a_bad_syslog_setting_is_one_line_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str, problem: str
) -> None:
    settings = tmp_path / "access.toml"
    settings.write_text(f"[audit]\n{setting}\n")
    monkeypatch.setenv(access_config.CONFIG_ENV, str(settings))
    with pytest.raises(ValueError, match=re.escape(f"{settings}: [audit] ")) as error:
        access_config.load_config()
    assert problem in str(error.value) and "\n" not in str(error.value)


def test_a_trail_rewritten_with_its_heads_is_found_against_the_system_log_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The app's own account can rewrite the trail and its heads file together; only the system log's copy shows it."""
    path = tmp_path / "audit.jsonl"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.settimeout(10)
        sink = audit.Syslog.parse(f"udp://127.0.0.1:{listener.getsockname()[1]}")
        for rows in (3, 4, 5):
            audit.append(path, "view_list", user="ana@council.example", roles=["analyst"], rows=rows, syslog=sink)
        received = [listener.recv(65536).decode().rstrip("\0") for _ in range(3)]
    export = tmp_path / "auth.log"  # as rsyslog writes it: no priority, a date, the host, the tag, the message
    export.write_text(
        "Dec  2 21:00:00 dash sshd[1]: Accepted publickey for admin\n"
        + "".join(f"Dec  2 21:00:0{i} dash {m.split('>', 1)[1]}\n" for i, m in enumerate(received, start=1))
    )
    assert audit.main([str(path), str(export)]) == 0
    lines = path.read_text().splitlines()
    lines[-1] = lines[-1].replace('"rows": 5', '"rows": 50')
    path.write_text("\n".join(lines) + "\n")
    audit.heads_path(path).write_text("".join(audit.line_hash(line.encode()) + "\n" for line in lines))
    assert audit.verify(path).intact  # rewritten consistently: the files alone cannot tell
    capsys.readouterr()
    assert audit.main([str(path), str(export)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{path}: 3 entries; intact (hash chain and heads file).",
        f"{path}: changed at line 3 of 3 (against the 3 entries in {export}).",
    ]


def test_a_personal_data_download_must_be_a_frame_so_its_audit_record_counts_the_rows() -> None:
    """Downloads are made on click; a personal one made from a function could not be counted when audited."""
    import pandas as pd

    from ui.downloads import download_csv

    with pytest.raises(TypeError, match="personal-data download is a frame"):
        download_csv(lambda: pd.DataFrame({"child_id": ["1"]}), "children", key="k", personal=True)
