"""The `python -m ingest` process: it ends without the interpreter's teardown (output and exit handlers first, never
while a thread other than a daemon runs), collects garbage less often than Python's default, and runs a small load's
store connections on one DuckDB thread unless told otherwise."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ingest.__main__ import GC_YOUNG_THRESHOLD, collect_less, exit_now

ROOT = Path(__file__).resolve().parent.parent


def _python(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env, timeout=60)


def test_exit_now_writes_the_output_and_runs_the_exit_handlers_then_ends_with_the_code() -> None:
    proc = _python(
        "import atexit, sys\n"
        "atexit.register(lambda: print('exit handler ran'))\n"
        "from ingest.__main__ import exit_now\n"
        "print('summary', end='')\n"  # unflushed: exit_now writes it before the process ends
        "sys.stderr.write('warning')\n"
        "exit_now(3)\n"
        "print('never')\n"
    )
    assert proc.returncode == 3
    assert proc.stdout.splitlines() == ["summaryexit handler ran"]
    assert proc.stderr == "warning"


def test_exit_now_leaves_the_exit_to_python_while_another_thread_runs() -> None:
    release = threading.Event()
    worker = threading.Thread(target=release.wait, name="still-running")  # not a daemon: Python's exit waits for it
    worker.start()
    try:
        with pytest.raises(SystemExit) as ended:
            exit_now(1)
        assert ended.value.code == 1
    finally:
        release.set()
        worker.join()


def test_a_thread_left_running_is_waited_for_by_the_command() -> None:
    proc = _python(
        "import threading, time\n"
        "from ingest.__main__ import exit_now\n"
        "threading.Thread(target=lambda: (time.sleep(0.3), print('thread finished'))).start()\n"
        "exit_now(0)\n"
    )
    assert proc.returncode == 0
    assert proc.stdout.splitlines() == ["thread finished"]


def test_collect_less_raises_only_the_young_threshold() -> None:
    before = gc.get_threshold()
    try:
        collect_less()
        assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, before[1], before[2])
        assert gc.isenabled()
    finally:
        gc.set_threshold(*before)


def test_a_small_load_runs_its_store_connections_on_one_duckdb_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingest import __main__ as cli
    from store.connection import THREADS_ENV

    extract = tmp_path / "month.csv"
    extract.write_bytes(b"x" * 1000)
    store = tmp_path / "s.duckdb"
    monkeypatch.delenv(THREADS_ENV, raising=False)
    with cli.duckdb_threads_for([extract], store):  # a store not made yet counts as empty
        assert os.environ[THREADS_ENV] == "1"
    assert THREADS_ENV not in os.environ  # as it was after the load

    monkeypatch.setattr(cli, "SMALL_LOAD_BYTES", 1000)  # the extract alone reaches it: DuckDB's default
    with cli.duckdb_threads_for([extract], store):
        assert THREADS_ENV not in os.environ

    monkeypatch.setenv(THREADS_ENV, "2")  # the user's setting wins
    monkeypatch.setattr(cli, "SMALL_LOAD_BYTES", 10**9)
    with cli.duckdb_threads_for([extract], store):
        assert os.environ[THREADS_ENV] == "2"
    assert os.environ[THREADS_ENV] == "2"
