"""What happens to a working copy of the store before it is published: merge, derived tables, validation."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:  # the store's modules are imported when a load publishes (see finalise)
    from ingest.merge import MergeCounts

CHECKS_MODULE = "expectations.suites"  # imports Great Expectations: about 2.2 s of CPU, a load's fixed cost
_PREPARING: list[threading.Thread] = []  # the one import thread of this process, once started
_WANTED: list[bool] = []  # prepare_checks was called: the publish starts the import


def prepare_checks() -> None:
    """The checks will run: import Great Expectations in a background thread (once per process) from the
    start of the publish (`finalise`), so that it overlaps the merge and the derived tables.

    Their work is DuckDB's, which lets go of the GIL; reading a workbook is calamine's, which holds it (the
    import beside the reading only slowed both). The checks import it again when they run: Python hands
    them the module once this import is done. Since expectations/deferred_imports.py trims what GE imports,
    the import is done before the checks start (BENCHMARKS.md, issue 13 fifth pass: started with the process
    instead, beside the reading, it gained nothing).
    """
    _WANTED.append(True)


def _import_checks() -> None:
    importlib.import_module(CHECKS_MODULE)


def _start_checks_import() -> None:
    if _PREPARING or not _WANTED:
        return
    thread = threading.Thread(target=_import_checks, name="import-checks", daemon=True)
    _PREPARING.append(thread)
    thread.start()


def finalise(
    con: duckdb.DuckDBPyConnection,
    load_id: int | None,
    validate: bool = True,
    data_docs_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
    new_loads: list[int] | None = None,
) -> MergeCounts | None:
    """Bring every table that depends on the versions up to date, then run the data quality suites.

    With `new_loads`, only what those loads touched is merged and re-derived, and their counts
    are returned; without it everything is rebuilt (a store written without the loaders).
    `load_id` is the load the data quality results are filed under. The checks read the merged
    canonical and version tables (and the calendar), never the derived tables or summaries, and those
    read nothing the checks write: so once the merge is committed the checks run on a connection of
    their own beside the derived tables (`_checks_beside`). Not inside a caller's transaction: the
    checks' connections would not see the merge (they never did: their SQL side always had its own).
    """
    from ingest.merge import CHANGES
    from store import derived_built

    if validate:
        _start_checks_import()
    say = progress or (lambda _msg: None)
    # what follows the merge is rebuilt in full, and every check re-run, when the store's derived tables were built
    # with other definitions (store.derived_built): an earlier build's answers are not kept for untouched children
    changes = CHANGES if new_loads is not None and derived_built.is_current(con) else None
    if validate:
        return _checks_beside(con, load_id, data_docs_dir, say, changes, new_loads)
    from store.connection import one_commit

    with one_commit(con):  # merge, derived tables and summaries reach the file in one checkpoint, not eight
        counts = _merge(con, say, changes, new_loads)
        _derive(con, say, changes, new_loads)
    return counts


def _merge(
    con: duckdb.DuckDBPyConnection, say: Callable[[str], None], changes: str | None, new_loads: list[int] | None
) -> MergeCounts | None:
    """The canonical tables brought up to date with the new loads (every key re-ranked without `new_loads`)."""
    from ingest.merge import merge_loads, rebuild_canonical

    say("merging versions")
    if new_loads is None:
        rebuild_canonical(con)
        return None
    return merge_loads(con, new_loads, note_changes=changes is not None)  # a full rebuild reads none


def _derive(
    con: duckdb.DuckDBPyConnection, say: Callable[[str], None], changes: str | None, new_loads: list[int] | None
) -> None:
    """The derived tables and the summaries brought up to date with the merge."""
    from store.derive import build_derived
    from store.summary import build_summaries

    say("deriving tables for the metrics")
    build_derived(con, changes=changes, new_loads=new_loads if changes else None)
    build_summaries(con, changes, new_loads if changes else None)  # for the dashboard's first view


def _checks_beside(
    con: duckdb.DuckDBPyConnection,
    load_id: int | None,
    data_docs_dir: Path | None,
    say: Callable[[str], None],
    changes: str | None,
    new_loads: list[int] | None,
) -> MergeCounts | None:
    """Merge (committed with the calendar, which the checks read and the derived step would otherwise build), then the
    checks in a thread on a connection of their own while the derived tables and summaries are built on this one (one
    commit each); all or nothing: when either fails, its error is raised once both are done, and nothing is
    published."""
    from store.calendar import build_calendar
    from store.connection import one_commit

    with one_commit(con):
        counts = _merge(con, say, changes, new_loads)
        build_calendar(con)  # kept as it is when the span did not change (build_derived then finds it built)
    checks = _Checks(con, load_id, data_docs_dir, changes, new_loads)
    try:
        with one_commit(con):
            _derive(con, say, changes, new_loads)
    except BaseException:
        failed = checks.stop()
        if failed is not None:  # the checks failed first and interrupted the derived step: theirs is the error
            raise failed from None
        raise
    say("finishing the data quality checks")
    checks.wait()
    # the derived step's commit writes the file only when no other transaction committed updates since it began; when
    # the checks committed first (they update kept counts), DuckDB put it in the write-ahead log: written here
    say("writing the store")
    con.execute("CHECKPOINT")
    return counts


class _Checks:
    """The data quality checks of a publish running in a thread, on a cursor (a connection of its own to the work
    copy; the merge's TEMP table of changes copied to it: TEMP tables are per connection)."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        load_id: int | None,
        data_docs_dir: Path | None,
        changes: str | None,
        new_loads: list[int] | None,
    ) -> None:
        self.con, self.cursor = con, con.cursor()
        self.failed_first, self.stopping = threading.Event(), threading.Event()
        if changes is not None:
            try:
                _copy_temp_table(con, self.cursor, changes)
            except BaseException:
                self.cursor.close()
                raise
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dq-checks")
        self.done = self.thread.submit(self._run, load_id, data_docs_dir, changes, new_loads)

    def _run(
        self, load_id: int | None, data_docs_dir: Path | None, changes: str | None, new_loads: list[int] | None
    ) -> None:
        from expectations.runner import validate_store

        try:
            # a load re-checks only what it touched; a full rebuild re-checks everything
            validate_store(self.cursor, load_id, data_docs_dir=data_docs_dir, changes=changes, new_loads=new_loads)
        except BaseException:
            if not self.stopping.is_set():  # failed of themselves, not stopped by a failure of the derived step
                self.failed_first.set()
                self.con.interrupt()  # the derived step's running statement stops: nothing will be published
            raise
        finally:
            self.cursor.close()  # as soon as they are done: a result left open on it would hold a transaction open

    def wait(self) -> None:
        """Wait for the checks; raise their error if they failed."""
        try:
            self.done.result()
        finally:
            self._close()

    def stop(self) -> BaseException | None:
        """After the derived step failed: interrupt the checks' running statement, wait for the thread; the checks' error
        when they had failed first (they interrupt the derived step), else None."""
        self.stopping.set()
        if not self.failed_first.is_set():
            with suppress(duckdb.Error):  # closed already when the checks are done
                self.cursor.interrupt()
        failed = self.done.exception()
        self._close()
        return failed if self.failed_first.is_set() else None

    def _close(self) -> None:
        self.thread.shutdown(wait=True)


def _copy_temp_table(source: duckdb.DuckDBPyConnection, target: duckdb.DuckDBPyConnection, table: str) -> None:
    """The TEMP table `table` of one connection copied (through Arrow) to another as a TEMP table of the same name."""
    # finish the result the COMMIT before left open (DuckDB 2 refuses `sql` otherwise)
    source.execute("SELECT 1").fetchall()
    rows = source.sql(f"SELECT * FROM {table}").to_arrow_table()
    target.register("_copied_rows", rows)
    try:
        target.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM _copied_rows")
    finally:
        target.unregister("_copied_rows")
