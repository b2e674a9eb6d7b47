"""The dashboard in an AppTest opened on any page at once, as a browser opening that page's URL does."""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from ui.downloads import BOM

APP = Path(__file__).resolve().parent.parent / "dashboard.py"


def _url_paths() -> dict[str, str]:
    """Each page file of the dashboard's navigation (`PAGES` and `RESTRICTED` in dashboard.py) -> its URL path."""
    found: dict[str, str] = {}
    for node in ast.walk(ast.parse(APP.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Tuple) and len(node.elts) == 4 and all(isinstance(e, ast.Constant) for e in node.elts):
            file, _title, url, _icon = (e.value for e in node.elts)  # type: ignore[attr-defined]
            found[str(file)] = str(url)
    return found


URL_PATHS = _url_paths()


def start_on(at: AppTest, page: str) -> AppTest:
    """Make the first run of `at` open `page` (a file of pages/) itself rather than the landing page.

    A browser opening /re-referrals asks for that page by its URL path; st.navigation registers each page under the
    hash of its URL path, so asking for that hash runs the router (sign-in, roles, filters) and then that page,
    with no landing page drawn first. `ran_on` checks after the run that it was that page."""
    vars(at)["_page_hash"] = calc_hash(URL_PATHS[page])  # what switch_page() sets once a run has registered the pages
    return at


def ran_on(at: AppTest) -> str | None:
    """The page file the last run of `at` drew (relative to the dashboard), None when it reached no navigation."""
    info = at._registered_pages.get(at._finished_page_script_hash)
    if not info or not info.get("script_path"):
        return None
    return Path(str(info["script_path"])).resolve().relative_to(APP.parent).as_posix()


def open_on(at: AppTest, page: str) -> AppTest:
    """Run `at` on `page` at once (the landing page when `page` is the Overview) and check it drew that page."""
    if page != "pages/overview_page.py":
        start_on(at, page)
    at.run()
    drawn = ran_on(at)
    assert drawn in (page, None), f"asked for {page}, the run drew {drawn}"
    return at


def assert_downloads_made(at: AppTest, deferred: dict[str, Callable[[], Any]]) -> None:
    """Each download button the runs of `at` drew (`deferred`: conftest's `deferred_downloads`) makes its CSV when
    clicked: UTF-8 bytes with a byte-order mark and a heading row."""
    assert len(deferred) >= len(at.download_button)
    for name, make in deferred.items():
        made = make()
        assert isinstance(made, bytes) and made.startswith(BOM.encode()) and made.count(b"\r\n") >= 1, name


def assert_figures_valid(at: AppTest) -> None:
    """Each chart the last run of `at` sent is a figure plotly accepts property by property (ui/charts.py builds
    them without plotly's checks, which would cost four fifths of a figure again on every rerun)."""
    import plotly.graph_objects as go

    for element in at.get("plotly_chart"):
        go.Figure(json.loads(element.proto.spec))  # raises ValueError naming an unknown or invalid property
