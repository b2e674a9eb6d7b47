"""Where the store lives, how readers open it, and how a load publishes a new state atomically.

A store path (default ``data/demo.duckdb``, or ``FRONTDOOR_STORE``, or ``--store``) is a symbolic
link to one immutable version file in ``<store>.versions/``. A load copies the current version,
writes into the copy, and swaps the link in one ``rename``: a reader that resolved the link
before keeps its consistent old state, a reader after sees the new one, never a mixture. Each
version has its own file path, so DuckDB's per-path instance cache never serves a stale state.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from store.schema import ENTITIES, FIELD_LOADS, all_ddl

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STORE = PROJECT_ROOT / "data" / "demo.duckdb"
STORE_ENV = "FRONTDOOR_STORE"
KEEP_VERSIONS = 3


class StoreNotFound(FileNotFoundError):
    """The store path does not exist yet (nothing has been loaded)."""


def store_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The store to use: an explicit path, else $FRONTDOOR_STORE, else the demo store."""
    if path:
        return Path(path).expanduser()
    env = os.environ.get(STORE_ENV)
    return Path(env).expanduser() if env else DEFAULT_STORE


def versions_dir(path: Path) -> Path:
    return path.with_name(path.name + ".versions")


def published_file(path: str | os.PathLike[str] | None = None) -> Path:
    """The immutable version file the store currently points to (raises StoreNotFound)."""
    p = store_path(path)
    if not p.exists():
        raise StoreNotFound(f"{p}: no store here yet; load extracts with `python -m ingest FILE... --store {p}`")
    return p.resolve()


def published_version(path: str | os.PathLike[str] | None = None) -> str:
    """A key that changes exactly when a new state is published: use it to key caches."""
    return str(published_file(path))


def open_read(path: str | os.PathLike[str] | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the currently published state."""
    return duckdb.connect(str(published_file(path)), read_only=True)


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every store table that does not exist yet (and add columns a store made by an older build lacks)."""
    for statement in all_ddl():
        con.execute(statement)
    for entity in ENTITIES.values():
        con.execute(f"ALTER TABLE {entity.name} ADD COLUMN IF NOT EXISTS {FIELD_LOADS.name} {FIELD_LOADS.type}")


@contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    lock_path = path.with_name(path.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _new_version_file(path: Path) -> Path:
    vdir = versions_dir(path)
    vdir.mkdir(parents=True, exist_ok=True)
    return vdir / f"v{time.time_ns()}-{os.getpid()}.duckdb"


def _swap_link(path: Path, target: Path) -> None:
    tmp_link = path.with_name(f".{path.name}.link-{os.getpid()}")
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    os.symlink(os.path.relpath(target, path.parent), tmp_link)
    os.replace(tmp_link, path)


def _prune_versions(path: Path, current: Path) -> None:
    files = sorted(versions_dir(path).glob("v*.duckdb"), key=lambda f: f.stat().st_mtime_ns)
    for old in files[:-KEEP_VERSIONS]:
        if old != current:
            old.unlink(missing_ok=True)


@contextmanager
def open_for_update(path: str | os.PathLike[str] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A writable connection to a private copy of the store; published only if the block succeeds.

    Loads are serialised by a lock file. On any exception the copy is deleted and the store is
    exactly as it was.
    """
    p = store_path(path)
    with _exclusive_lock(p):
        work = _new_version_file(p)
        if p.exists():
            shutil.copyfile(p.resolve(), work)
        con = duckdb.connect(str(work))
        try:
            create_schema(con)
            yield con
            con.execute("CHECKPOINT")
            con.close()
        except BaseException:
            con.close()
            work.unlink(missing_ok=True)
            Path(str(work) + ".wal").unlink(missing_ok=True)
            raise
        if p.exists() and not p.is_symlink():
            # A plain DuckDB file given as the store: keep it as the first version.
            legacy = _new_version_file(p)
            os.replace(p, legacy)
        _swap_link(p, work)
        _prune_versions(p, work)
