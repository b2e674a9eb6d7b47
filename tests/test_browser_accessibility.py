"""Browser test of accessibility: axe (WCAG 2.2 AA) on every page at 1440x900, the keyboard alone from a filter to a CSV, links in the URL shown as text, and no table toolbar export."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

import pytest
from a11y import assert_accessible
from browser_kit import CHROMIUM, SCREENSHOTS, SETTLED, TIMEOUT_MS
from test_browser_dashboard import PAGES, QUERY, browser, server
from test_dashboard_fixture import NORTH

__all__ = ["browser", "server"]  # the fixtures, shared with the dashboard's browser test
VIEWPORT = {"width": 1440, "height": 900}
KEYBOARD_LIMIT = 80  # Tab presses allowed to reach a control

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (make browser-deps)"),
]


def open_at_1440(browser: object, url: str) -> object:
    """A new 1440x900 tab on `url`, once the script has finished and the charts have drawn."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector("h1", timeout=TIMEOUT_MS)
    settle(page)
    return page


def settle(page: object) -> None:
    page.evaluate("() => { window.__settled = false; }")
    page.wait_for_function(SETTLED, timeout=TIMEOUT_MS, polling=250)
    page.wait_for_timeout(300)


def test_every_page_passes_axe_wcag22_aa(server: str, browser: object) -> None:
    """axe on every page (local mode); serious or critical violations fail unless the statement lists them as Streamlit's."""
    failures = []
    for path in PAGES:
        page = open_at_1440(browser, f"{server}/{path}{QUERY}")
        try:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"a11y_{path or 'overview'}_1440x900.png"), timeout=TIMEOUT_MS)
            assert_accessible(page, f"local_{path or 'overview'}")
        except AssertionError as exc:
            failures.append(str(exc))
        finally:
            page.context.close()
    assert not failures, "\n\n".join(failures)


def focused(page: object) -> dict[str, str]:
    """The focused element: its tag, accessible label, the nearest Streamlit test id, and its outline."""
    return page.evaluate("""() => {
        const e = document.activeElement;
        let a = e; while (a && !(a.dataset && a.dataset.testid)) a = a.parentElement;
        const style = getComputedStyle(e);
        return {tag: e.tagName, label: e.getAttribute('aria-label') || e.innerText.slice(0, 60),
                testid: a ? a.dataset.testid : '', outline: style.outlineStyle, width: style.outlineWidth};
    }""")


def tab_to(page: object, wanted: callable, what: str) -> dict[str, str]:
    """Press Tab until the focused element is `wanted`; every stop on the way must show its focus."""
    for _ in range(KEYBOARD_LIMIT):
        page.keyboard.press("Tab")
        here = focused(page)
        if here["tag"] not in ("BODY", "MAIN"):
            assert here["outline"] != "none" and here["width"] != "0px", f"focus not visible on {here}"
        if wanted(here):
            return here
    raise AssertionError(f"{what} not reached with {KEYBOARD_LIMIT} presses of Tab")


def test_keyboard_alone_reaches_a_filter_changes_it_and_downloads_a_csv(
    server: str, browser: object, tmp_path: Path
) -> None:
    page = open_at_1440(browser, f"{server}/re-referrals{QUERY}")
    try:
        tab_to(page, lambda f: f["tag"] == "INPUT" and f["label"] == "Team", "the Team filter")
        page.keyboard.press("ArrowDown")  # open the list
        page.wait_for_selector('[role="listbox"]', timeout=TIMEOUT_MS)
        page.keyboard.type("North")
        page.keyboard.press("Enter")
        page.wait_for_function(
            "team => new URLSearchParams(location.search).get('team') === team", arg=NORTH, timeout=TIMEOUT_MS
        )
        settle(page)
        assert parse_qs(urlparse(page.url).query)["team"] == [NORTH]
        tab_to(
            page, lambda f: f["testid"] == "stDownloadButton" or "Download this" in f["label"], "a CSV download button"
        )
        with page.expect_download(timeout=TIMEOUT_MS) as download_info:
            page.keyboard.press("Enter")
        target = tmp_path / download_info.value.suggested_filename
        download_info.value.save_as(target)
        assert target.suffix == ".csv" and target.read_bytes().startswith(b"\xef\xbb\xbf")
        assert (
            b"(numerator)" in target.read_bytes().splitlines()[0]
        )  # headed by the registry: "Re-referrals (numerator)"
    finally:
        page.context.close()


def test_a_link_in_the_url_is_shown_as_text_not_a_link(server: str, browser: object) -> None:
    link = "[Session expired - sign in again](https://evil.example/login)"
    page = open_at_1440(browser, f"{server}/{QUERY}&worker={quote(link)}")
    try:
        assert page.locator('a[href*="evil.example"]').count() == 0
        sidebar = page.locator('[data-testid="stSidebar"]').inner_text().replace("\u2060", "")
        assert "[Session expired - sign in again](https://evil.example/login)" in sidebar
    finally:
        page.context.close()


def test_tables_have_no_toolbar_download(server: str, browser: object) -> None:
    """A table's own toolbar would export formulas as they are: only the project's download is offered."""
    page = open_at_1440(browser, f"{server}/downloads{QUERY}")
    try:
        grid = page.locator('[data-testid="stDataFrame"]').first
        grid.hover()
        page.wait_for_timeout(500)
        toolbar = page.locator('[data-testid="stElementToolbar"]').first
        assert toolbar.count() == 1  # the toolbar is there (search, full screen)...
        assert page.get_by_role("button", name="Download as CSV").count() == 0  # ...without its own download
        assert page.locator('[data-testid="stDownloadButton"]').count() >= 1
    finally:
        page.context.close()
