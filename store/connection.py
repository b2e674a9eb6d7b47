"""Where the store lives, how readers open it, and how a load publishes a new state atomically.

A store path (default ``data/demo.duckdb``, or ``FRONTDOOR_STORE``, or ``--store``) is a symbolic
link to one immutable version file in ``<store>.versions/``. A load copies the current version,
writes into the copy, and swaps the link in one ``rename``: a reader that resolved the link
before keeps its consistent old state, a reader after sees the new one, never a mixture. Each
version has its own file path, so DuckDB's per-path instance cache never serves a stale state.
"""

from __future__ import annotations

import atexit
import errno
import fcntl
import functools
import hashlib
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb

from store.schema import ENTITIES, FIELD_LOADS, all_ddl

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STORE = PROJECT_ROOT / "data" / "demo.duckdb"
STORE_ENV = "FRONTDOOR_STORE"
THREADS_ENV = "FRONTDOOR_DUCKDB_THREADS"  # threads per DuckDB connection; unset: DuckDB's own default (every core)
KEEP_VERSIONS = 3


class StoreNotFound(FileNotFoundError):
    """The store path does not exist yet (nothing has been loaded)."""


class StoreLinkBroken(StoreNotFound):
    """The store link points at a version file that is missing: never silently start an empty store."""


WORK_PREFIX = "work-"  # a load's private copy, renamed to a version ('v...') only when it is published
log = logging.getLogger("store")


def is_disk_full(err: BaseException) -> bool:
    """True when an error (OS or DuckDB) is the disk running out of space."""
    return (isinstance(err, OSError) and err.errno == errno.ENOSPC) or "No space left on device" in str(err)


def _check_link(p: Path) -> None:
    """Raise StoreLinkBroken when the store is a link to a file that is gone, saying how to recover."""
    if p.is_symlink() and not p.exists():
        vdir = versions_dir(p)
        kept = sorted(vdir.glob("v*.duckdb"), key=_version_time) if vdir.is_dir() else []
        fix = (
            f"point it at the newest version left (ln -sfn {kept[-1].relative_to(p.parent)} {p})"
            if kept
            else "no versions are left: restore the store from a backup"
        )
        raise StoreLinkBroken(
            f"{p}: the store points to {os.readlink(p)}, which is missing; {fix},"
            " or remove the link to start an empty store"
        )


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
    _check_link(p)
    if not p.exists():
        raise StoreNotFound(f"{p}: no store here yet; load extracts with `python -m ingest FILE... --store {p}`")
    return p.resolve()


def published_version(path: str | os.PathLike[str] | None = None) -> str:
    """A key that changes exactly when a new state is published: use it to key caches."""
    return str(published_file(path))


def _threads() -> int | None:
    """The thread count $FRONTDOOR_DUCKDB_THREADS asks for (None: DuckDB's default), checked before connecting."""
    threads = os.environ.get(THREADS_ENV, "").strip()
    if threads and (not threads.isdigit() or int(threads) < 1):
        raise ValueError(f"{THREADS_ENV}={threads!r}: give a whole number of threads, 1 or more")
    return int(threads) if threads else None


def _connect(file: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection to a store file with the settings every store connection takes ($FRONTDOOR_DUCKDB_THREADS).

    Set after connecting rather than as connect-time configuration, so another connection to the same file
    opened without it (DuckDB refuses a second configuration for an open file) still works.
    """
    threads = _threads()
    con = duckdb.connect(str(file), read_only=read_only)
    if threads:
        con.execute(f"SET threads = {threads}")
    return con


def open_read(path: str | os.PathLike[str] | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the currently published state."""
    return _connect(published_file(path), read_only=True)


def _schema_statements() -> list[str]:
    """Every statement that brings a store's tables up to date (a store made by an older build lacks columns)."""
    added = [
        f"ALTER TABLE {e.name} ADD COLUMN IF NOT EXISTS {FIELD_LOADS.name} {FIELD_LOADS.type}"
        for e in ENTITIES.values()
    ]
    return all_ddl() + added


@functools.cache
def schema_fingerprint() -> str:
    """A hash of the schema's statements: the store records the one it was last brought up to date with."""
    return hashlib.sha256("\n".join(_schema_statements()).encode()).hexdigest()


def _schema_is_current(con: duckdb.DuckDBPyConnection) -> bool:
    """One look at `store_schema` (a catalog function would load every table's metadata: ~15 ms on a store)."""
    try:
        return con.execute("SELECT fingerprint FROM store_schema").fetchall() == [(schema_fingerprint(),)]
    except duckdb.CatalogException:
        return False  # a new store, or one made before the fingerprint was kept


def create_schema(con: duckdb.DuckDBPyConnection, new: bool = False) -> None:
    """Create every store table that does not exist yet (and add columns a store made by an older build lacks).

    A store already brought up to date by this schema is left alone after one query (none when the caller knows the
    database is `new`: a failed query costs as much as the statements); otherwise every statement runs in one
    transaction (on a load's work copy each commit writes the file: one commit, not one per table).
    """
    if not new and _schema_is_current(con):
        return
    with one_commit(con):
        for statement in _schema_statements():
            con.execute(statement)
        con.execute("DELETE FROM store_schema")
        con.execute("INSERT INTO store_schema VALUES (?)", [schema_fingerprint()])


@contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    lock_path = path.with_name(path.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    os.fchmod(fd, 0o600)
    with open(fd, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("another load is writing to the store %s: waiting for it to finish", path)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _versions_folder(path: Path) -> Path:
    vdir = versions_dir(path)
    vdir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(vdir, 0o700)  # the store holds children's records: its owner only
    return vdir


def _new_version_file(path: Path, prefix: str = "v") -> Path:
    return _versions_folder(path) / f"{prefix}{time.time_ns()}-{os.getpid()}.duckdb"


def _version_time(file: Path) -> int:
    """The time a version was created, from its name ('v<ns>-<pid>.duckdb'); 0 when the name has none."""
    stem = file.name.removeprefix("v").removeprefix(WORK_PREFIX).split("-", 1)[0].split(".", 1)[0]
    return int(stem) if stem.isdigit() else 0


def _clear_leftovers(path: Path) -> None:
    """Delete the working copies of loads that were killed (none is in progress: we hold the lock)."""
    vdir = versions_dir(path)
    leftovers = [f for f in vdir.glob(f"{WORK_PREFIX}*") if f.is_file()] if vdir.is_dir() else []
    if leftovers:
        size = sum(f.stat().st_size for f in leftovers)
        for f in leftovers:
            f.unlink(missing_ok=True)
        log.warning(
            "removed %d working cop%s (%.1f MB) left by an interrupted load",
            len(leftovers),
            "y" if len(leftovers) == 1 else "ies",
            size / 1024**2,
        )


def _swap_link(path: Path, target: Path) -> None:
    tmp_link = path.with_name(f".{path.name}.link-{os.getpid()}")
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    os.symlink(os.path.relpath(target, path.parent), tmp_link)
    os.replace(tmp_link, path)


def _prune_versions(path: Path, current: Path) -> None:
    """Keep the newest KEEP_VERSIONS versions; delete only older ones provably older than the current version.

    A version is provably older when both its name's creation time and its modification time are
    before the current version's: a file whose age cannot be told is kept.
    """
    if path.resolve() != current.resolve():
        return  # the link does not point at the version just published: prove nothing, delete nothing
    now_named, now_modified = _version_time(current), current.stat().st_mtime_ns
    files = sorted(versions_dir(path).glob("v*.duckdb"), key=_version_time)
    for old in files[:-KEEP_VERSIONS]:
        stat = old.stat()
        if old != current and 0 < _version_time(old) < now_named and stat.st_mtime_ns < now_modified:
            old.unlink(missing_ok=True)


@contextmanager
def open_for_update(path: str | os.PathLike[str] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A writable connection to a private copy of the store; published only if the block succeeds.

    Loads are serialised by a lock file. On any exception the copy is deleted and the store is
    exactly as it was.
    """
    p = store_path(path)
    _check_link(p)
    with _exclusive_lock(p):
        _check_link(p)
        _clear_leftovers(p)
        work = _new_version_file(p, WORK_PREFIX)
        previous = os.umask(0o077)  # the copy, its write-ahead log and temporary files: owner only
        try:
            con = _open_work_copy(p, work)
            try:
                create_schema(con)  # one look at the fingerprint (a new store is a copy of an empty one)
                yield con
                con.execute("CHECKPOINT")
                con.close()
            except BaseException:
                con.close()
                raise
        except BaseException:
            _remove_work_copy(work)
            if not p.exists():  # a first load that failed: no empty versions folder beside a store never made
                with suppress(OSError):
                    versions_dir(p).rmdir()
            raise
        finally:
            os.umask(previous)
        if p.exists() and not p.is_symlink():
            # A plain DuckDB file given as the store: keep it as the first version.
            legacy = _new_version_file(p)
            os.replace(p, legacy)
            os.chmod(legacy, 0o600)
        version = _new_version_file(p)
        os.replace(work, version)
        _swap_link(p, version)
        _prune_versions(p, version)


_IN_ONE_COMMIT: set[int] = set()  # id() of the connections inside a one_commit block


@contextmanager
def one_commit(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Run a step's statements as one transaction: on a work copy its changes reach the file in one checkpoint.

    Each statement on its own would be checkpointed by itself, and a table changed by several statements
    (deleted from, then appended to) would be written at each of them. On failure nothing of the step remains.
    Inside another one_commit on the same connection the step is part of that transaction: the outer block
    commits the whole; a failure rolls the whole back at once (so the step's own clean-up statements run
    outside the failed transaction and the first error is the one raised).
    """
    nested = id(con) in _IN_ONE_COMMIT
    if not nested:
        con.execute("BEGIN TRANSACTION")
        _IN_ONE_COMMIT.add(id(con))
    try:
        yield
    except BaseException:
        _IN_ONE_COMMIT.discard(id(con))
        with suppress(duckdb.Error):  # an outer block's rollback after an inner one finds no transaction
            con.execute("ROLLBACK")
        raise
    if not nested:
        _IN_ONE_COMMIT.discard(id(con))
        con.execute("COMMIT")


_EMPTY_STORES: dict[str, Path] = {}  # schema fingerprint -> this process's file of an empty store of that schema
_EMPTY_STORE_LOCK = threading.Lock()


def _empty_store() -> Path:
    """A store file with every table of the schema and no rows, made once per process in a private temporary folder
    (removed at exit): a new store starts as a copy of it, ~1 ms, where running the schema's statements costs ~30 ms."""
    with _EMPTY_STORE_LOCK:
        file = _EMPTY_STORES.get(schema_fingerprint())
        if file is None or not file.exists():
            folder = Path(tempfile.mkdtemp(prefix="frontdoor-empty-store-"))  # owner-only
            atexit.register(shutil.rmtree, folder, True)
            file = folder / "empty.duckdb"
            con = _connect(file)
            try:
                create_schema(con, new=True)
                con.execute("CHECKPOINT")
            finally:
                con.close()
            _EMPTY_STORES[schema_fingerprint()] = file
        return file


def _open_work_copy(p: Path, work: Path) -> duckdb.DuckDBPyConnection:
    """A connection to a private owner-only copy of the published store (of an empty store when there is none)."""
    shutil.copyfile(p.resolve() if p.exists() else _empty_store(), work)
    os.chmod(work, 0o600)
    con = _connect(work)
    # A private copy needs no write-ahead log (a crash discards it): each commit goes straight into the
    # file instead of the log first and the file at the next checkpoint, so every row is written once.
    con.execute("SET checkpoint_threshold = '0b'")
    return con


def _remove_work_copy(work: Path) -> None:
    work.unlink(missing_ok=True)
    Path(str(work) + ".wal").unlink(missing_ok=True)
