"""Browser test: a store's Data Docs opened in headless Chromium with the network blocked are styled, list their results and meet WCAG AA contrast."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
from browser_kit import CHROMIUM, ROOT, SCREENSHOTS, TIMEOUT_MS, chromium, dashboard_server
from test_dashboard_fixture import build_dashboard_store

from expectations.data_docs import store_key

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (make browser-deps)"),
]

TABLES = ("contacts", "referrals", "assessments", "cin_episodes", "recordings")
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

# WCAG 2.x contrast of every visible text element against the first opaque background behind it:
# 4.5:1 for normal text, 3:1 for large text (24px, or 18.66px bold). Returns the failures.
CONTRAST_FAILURES = """() => {
    const rgba = s => { const m = s.match(/[\\d.]+/g).map(Number); return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1]; };
    const lum = ([r, g, b]) => { const c = [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
                                 return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]; };
    const background = el => { for (let e = el; e; e = e.parentElement) { const c = rgba(getComputedStyle(e).backgroundColor);
                                  if (c[3] > 0.5) return c; } return [255, 255, 255, 1]; };
    const out = [];
    for (const el of document.querySelectorAll('body *')) {
        const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
        const style = getComputedStyle(el), box = el.getBoundingClientRect();
        if (!own || style.visibility === 'hidden' || style.display === 'none' || box.width === 0 || box.height === 0) continue;
        if (el.closest('[aria-hidden="true"], .sr-only, .d-none')) continue;
        const fg = rgba(style.color), bg = background(el);
        const fgMixed = fg.slice(0, 3).map((v, i) => v * fg[3] + bg[i] * (1 - fg[3]));
        const [l1, l2] = [lum(fgMixed), lum(bg)].sort((a, b) => b - a);
        const ratio = (l1 + 0.05) / (l2 + 0.05);
        const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
        const needed = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
        if (ratio < needed) out.push({text: el.textContent.trim().slice(0, 40), tag: el.tagName, cls: el.className.toString(),
                                      color: style.color, background: bg.join(','), ratio: Math.round(ratio * 100) / 100});
    }
    return out;
}"""


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Data Docs of a validated fixture store (one check fails: C06 has no ethnicity), built beside it."""
    store = build_dashboard_store(tmp_path_factory.mktemp("docs") / "store.duckdb", validate=True)
    folder = store.with_name(store.name + ".data_docs")
    assert (folder / "index.html").is_file()
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as launched:
        yield launched


def offline_page(browser: object, blocked: list[str]) -> object:
    """A tab whose every request off this machine is aborted and recorded in `blocked`."""
    context = browser.new_context(viewport={"width": 1400, "height": 1600})

    def route(request_route: object) -> None:
        url = urlparse(request_route.request.url)
        if url.scheme in {"file", "data", "blob", "about"} or url.hostname in LOCAL_HOSTS:
            request_route.continue_()
        else:
            blocked.append(request_route.request.url)
            request_route.abort("internetdisconnected")

    context.route("**/*", route)
    return context.new_page()


def assert_styled(page: object) -> None:
    """Bootstrap's stylesheet and Font Awesome's font are in effect (unstyled, .navbar is a block and no font loads)."""
    assert page.eval_on_selector(".navbar", "e => getComputedStyle(e).display") == "flex"
    assert page.eval_on_selector(".navbar", "e => getComputedStyle(e).position") == "sticky"
    assert page.evaluate("() => document.fonts.check('900 16px \"Font Awesome 6 Free\"')")


def assert_contrast(page: object, name: str) -> None:
    """Every visible text meets AA, in the light and the dark colour scheme (GE's pages follow the system's)."""
    for scheme in ("dark", "light"):
        page.emulate_media(color_scheme=scheme)
        failures = page.evaluate(CONTRAST_FAILURES)
        assert failures == [], f"{name} ({scheme}): text below WCAG AA contrast: {json.dumps(failures[:5])}"


def test_index_lists_every_validation_styled_and_offline(docs: Path, browser: object) -> None:
    blocked: list[str] = []
    page = offline_page(browser, blocked)
    try:
        page.goto((docs / "index.html").as_uri(), wait_until="load")
        # bootstrap-table (vendored JS) fills the validation results list from the page's data; offline
        # without it the table stays empty.
        results = page.locator("tr:has(.ge-index-page-table-validation-links-item)")
        results.first.wait_for(timeout=TIMEOUT_MS)
        page.evaluate("() => document.fonts.ready")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "data_docs_index.png"), full_page=True)
        body = page.locator("body").inner_text()
        for table in TABLES:
            assert f"store.duckdb-{table}" in body, table  # the data asset is named after the store's file
        assert "load of fixture (extract 2025-03-31)" in body  # the run is named after the load's file and date
        assert "__none__" not in body and "Data Docs | store.duckdb" in body
        assert results.count() == len(TABLES)
        assert_styled(page)
        assert_contrast(page, "index")
        assert blocked == [], f"requests off this machine: {blocked}"
    finally:
        page.context.close()


def test_a_validation_page_lists_its_expectations_styled_and_offline(docs: Path, browser: object) -> None:
    blocked: list[str] = []
    page = offline_page(browser, blocked)
    (result,) = (docs / "validations" / "referrals").rglob("*.html")
    try:
        page.goto(result.as_uri(), wait_until="load")
        page.evaluate("() => document.fonts.ready")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "data_docs_validation.png"), full_page=True)
        body = page.locator("body").inner_text()
        assert (
            "Ethnicity recorded (referrals.ethnicity_present, error)" in body
        )  # the failing check (the product's own: no DfE code)
        assert "Sex recorded (referrals.sex_present" in body  # a passing check is listed too
        assert "Data asset: referrals" in body and "load of fixture (extract 2025-03-31)" in body
        assert "C06" not in body  # counts only, no child ids
        assert_styled(page)
        assert_contrast(page, "validation")
        assert blocked == [], f"requests off this machine: {blocked}"
    finally:
        page.context.close()


@pytest.fixture(scope="module")
def server(docs: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`streamlit run dashboard.py` on the validated store, offline as far as the browser is concerned."""
    store = docs.with_name(docs.name.removesuffix(".data_docs"))
    try:
        with dashboard_server({"FRONTDOOR_STORE": str(store)}, tmp_path_factory.getbasetemp(), "streamlit-docs") as url:
            yield url
    finally:
        shutil.rmtree(ROOT / "static" / "data_docs" / store_key(store), ignore_errors=True)  # the copy it published


def test_the_data_quality_page_links_to_this_stores_docs_served_offline(server: str, browser: object) -> None:
    """The link on the Data quality page opens this store's Data Docs, served by Streamlit from ./static."""
    blocked: list[str] = []
    page = offline_page(browser, blocked)
    try:
        page.goto(f"{server}/data-quality", wait_until="domcontentloaded")
        link = page.locator('a:has-text("Open the Data Docs")')
        link.wait_for(timeout=TIMEOUT_MS)
        href = link.get_attribute("href")
        assert href.startswith("/app/static/data_docs/") and href.endswith("/index.html"), href
        blocked.clear()  # the dashboard's own requests (Streamlit fetches its page icon from Google) are not the docs'
        page.goto(f"{server}{href}", wait_until="load")
        page.locator("tr:has(.ge-index-page-table-validation-links-item)").first.wait_for(timeout=TIMEOUT_MS)
        assert page.locator("tr:has(.ge-index-page-table-validation-links-item)").count() == len(TABLES)
        assert "Data Docs | store.duckdb" in page.locator("body").inner_text()
        assert_styled(page)
        # Followed by its href, not clicked: the link sits in a table row whose own onclick opens the validation
        # result, and the two navigations race (CI once saw both aborted and the index still on screen).
        suite = page.locator("a.ge-index-page-table-expectation-suite-link", has_text="referrals").first
        page.goto(urljoin(page.url, suite.get_attribute("href")), wait_until="load")
        assert "Ethnicity recorded" in page.locator("body").inner_text()
        assert_styled(page)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "data_docs_served_suite.png"), full_page=True)
        assert blocked == [], f"requests off this machine: {blocked}"
    finally:
        page.context.close()
