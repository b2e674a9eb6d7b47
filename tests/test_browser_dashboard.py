"""Browser test: `streamlit run` on a free port, every page opened in headless Chromium, headline figures checked, a CSV downloaded, screenshots saved."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_kit import (
    CHROMIUM,
    SCREENSHOTS,
    TIMEOUT_MS,
    chromium,
    dashboard_server,
)
from test_dashboard_fixture import EXPECTED, PERIOD, build_dashboard_store

QUERY = f"?from={PERIOD[0].isoformat()}&to={PERIOD[1].isoformat()}"
# URL path -> (title on the page, text that must appear: the headline figure where the page has one).
PAGES: dict[str, tuple[str, str | None]] = {
    "": ("Overview", EXPECTED["re_referrals"]),
    "re-referrals": ("Re-referrals", EXPECTED["re_referrals"]),
    "timeliness": ("Timeliness", EXPECTED["assessments"]),
    "ethnicity": ("Ethnicity", "80.0%"),
    "front-door": ("Front door", EXPECTED["conversion"]),
    "data-quality": ("Data quality", None),
    "downloads": ("Downloads", None),
    "definitions": ("Definitions", "Re-referrals within 12 months"),
    "about-the-data": ("About the data", "1 load published"),
}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (make browser-deps)"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`streamlit run dashboard.py` against the fixture store, on a free port."""
    store = build_dashboard_store(tmp_path_factory.mktemp("browser") / "store.duckdb")
    with dashboard_server({"FRONTDOOR_STORE": str(store)}, tmp_path_factory.getbasetemp()) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as launched:
        yield launched


def open_page(browser: object, url: str) -> object:
    """A new tab on `url`, once the script has finished and the charts have drawn."""
    context = browser.new_context(viewport={"width": 1400, "height": 2400}, accept_downloads=True)
    page = context.new_page()
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector("h1", timeout=TIMEOUT_MS)
    # Done when the script is not running, no element is still a skeleton placeholder, and every
    # plotly chart (they load lazily) has drawn its SVG; checked twice in a row to outlast a rerun.
    settled = """() => {
        const app = document.querySelector('[data-testid="stApp"]');
        const done = app && app.getAttribute('data-test-script-state') === 'notRunning'
            && !document.querySelector('[data-testid^="stSkeleton"], [data-testid="stAppSkeleton"]')
            && [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
                   .every(chart => chart.querySelector('.main-svg'));
        const wasDone = window.__settled === true;
        window.__settled = done;
        return done && wasDone;
    }"""
    page.wait_for_function(settled, timeout=TIMEOUT_MS, polling=250)
    page.wait_for_timeout(300)
    return page


def check_page(browser: object, server: str, path: str) -> None:
    """Open one page, save its screenshot, and check it shows no exception and the right headline figure."""
    title, figure = PAGES[path]
    page = open_page(browser, f"{server}/{path}{QUERY}")
    try:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{path or 'overview'}.png"), full_page=True, timeout=TIMEOUT_MS)
        assert page.locator('[data-testid="stException"]').count() == 0, path
        assert page.locator("h1").first.inner_text().strip().startswith(title), path
        body = page.locator('[data-testid="stMain"]').inner_text()
        assert "Traceback" not in body, path
        if figure:
            assert figure in body, f"{path}: {figure} not shown"
    finally:
        page.context.close()


def check_download(browser: object, server: str, target_dir: Path) -> None:
    """Click the first chart's CSV button on the Re-referrals page: the file is a CSV with a UTF-8 BOM."""
    page = open_page(browser, f"{server}/re-referrals{QUERY}")
    try:
        button = page.locator('[data-testid="stDownloadButton"] button').first
        with page.expect_download(timeout=TIMEOUT_MS) as download_info:
            button.click()
        target = target_dir / download_info.value.suggested_filename
        download_info.value.save_as(target)
        content = target.read_bytes()
        assert target.suffix == ".csv"
        assert content.startswith(b"\xef\xbb\xbf")
        assert b"(numerator)" in content.splitlines()[0]  # headed by the registry: "Re-referrals (numerator)"
    finally:
        page.context.close()


def test_every_page_in_chromium_and_a_csv_download(server: str, browser: object, tmp_path: Path) -> None:
    """One test (so one server and one browser under xdist): every page, then a download."""
    for path in PAGES:
        check_page(browser, server, path)
    check_download(browser, server, tmp_path)


def test_a_deep_link_on_a_fresh_server_opens_its_page(tmp_path: Path, browser: object) -> None:
    """The first session after a start treats pages/ as an old-style folder; the link must still open its page."""
    store = build_dashboard_store(tmp_path / "store.duckdb")
    with dashboard_server({"FRONTDOOR_STORE": str(store)}, tmp_path, "streamlit-fresh") as url:
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        try:
            page = context.new_page()
            page.goto(f"{url}/timeliness{QUERY}", wait_until="domcontentloaded")
            page.wait_for_selector("h1", timeout=TIMEOUT_MS)
            page.wait_for_timeout(2000)  # a "Page not found" dialog comes with the first run's page list
            assert page.locator("h1").first.inner_text() == "Timeliness"
            assert page.get_by_text("Page not found").count() == 0
        finally:
            context.close()
