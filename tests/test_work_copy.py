"""A load's private work copy: written to disk in the background from the copy on, private, gone when the load ends."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

import store.connection as connection
from store.connection import open_for_update, open_read, versions_dir


def _store_with_a_table(tmp_path: Path) -> Path:
    store = tmp_path / "s.duckdb"
    with open_for_update(store) as con:
        con.execute("CREATE TABLE probe AS SELECT 1 AS n")
    return store


def _fsynced_paths(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the file each os.fsync is called on (by its descriptor, at the call)."""
    seen: list[str] = []
    real = os.fsync

    def spy(fd: int) -> None:
        seen.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(connection.os, "fsync", spy)
    return seen


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to name a descriptor's file")
def test_the_copy_is_written_back_beside_the_load_and_forgotten_when_it_publishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store_with_a_table(tmp_path)
    seen = _fsynced_paths(monkeypatch)
    with open_for_update(store) as con:
        work = Path(
            con.execute("SELECT path FROM duckdb_databases() WHERE database_name NOT IN ('system', 'temp')").fetchall()[
                0
            ][0]
        )
        assert work.name.startswith(connection.WORK_PREFIX)
        assert stat.S_IMODE(work.stat().st_mode) == 0o600  # private from the copy on
        con.execute("INSERT INTO probe VALUES (2)")
    assert os.path.realpath(work) in seen  # the copy's pages went to disk in the background thread
    assert connection._WRITEBACKS == {}  # its thread ended and was forgotten before the publish
    assert not any(t.name == "work-copy-writeback" and t.is_alive() for t in threading.enumerate())
    read = open_read(store)
    try:
        assert read.execute("SELECT list(n ORDER BY n) FROM probe").fetchall() == [([1, 2],)]
    finally:
        read.close()


def test_a_failed_load_waits_for_the_write_back_and_leaves_only_the_published_version(tmp_path: Path) -> None:
    store = _store_with_a_table(tmp_path)
    published = sorted(p.name for p in versions_dir(store).iterdir())
    with pytest.raises(RuntimeError, match="the load fails"), open_for_update(store) as con:
        con.execute("INSERT INTO probe VALUES (2)")
        raise RuntimeError("the load fails")
    assert connection._WRITEBACKS == {}
    assert sorted(p.name for p in versions_dir(store).iterdir()) == published  # the work copy is gone
    read = open_read(store)
    try:
        assert read.execute("SELECT list(n) FROM probe").fetchall() == [([1],)]
    finally:
        read.close()


def test_a_failing_background_write_fails_the_load_and_leaves_the_store_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write-back error is reported once, to the thread's descriptor: the load fails on it, nothing is published."""
    store = _store_with_a_table(tmp_path)
    real = os.fsync
    calls: list[int] = []

    def failing_once(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 1:
            raise OSError(5, "Input/output error")
        real(fd)

    monkeypatch.setattr(connection.os, "fsync", failing_once)
    before = sorted(p.name for p in connection.versions_dir(store).iterdir())
    with pytest.raises(OSError, match="working copy could not be written to disk"), open_for_update(store) as con:
        con.execute("INSERT INTO probe VALUES (3)")
    assert calls  # the background write ran and failed
    assert sorted(p.name for p in connection.versions_dir(store).iterdir()) == before  # no work copy left
    assert not connection._WRITEBACKS
    read = open_read(store)
    try:
        assert read.execute("SELECT list(n ORDER BY n) FROM probe").fetchall() == [([1],)]
    finally:
        read.close()
