"""What happens to a working copy of the store before it is published: merge, derived tables, validation."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the store's modules are imported when a load publishes (see finalise)
    import duckdb

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
    `load_id` is the load the data quality results are filed under.
    """
    from ingest.merge import CHANGES, merge_loads, rebuild_canonical
    from store import derived_built
    from store.connection import one_commit
    from store.derive import build_derived
    from store.summary import build_summaries

    if validate:
        _start_checks_import()
    say = progress or (lambda _msg: None)
    say("merging versions")
    counts = None
    # what follows the merge is rebuilt in full, and every check re-run, when the store's derived tables were built
    # with other definitions (store.derived_built): an earlier build's answers are not kept for untouched children
    changes = CHANGES if new_loads is not None and derived_built.is_current(con) else None
    with one_commit(con):  # merge, derived tables and summaries reach the file in one checkpoint, not eight
        if new_loads is None:
            rebuild_canonical(con)
        else:
            counts = merge_loads(con, new_loads, note_changes=changes is not None)  # a full rebuild reads none
        say("deriving tables for the metrics")
        build_derived(con, changes=changes, new_loads=new_loads if changes else None)
        build_summaries(con, changes, new_loads if changes else None)  # for the dashboard's first view
    if validate:
        from expectations.runner import validate_store

        say("running the data quality checks")
        # a load re-checks only what it touched; a full rebuild re-checks everything
        validate_store(con, load_id, data_docs_dir=data_docs_dir, changes=changes, new_loads=new_loads)
    return counts
