"""Great Expectations Data Docs: built beside the store they describe, offline, and published for the dashboard.

Each store has its own Data Docs in `<store>.data_docs/` next to the store's link (the demo's in
`data/demo.duckdb.data_docs/`), so validating one store never touches another's. A validation
builds them into a fresh folder that then replaces the old one, so a reader never sees a half-built
site; they hold counts only, never child-level values, and need no internet (docs_offline).
`FRONTDOOR_DATA_DOCS=off` builds none (a bulk back-load); an explicit folder (the CLI's
`--data-docs`) overrides the location.

Streamlit serves files only from `./static` (`.streamlit/config.toml`: `enableStaticServing`), and
refuses symbolic links out of it. So the dashboard publishes the current store's docs when the Data
quality page asks for the link: `publish_for_dashboard` copies `<store>.data_docs/` into
`static/data_docs/<store key>/` (the key is a hash of the store's path) when the copy is older
than the store's docs, and removes published copies whose store's docs are gone.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from store.connection import PROJECT_ROOT, store_path

if TYPE_CHECKING:
    from expectations.suites import GeSession

log = logging.getLogger(__name__)

DATA_DOCS_ENV = "FRONTDOOR_DATA_DOCS"
DATA_DOCS_OFF = frozenset({"off", "none", "no", "0", "false"})
DOCS_SUFFIX = ".data_docs"
VERSIONS_SUFFIX = ".versions"
STATIC_DIR = PROJECT_ROOT / "static"
PUBLISHED_DIR = STATIC_DIR / "data_docs"
SITE_NAME = "frontdoor"
STATIC_URL_PREFIX = "/app/static"
BUILT_STAMP = ".built"
SOURCE_NOTE = ".source"


def store_docs_dir(store: str | os.PathLike[str]) -> Path:
    """The Data Docs folder of a store: `<store>.data_docs` beside the store's path."""
    path = Path(os.path.abspath(Path(store).expanduser()))
    return path.with_name(path.name + DOCS_SUFFIX)


def store_of_connection(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The store a connection works on: `<store>` for a version file `<store>.versions/v….duckdb`, else the file."""
    row = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    if row is None or not row[0]:
        return None  # an in-memory database has no store
    file = Path(row[0])
    folder = file.parent
    if folder.name.endswith(VERSIONS_SUFFIX):
        return folder.with_name(folder.name[: -len(VERSIONS_SUFFIX)])
    return file


def data_docs_off() -> bool:
    """True when $FRONTDOOR_DATA_DOCS switches Data Docs off; any other value is ignored (it once named a shared folder)."""
    value = os.environ.get(DATA_DOCS_ENV, "").strip()
    if value and value.lower() not in DATA_DOCS_OFF:
        log.warning(
            "%s=%s ignored: Data Docs are written beside the store (only 'off' is understood)", DATA_DOCS_ENV, value
        )
    return value.lower() in DATA_DOCS_OFF


def data_docs_dir(
    path: str | os.PathLike[str] | None = None, store: str | os.PathLike[str] | None = None
) -> Path | None:
    """Where to build: an explicit folder, else `<store>.data_docs`; None when switched off or there is no store."""
    if path:
        return Path(path).expanduser()
    if data_docs_off() or store is None:
        return None
    return store_docs_dir(store)


def site_config(base_directory: Path) -> dict[str, Any]:
    """A GE SiteBuilder config writing HTML into `base_directory`."""
    return {
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(base_directory)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }


def _replace_dir(built: Path, target: Path) -> None:
    """Put `built` in place of `target` with two renames (readable like any folder: mkdtemp makes it private)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(built, 0o777 & ~umask)
    old = target.with_name(f".{target.name}.old-{os.getpid()}-{time.time_ns()}")
    if target.exists():
        os.replace(target, old)
    os.replace(built, target)
    shutil.rmtree(old, ignore_errors=True)


def build_data_docs(session: GeSession, target: Path) -> Path | None:
    """Build the Data Docs of the validations run in a GE session into `target`, offline; returns index.html (None on
    failure). A failure to render HTML must not stop a load from being published: it is logged instead.
    """
    from expectations.docs_offline import make_offline
    from expectations.docs_templates import share_compiled_templates

    try:  # a folder that cannot be written (static/ read-only) is logged in one line like any other failure
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    except OSError as exc:
        log.warning("Data Docs were not built: %s cannot be written (%s)", target, exc.strerror or exc)
        return None
    try:
        site = target.name.removesuffix(DOCS_SUFFIX) or SITE_NAME  # the header reads "Data Docs | demo.duckdb"
        share_compiled_templates()
        context = session.keep_for_docs()
        context.add_data_docs_site(site, site_config(staging))
        context.build_data_docs(site_names=[site])
        make_offline(staging)
        (staging / BUILT_STAMP).write_text(f"{time.time_ns()}\n", encoding="utf-8")
        _replace_dir(staging, target)
    except Exception as exc:
        log.warning("Data Docs were not built in %s: %s", target, exc)
        shutil.rmtree(staging, ignore_errors=True)
        return None
    return target / "index.html"


def store_key(store: str | os.PathLike[str]) -> str:
    """A short, stable name for a store's published Data Docs: a hash of its absolute path (no path leaks into URLs)."""
    return hashlib.sha256(os.path.abspath(Path(store).expanduser()).encode("utf-8")).hexdigest()[:16]


def _stamp(folder: Path) -> str | None:
    try:
        return (folder / BUILT_STAMP).read_text(encoding="utf-8")
    except OSError:
        return None


def _prune_published(published: Path) -> None:
    """Remove published copies whose store's Data Docs no longer exist (e.g. a deleted temporary store)."""
    for copy in published.iterdir() if published.is_dir() else ():
        note = copy / SOURCE_NOTE
        if copy.is_dir() and note.is_file() and not Path(note.read_text(encoding="utf-8").strip()).is_dir():
            shutil.rmtree(copy, ignore_errors=True)


def publish_for_dashboard(store: str | os.PathLike[str], published: Path | None = None) -> Path | None:
    """Copy a store's Data Docs under static/ (when newer than the copy there); the published folder, or None."""
    source = store_docs_dir(store)
    if not (source / "index.html").is_file():
        return None
    root = published or PUBLISHED_DIR
    target = root / store_key(store)
    if _stamp(target) is not None and _stamp(target) == _stamp(source):
        return target
    try:
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=root))
        shutil.copytree(source, staging, dirs_exist_ok=True)
        (staging / SOURCE_NOTE).write_text(f"{source}\n", encoding="utf-8")
        _replace_dir(staging, target)
        _prune_published(root)
    except OSError as exc:
        log.warning("Data Docs of %s were not published under %s: %s", store, root, exc)
        return target if (target / "index.html").is_file() else None
    return target


def data_docs_url(store: str | os.PathLike[str] | None = None) -> str | None:
    """URL at which the dashboard serves the Data Docs of `store` (default the current store); None when not built."""
    target = publish_for_dashboard(store_path(store))
    if target is None:
        return None
    try:
        relative = (target / "index.html").resolve().relative_to(STATIC_DIR.resolve())
    except ValueError:
        return None
    return f"{STATIC_URL_PREFIX}/{relative.as_posix()}"
