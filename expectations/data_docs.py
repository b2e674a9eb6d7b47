"""Great Expectations Data Docs: where they are built (a git-ignored folder the dashboard serves) and how.

Default folder `static/data_docs/` under the project root, so Streamlit's static serving
(`.streamlit/config.toml`: `[server] enableStaticServing = true`) exposes it at
`/app/static/data_docs/index.html`; $FRONTDOOR_DATA_DOCS or an explicit folder overrides it, and
FRONTDOOR_DATA_DOCS=off builds none (a bulk back-load, or tests that do not look at them).
Docs are built once per validation into a fresh folder that then replaces the old one, so a
reader never sees a half-built site. They hold counts only, never child-level values.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from store.connection import PROJECT_ROOT

log = logging.getLogger(__name__)

DATA_DOCS_ENV = "FRONTDOOR_DATA_DOCS"
DATA_DOCS_OFF = frozenset({"off", "none", "no", "0", "false"})
STATIC_DIR = PROJECT_ROOT / "static"
DEFAULT_DATA_DOCS_DIR = STATIC_DIR / "data_docs"
SITE_NAME = "frontdoor"
STATIC_URL_PREFIX = "/app/static"


def data_docs_dir(path: str | os.PathLike[str] | None = None) -> Path | None:
    """The Data Docs folder: an explicit path, else $FRONTDOOR_DATA_DOCS, else static/data_docs/; None when off."""
    if path:
        return Path(path).expanduser()
    env = os.environ.get(DATA_DOCS_ENV, "").strip()
    if env.lower() in DATA_DOCS_OFF:
        return None
    return Path(env).expanduser() if env else DEFAULT_DATA_DOCS_DIR


def site_config(base_directory: Path) -> dict[str, Any]:
    """A GE SiteBuilder config writing HTML into `base_directory`."""
    return {
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(base_directory)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }


def _replace_dir(built: Path, target: Path) -> None:
    """Put `built` in place of `target` with two renames."""
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        os.replace(target, old)
    os.replace(built, target)
    shutil.rmtree(old, ignore_errors=True)


def build_data_docs(context: Any, target: Path) -> Path | None:
    """Build the Data Docs of the validations run in `context` into `target`; returns index.html (None on failure).

    A failure to render HTML must not stop a load from being published: it is logged instead.
    """
    try:  # a folder that cannot be written (static/ read-only) is logged in one line like any other failure
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    except OSError as exc:
        log.warning("Data Docs were not built: %s cannot be written (%s)", target, exc.strerror or exc)
        return None
    try:
        context.add_data_docs_site(SITE_NAME, site_config(staging))
        context.build_data_docs(site_names=[SITE_NAME])
        _replace_dir(staging, target)
    except Exception as exc:  # noqa: BLE001 - docs are a by-product; the load goes on
        log.warning("Data Docs were not built in %s: %s", target, exc)
        shutil.rmtree(staging, ignore_errors=True)
        return None
    return target / "index.html"


def data_docs_url(path: str | os.PathLike[str] | None = None) -> str | None:
    """URL of the Data Docs index as the dashboard serves it, or None when not built or not under static/."""
    folder = data_docs_dir(path)
    index = folder / "index.html" if folder else None
    if index is None or not index.exists():
        return None
    try:
        relative = index.resolve().relative_to(STATIC_DIR.resolve())
    except ValueError:
        return None
    return f"{STATIC_URL_PREFIX}/{relative.as_posix()}"
