"""Build small stores from hand-written canonical rows, for tests of metrics, checks and pages."""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from ingest.publish import finalise
from ingest.readers.base import ReadResult
from store.connection import open_for_update, open_read, versions_dir
from store.schema import ENTITIES, PROVENANCE


def _frame(entity: str, rows: list[dict[str, Any]], load_id: int, as_of: date) -> pd.DataFrame:
    names = ENTITIES[entity].column_names  # a list built on each read: read once, not once per row
    unknown = set().union(*(r.keys() for r in rows)) - set(names) - {"sheet", "row_number", "flags", "as_of"}
    if unknown:
        raise KeyError(f"{entity}: unknown columns {sorted(unknown)}")
    source_file = f"fixture_{entity}.xlsx"
    records = []
    for i, row in enumerate(rows, start=1):
        rec = dict.fromkeys(names)  # a column the row does not give is None
        rec.update(row)
        rec.update(
            load_id=load_id,
            source_file=source_file,
            sheet=row.get("sheet", entity),
            row_number=row.get("row_number", i + 1),
            as_of=row.get("as_of", as_of),
            flags=row.get("flags", []),
        )
        records.append(rec)
    return pd.DataFrame.from_records(records, columns=names + [c.name for c in PROVENANCE])


def build_store(
    path: Path,
    rows: dict[str, list[dict[str, Any]]],
    as_of: date = date(2025, 3, 31),
    validate: bool = False,
) -> Path:
    """A published store at `path` holding `rows` (entity -> list of column dicts) as one load."""
    with open_for_update(path) as con:
        load_id = (con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM loads").fetchone() or [1])[0]
        con.execute(
            "INSERT INTO loads (load_id, source_file, sha256, format, as_of, loaded_at, rows_read, rows_loaded,"
            " rows_rejected, rows_superseded, rows_unchanged, notices) VALUES"
            " (?, 'fixture', ?, 'fixture', ?, now(), ?, ?, 0, 0, 0, [])",
            [load_id, f"fixture-{load_id}", as_of, sum(map(len, rows.values())), sum(map(len, rows.values()))],
        )
        for entity, items in rows.items():
            if not items:
                continue
            frame = _frame(entity, items, load_id, as_of)
            con.register("fixture_rows", frame)
            con.execute(f"INSERT INTO {ENTITIES[entity].versions_table} BY NAME SELECT * FROM fixture_rows")
            con.unregister("fixture_rows")
        finalise(con, load_id, validate=validate)
    return path


def copy_store(store: Path, to: Path) -> Path:
    """A store of its own at `to` publishing what `store` publishes now: the current version (same name, mode and
    times) in `to`'s versions folder and the link to it, as a load leaves them; for tests that change a store built
    once per module."""
    version = store.resolve()
    folder = versions_dir(to)
    folder.mkdir(mode=0o700)
    shutil.copy2(version, folder / version.name)
    os.symlink(os.path.relpath(folder / version.name, to.parent), to)
    return to


Staged = tuple[duckdb.DuckDBPyConnection, ReadResult]


@functools.cache
def _empty_database() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def fresh_connection() -> duckdb.DuckDBPyConnection:
    """A new connection to an in-memory database the test process keeps empty: what a reader stages (TEMP tables and
    macros) only this connection sees, as in a new database, without the ~30 ms of CPU a new database costs.

    For code that creates only TEMP objects and restores any setting it changes (DuckDB settings are global to the
    database): the readers. A test that changes a setting itself, or reads in a transaction that may fail (where a
    reader cannot restore one), opens a database of its own (`duckdb.connect()`)."""
    return _empty_database().cursor()


@contextmanager
def read_once(
    reader: Callable[[Path, duckdb.DuckDBPyConnection], ReadResult], folder: Path
) -> Iterator[Callable[[str], Staged]]:
    """A function giving each file of `folder` as `reader` staged it, read once on a connection of its own."""
    done: dict[str, Staged] = {}

    def staged(name: str) -> Staged:
        if name not in done:
            con = fresh_connection()
            done[name] = (con, reader(folder / name, con))
        return done[name]

    try:
        yield staged
    finally:
        for con, _result in done.values():
            con.close()


def stored_check_results(path: Path, load_id: int | None = None, attributes: bool = False) -> dict[str, list[tuple]]:
    """What a validation stored, in a comparable form: the results and failures (of `load_id` only, when given), the
    kept failing units and their state, and with `attributes` the consistency checks' kept per-child table."""
    from expectations import incremental, sql_checks

    of_load = "" if load_id is None else f" WHERE load_id = {int(load_id)}"
    queries = {
        "results": "SELECT * EXCLUDE (run_at, unexpected_percent), round(unexpected_percent, 9) FROM dq_results"
        f"{of_load} ORDER BY ALL",
        "failures": f"SELECT * FROM dq_failures{of_load} ORDER BY ALL",
        "kept": f"SELECT * FROM {incremental.KEPT} ORDER BY ALL",
        "state": f"SELECT * FROM {incremental.STATE} ORDER BY ALL",
    }
    if attributes:
        queries["attributes"] = f"SELECT * FROM {sql_checks.CHILD_ATTRIBUTES} ORDER BY ALL"
        queries["attributes_state"] = f"SELECT * FROM {sql_checks.CHILD_ATTRIBUTES_STATE}"
    con = open_read(path)
    try:
        return {name: con.execute(sql).fetchall() for name, sql in queries.items()}
    finally:
        con.close()
