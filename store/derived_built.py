"""Which definitions a store's derived tables and summaries were built with: other ones mean one full rebuild.

A publish re-derives only the children and records a load touched, so a row no load touches keeps the
answer of the code that last built it. When a definition changes (a tie rule, a new column, a new table),
a store built before the change would otherwise mix two definitions for as long as it lives. So the store
keeps a fingerprint of the source of every module that defines a derived table or summary, and a publish
whose fingerprint differs rebuilds them in full, once (and re-runs every check: some read derived tables).
The fingerprint covers the modules' whole text, so an edit that changes no answer still costs one full
rebuild after an upgrade: slower once, never wrong.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import inspect

import duckdb

BUILT = "derived_built"  # one row: the fingerprint of the definitions the derived tables were last built with
DEFINING_MODULES = ("store.calendar", "store.codes", "store.derive", "store.events", "store.sql", "store.summary")


@functools.cache
def fingerprint() -> str:
    """A hash of the source of every module in DEFINING_MODULES."""
    source = "".join(inspect.getsource(importlib.import_module(name)) for name in DEFINING_MODULES)
    return hashlib.sha256(source.encode()).hexdigest()


def is_current(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the store's derived tables were last built with these definitions (one look at `derived_built`)."""
    try:
        return con.execute(f"SELECT fingerprint FROM {BUILT}").fetchall() == [(fingerprint(),)]
    except duckdb.CatalogException:
        return False  # a new store, or one derived before the fingerprint was kept


def record(con: duckdb.DuckDBPyConnection) -> None:
    """Note that the derived tables are now built with these definitions."""
    con.execute(f"CREATE OR REPLACE TABLE {BUILT} AS SELECT '{fingerprint()}' AS fingerprint")
