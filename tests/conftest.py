"""Shared test set-up: Streamlit caches emptied at the start and end of each test process, one scan for Streamlit components and one
compile of each dashboard script per process, AppTest runs awaited without polling, the dashboard's fixture store
(plain and checked) built once per run and shared read-only, the dashboard in local mode on localhost with its audit
trail in a temporary folder, the `browser` and `slow` markers, and a guard that the test run leaves the demo store's
Data Docs as they were."""

from __future__ import annotations

import fcntl
import functools
import itertools
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit import delta_generator

# Streamlit warns once per process, at its first element, when it is not run by `streamlit run`; to tell whether this
# is a REPL it walks every frame's module through sys.modules (inspect.stack). The tests know they are not run by
# `streamlit run`: mark the warning given, so neither the walk nor the warning happens. (The walk used to load the
# stand-ins of expectations/deferred_imports.py, ~2 s of CPU; since they answer `__file__` themselves it no longer
# does, and a test there holds that; this line now only keeps the warning out of every test process's output.)
delta_generator._use_warning_has_been_displayed = True


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: starts `streamlit run` and drives headless Chromium (runs in CI)")
    config.addinivalue_line("markers", "slow: builds the whole demo store through the loaders (about 1.5 minutes)")
    # The suite runs one pytest process per core (`-n 2`): a DuckDB connection using every core as well would only
    # make the two processes' threads take turns (subprocesses the tests start inherit it too).
    os.environ.setdefault("FRONTDOOR_DUCKDB_THREADS", "1")


@pytest.fixture(autouse=True)
def _strict_pages(monkeypatch: pytest.MonkeyPatch):
    """A section of a page that fails raises in the tests (a page shows it as a message in production)."""
    monkeypatch.setenv("FRONTDOOR_STRICT_PAGES", "1")


@pytest.fixture(scope="session", autouse=True)
def _component_scan_once():
    """Each new AppTest scans the metadata of every installed distribution (~270) for Streamlit components, a few
    tenths of a second of CPU each time; nothing is installed during a test run, so each process scans once."""
    from streamlit.components.v2 import manifest_scanner

    scan = functools.cache(lambda scanner=manifest_scanner.scan_component_manifests: tuple(scanner()))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(manifest_scanner, "scan_component_manifests", lambda *_args, **_kwargs: list(scan()))
        yield


@pytest.fixture(scope="session", autouse=True)
def _scripts_compiled_once():
    """Each AppTest run starts with empty script caches and so parses, rewrites (Streamlit's "magic") and compiles
    the dashboard and its page files again; a server compiles each once until the file changes, and no test
    changes them, so each process keeps one cache (keyed by the script's absolute path)."""
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test, local_script_runner

    shared = ScriptCache()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(app_test, "ScriptCache", lambda: shared)
        mp.setattr(local_script_runner, "ScriptCache", lambda: shared)
        yield


@pytest.fixture(scope="session", autouse=True)
def _script_run_awaited_without_polling():
    """AppTest waits for each script run by waking every millisecond to look for its end, and each wake takes the GIL
    from the script's thread (~15,000 wakes in the dashboard test files); the run ends with its thread, so wait for
    the thread to end instead, then let AppTest's own check confirm it (and time out as before if it did not end)."""
    import time

    from streamlit.testing.v1 import local_script_runner

    awaited = local_script_runner.require_widgets_deltas

    def require_widgets_deltas(runner: local_script_runner.LocalScriptRunner, timeout: float = 3) -> None:
        started = time.time()
        thread = runner._script_thread
        if thread is not None:
            thread.join(timeout)
        awaited(runner, max(timeout - (time.time() - started), 0.01))

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(local_script_runner, "require_widgets_deltas", require_widgets_deltas)
        yield


@pytest.fixture(scope="session", autouse=True)
def _fresh_streamlit_caches():
    """Streamlit caches outlive an AppTest run in one process: each test process starts and ends with them empty.

    Between, they stay warm across tests and modules, as in a running server, and that is safe because every key
    says what the result depends on: the published version (the absolute path of the version file, `v<ns>-<pid>`,
    new for each store build and each load, and each test's store is in a folder of its own), the metric function
    by module and qualified name (a test that swaps a metric for a broken one swaps in a function with another
    name, and a failed call is never cached), and the arguments; `with_spc` and the reference data depend only on
    their arguments. Nothing else a cached call returns depends on a test's settings: sign-in, roles, the access
    settings, the audit trail and the publishable view are read outside the cached calls, on each run, and session
    state is new with each AppTest. So modules that render the shared fixture store do not run its metric SQL again."""
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture()
def deferred_downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, Callable[[], Any]]:
    """The download buttons' deferred data ("file name, element id" -> the function a click calls) the test drew.

    The dashboard makes a CSV when its button is clicked; an AppTest has no server to click, and Streamlit drops
    the function there, so a test that asks for this fixture gets them to call and check."""
    from streamlit.elements.widgets import button

    found: dict[str, Callable[[], Any]] = {}
    original = button.marshall_file

    def marshall_file(
        coordinates: str, data: Any, proto: Any, mimetype: str | None, file_name: str | None = None, **kw: Any
    ) -> None:
        if callable(data):
            found[f"{file_name}, {kw.get('element_id') or coordinates}"] = data
        original(coordinates, data, proto, mimetype, file_name, **kw)

    monkeypatch.setattr(button, "marshall_file", marshall_file)
    return found


def _files(*paths: Path) -> dict[str, tuple[int, int]]:
    found = [f for p in paths if p.exists() for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file()]
    return {str(f): (f.stat().st_size, f.stat().st_mtime_ns) for f in found}


@pytest.fixture(scope="session", autouse=True)
def _demo_data_docs_untouched():
    """Tests validate temporary stores only: the demo's Data Docs and their published copy must not change."""
    from expectations.data_docs import store_docs_dir, store_key
    from store.connection import DEFAULT_STORE, PROJECT_ROOT

    demo = (store_docs_dir(DEFAULT_STORE), PROJECT_ROOT / "static" / "data_docs" / store_key(DEFAULT_STORE))
    before = _files(*demo)
    yield
    assert _files(*demo) == before, f"the test run changed the demo store's Data Docs ({', '.join(map(str, demo))})"


@pytest.fixture(scope="session", autouse=True)
def _data_docs_published_under_tmp(tmp_path_factory: pytest.TempPathFactory):
    """In-process tests publish Data Docs for the dashboard into a temporary static/ (a served dashboard uses ./static)."""
    from expectations import data_docs

    static = tmp_path_factory.mktemp("static")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(data_docs, "STATIC_DIR", static)
        mp.setattr(data_docs, "PUBLISHED_DIR", static / "data_docs")
        yield


@pytest.fixture(scope="session")
def _audit_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("audit")


_audit_logs = itertools.count()


@pytest.fixture(autouse=True)
def _local_dashboard(monkeypatch: pytest.MonkeyPatch, _audit_folder: Path):
    """AppTests run the dashboard as `make run` does (local mode, bound to 127.0.0.1); audit entries go to a temporary
    file of the test's own, in one folder per process (a folder per test was ~1,400 folders a run, which a later
    pytest run deletes at ~2.6 ms each on this machine: BENCHMARKS.md, fourth pass); the file exists only if written."""
    from streamlit import config

    monkeypatch.setenv("FRONTDOOR_AUDIT_LOG", str(_audit_folder / f"audit{next(_audit_logs)}.jsonl"))
    before = config.get_option("server.address")
    config.set_option("server.address", "127.0.0.1")
    yield
    config.set_option("server.address", before)


def _shared_store(tmp_path_factory: pytest.TempPathFactory, name: str, validate: bool) -> Path:
    """The dashboard's fixture store (tests/test_dashboard_fixture.py) built once for the whole run, in the folder
    the run's processes share (`-n 2`), under a lock so the first process builds it and the other waits for it.

    The tests only read it: pages open the published store read-only, and Data Docs and the audit trail go to
    temporary folders of their own (above)."""
    from test_dashboard_fixture import build_dashboard_store

    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = root / f"shared_{name}_store"
    with open(root / f"shared_{name}_store.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "built").exists():
            shutil.rmtree(folder, ignore_errors=True)  # what a failed build left, never half a store reused
            folder.mkdir()
            if validate:
                _checked_copy(_shared_store(tmp_path_factory, "dashboard", validate=False), folder / "store.duckdb")
            else:
                build_dashboard_store(folder / "store.duckdb")
            (folder / "built").touch()
    return folder / "store.duckdb"


def _checked_copy(plain: Path, path: Path) -> None:
    """The plain fixture store with its data quality checks run, at `path`: what `build_dashboard_store(validate=True)`
    makes (its load runs the same full validation, under the same load, on the same tables) without loading the
    rows a second time."""
    from storekit import copy_store

    from expectations.runner import validate_store
    from store.connection import open_for_update

    copy_store(plain, path)
    with open_for_update(path) as con:
        validate_store(con, (con.execute("SELECT max(load_id) FROM loads").fetchone() or [None])[0])


@pytest.fixture(scope="session")
def dashboard_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dashboard's fixture store as loaded, without its data quality checks run; read-only."""
    return _shared_store(tmp_path_factory, "dashboard", validate=False)


@pytest.fixture(scope="session")
def checked_dashboard_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dashboard's fixture store with its data quality checks run (`validate=True`); read-only."""
    return _shared_store(tmp_path_factory, "checked_dashboard", validate=True)
