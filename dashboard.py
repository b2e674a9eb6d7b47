"""The dashboard's entry point: page config, sign-in and roles, the store, the global filters kept in the URL, and navigation over the pages the role may see."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui import access
from ui.accessibility import accessibility_styles

HERE = Path(__file__).resolve().parent

# Page files end in `_page` so no file stem equals a URL path: while Streamlit still treats `pages/`
# as a v1 multipage folder (AppTest on every run, a server on its first run), a stem equal to a URL
# path would run that file without this router and its filters.
PAGES: dict[str, list[tuple[str, str, str, str]]] = {
    # section: (file, title, url_path, icon)
    "Dashboards": [
        ("pages/overview_page.py", "Overview", "overview", ":material/dashboard:"),
        ("pages/re_referrals_page.py", "Re-referrals", "re-referrals", ":material/replay:"),
        ("pages/timeliness_page.py", "Timeliness", "timeliness", ":material/schedule:"),
        ("pages/ethnicity_page.py", "Ethnicity", "ethnicity", ":material/diversity_3:"),
        ("pages/front_door_page.py", "Front door", "front-door", ":material/door_front:"),
    ],
    "Work with the data": [
        ("pages/data_quality_page.py", "Data quality", "data-quality", ":material/rule:"),
        ("pages/downloads_page.py", "Downloads", "downloads", ":material/download:"),
    ],
    "Reference": [
        ("pages/definitions_page.py", "Definitions", "definitions", ":material/menu_book:"),
        ("pages/about_data_page.py", "About the data", "about-the-data", ":material/info:"),
    ],
}
# Pages only some roles have: absent from the navigation (and unreachable by URL) for the others.
RESTRICTED: dict[str, tuple[str, tuple[str, str, str, str]]] = {
    "Administration": (access.AUDIT, ("pages/audit_page.py", "Audit", "audit", ":material/policy:")),
}


LANDING = "overview"


def navigation(who: access.Access) -> dict[str, list[st.Page]]:
    """The pages `who` may see, by section; the Overview is the landing page.

    Streamlit serves its default page at "/" only (its url_path is ignored), so a default
    Overview would make `/overview` links "Page not found". The landing page is therefore a
    hidden default page ("/") running the Overview file, and the Overview in the menu is an
    ordinary page at `/overview`.
    """
    sections = dict(PAGES)
    sections.update({name: [page] for name, (grant, page) in RESTRICTED.items() if who.can(grant)})
    nav = {
        name: [st.Page(HERE / file, title=title, url_path=url, icon=icon) for file, title, url, icon in pages]
        for name, pages in sections.items()
    }
    file, title, _, icon = next(p for pages in PAGES.values() for p in pages if p[2] == LANDING)
    landing = st.Page(HERE / file, title=title, url_path="home", icon=icon, default=True, visibility="hidden")
    first = next(iter(nav))
    nav[first] = [landing, *nav[first]]
    return nav


st.set_page_config(page_title="Front door — children's services", page_icon=":material/door_front:", layout="wide")
accessibility_styles()
who = access.gate()
# Past the gate only: the sign-in, no-role and refusal pages stop above, without loading pandas, DuckDB and plotly.
from ui import data  # noqa: E402
from ui.components import VIEW_KEY, section  # noqa: E402
from ui.filters import sidebar_filters  # noqa: E402

current = st.navigation(navigation(who))
st.session_state[access.PAGE_KEY] = current.url_path or "overview"
access.sidebar(who)
access.local_banner(who)
state = data.store_state()
st.session_state[VIEW_KEY] = None
if state.ready:
    with section("Filters"):
        st.session_state[VIEW_KEY] = sidebar_filters()
st.sidebar.caption(f"Store: `{state.path}`" + ("" if state.ready else " — no data loaded"))
current.run()
