"""Browser test of sign-in against a real OpenID Connect server (oidc-provider-mock): one user per role signs in through
the login page in Chromium; leadership crawls every page and download without meeting a child id; analyst and data
quality see their lists, each opening one audit entry; admin reads the trail; sign-out ends the session."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_kit import CHROMIUM, SCREENSHOTS, SETTLED, TIMEOUT_MS, chromium, dashboard_server, free_port, stop
from test_dashboard_fixture import PERIOD, build_dashboard_store, fixture_rows

ROOT = Path(__file__).resolve().parent.parent
QUERY = f"?from={PERIOD[0].isoformat()}&to={PERIOD[1].isoformat()}"
USERS = {  # sub -> roles claim
    "lead": ["leadership"],
    "ana": ["analyst"],
    "dq": ["data_quality"],
    "boss": ["admin"],
    "nobody": [],
}
PAGES = [
    "",
    "re-referrals",
    "timeliness",
    "ethnicity",
    "front-door",
    "data-quality",
    "downloads",
    "definitions",
    "about-the-data",
]

PROVIDER = Path(sys.executable).parent / "oidc-provider-mock"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (make browser-deps)"),
    pytest.mark.skipif(not PROVIDER.exists(), reason="oidc-provider-mock is not installed (requirements.txt)"),
]


def child_ids() -> set[str]:
    return {str(row["child_id"]) for rows in fixture_rows().values() for row in rows if "child_id" in row}


CHILD_ID = re.compile("|".join(rf"\b{re.escape(c)}\b" for c in sorted(child_ids())))


def wait_for_url(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.25)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real OpenID Connect provider on a free port, with one predefined user per role."""
    port = free_port()
    claims = [
        json.dumps({"sub": sub, "email": f"{sub}@council.example", "name": sub.title(), "roles": roles})
        for sub, roles in USERS.items()
    ]
    args = [str(PROVIDER), "--port", str(port), "--host", "127.0.0.1"]
    for claim in claims:
        args += ["--user-claims", claim]
    log = (tmp_path_factory.getbasetemp() / f"oidc-{port}.log").open("wb")
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_url(f"{url}/.well-known/openid-configuration", process)
        yield url
    finally:
        stop(process)
        log.close()


@pytest.fixture(scope="module")
def dashboard(provider: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`streamlit run dashboard.py` with [auth] pointing at the provider (secrets file outside the repository)."""
    folder = tmp_path_factory.mktemp("signin")
    store = build_dashboard_store(folder / "store.duckdb", validate=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    secrets = folder / "secrets.toml"
    secrets.write_text(
        f'[auth]\nredirect_uri = "{url}/oauth2callback"\ncookie_secret = "browser-test-cookie-secret"\n'
        f'client_id = "frontdoor"\nclient_secret = "browser-test-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
    )
    audit_log = folder / "audit" / "audit.jsonl"
    env = {
        "FRONTDOOR_STORE": str(store),
        "STREAMLIT_SECRETS_FILES": str(secrets),
        "FRONTDOOR_AUDIT_LOG": str(audit_log),
    }
    with dashboard_server(env, tmp_path_factory.getbasetemp(), "streamlit-signin", port=port) as served:
        yield served, audit_log


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as launched:
        yield launched


# Every text node under an element, one per line: table cells (a hidden accessibility grid) included and kept apart.
TEXT_NODES = """el => { const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT); const out = [];
    while (walk.nextNode()) out.push(walk.currentNode.nodeValue); return out.join('\\n'); }"""


def all_text(locator: object) -> str:
    return locator.evaluate(TEXT_NODES)


def settle(page: object) -> None:
    page.wait_for_selector("h1", timeout=TIMEOUT_MS)
    page.wait_for_function(SETTLED, timeout=TIMEOUT_MS, polling=250)
    page.wait_for_timeout(300)


def shot(page: object, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, timeout=TIMEOUT_MS)


def sign_in(browser: object, url: str, sub: str, screenshots: bool = False) -> object:
    """A new browser session signed in as `sub` through the dashboard's button and the provider's login form."""
    context = browser.new_context(viewport={"width": 1400, "height": 2000}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{url}/{QUERY}", wait_until="domcontentloaded")
    button = page.get_by_role("button", name="Sign in")
    button.wait_for(timeout=TIMEOUT_MS)
    if screenshots:
        shot(page, "sign_in_page")
    button.click()
    page.wait_for_selector('input[name="sub"]', timeout=TIMEOUT_MS)  # the provider's login form
    page.fill('input[name="sub"]', sub)
    if screenshots:
        shot(page, "sign_in_provider_form")
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(re.escape(url)), timeout=TIMEOUT_MS)
    settle(page)
    return page


def visit(page: object, url: str, path: str) -> str:
    """Open a page in the signed-in session; the text of the whole app (sidebar, main, table grids)."""
    page.goto(f"{url}/{path}{QUERY}", wait_until="domcontentloaded")
    settle(page)
    assert page.locator('[data-testid="stException"]').count() == 0, path
    # every text node, not inner_text: a table's cells are in the DOM only as a (hidden) accessibility grid
    return all_text(page.locator('[data-testid="stApp"]'))


def entries(audit_log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in audit_log.read_text().splitlines()] if audit_log.exists() else []


def audited_download(page: object, button: object, audit_log: Path) -> object:
    """Click a personal-data download button; its download. Every download of the page is collected from before the
    click, so one that comes late is not missed between waits. A click that reached neither the server (no audit
    entry: the server writes one as it makes the bytes) nor a download within half the wait is made once more: on a
    loaded host a click can land while the page redraws (seen once in CI, 3 December 2026). A click the server saw
    is given the whole wait for its download (a rerun begun by the click once lost it: see ui/downloads.py), and the
    caller still asserts exactly one audit entry, so a second click never hides a lost download or a doubled one."""
    downloads: list[object] = []

    def collect(download: object) -> None:
        downloads.append(download)

    page.on("download", collect)
    try:
        before = len(entries(audit_log))
        button.click()
        started, clicked_again = time.monotonic(), False
        while not downloads:
            waited = time.monotonic() - started
            assert waited < TIMEOUT_MS / 1000, f"no download {waited:.0f} s after the click"
            if not clicked_again and waited > TIMEOUT_MS / 2000 and len(entries(audit_log)) == before:
                settle(page)
                button.click()
                started, clicked_again = time.monotonic(), True
            page.wait_for_timeout(250)  # lets the browser's events (the download) reach this thread
        return downloads[0]
    finally:
        page.remove_listener("download", collect)


def list_expander(page: object, label: str) -> object:
    """The expander of the child-level list whose label starts with `label` (the page has chart-data expanders too)."""
    return page.locator('[data-testid="stExpander"]', has_text=label).first


def open_list(page: object, label: str) -> str:
    """Open a child-level list's expander; the text of the table it shows."""
    page.get_by_text(label, exact=False).first.click()
    expander = list_expander(page, label)
    expander.locator('[data-testid="stExpanderDetails"] [data-testid="stDataFrame"]').wait_for(timeout=TIMEOUT_MS)
    settle(page)
    return all_text(expander.locator('[data-testid="stExpanderDetails"]'))


def open_every_expander(page: object) -> None:
    """Open every closed expander (chart data, comparisons), so that every download button on the page is visible."""
    closed = page.locator('[data-testid="stExpander"] details:not([open]) > summary')
    for _ in range(60):  # one at a time: the page may redraw after each
        if closed.count() == 0:
            break
        closed.first.click(timeout=10_000)
        page.wait_for_timeout(150)
    settle(page)


def test_leadership_crawls_every_page_and_download_without_a_child_id(
    dashboard: tuple[str, Path], browser: object, tmp_path: Path
) -> None:
    url, audit_log = dashboard
    page = sign_in(browser, url, "lead", screenshots=True)
    try:
        assert [e["event"] for e in entries(audit_log) if e["user"] == "lead@council.example"] == ["sign_in"]
        downloads = 0
        for path in PAGES:
            text = visit(page, url, path)
            if path == "re-referrals":
                shot(page, "leadership_re_referrals")
            assert not CHILD_ID.search(text), (path, CHILD_ID.findall(text)[:5])
            assert "Sensitive" not in text and "personal data" not in text and "Audit" not in text, path
            open_every_expander(page)
            buttons = page.locator('[data-testid="stDownloadButton"] button')
            for index in range(buttons.count()):
                with page.expect_download(timeout=TIMEOUT_MS) as info:
                    buttons.nth(index).click()
                target = tmp_path / f"{path or 'overview'}_{index}.csv"
                info.value.save_as(target)
                content = target.read_text(encoding="utf-8-sig")
                assert not CHILD_ID.search(content), (path, index, CHILD_ID.findall(content)[:5])
                downloads += 1
        assert downloads >= 20
        assert [e["event"] for e in entries(audit_log) if e["user"] == "lead@council.example"] == ["sign_in"]
    finally:
        page.context.close()


def test_analyst_sees_child_lists_each_view_audited_and_sign_out_ends_the_session(
    dashboard: tuple[str, Path], browser: object
) -> None:
    url, audit_log = dashboard
    page = sign_in(browser, url, "ana")
    try:
        visit(page, url, "re-referrals")
        before = len(entries(audit_log))
        shown = open_list(page, "Sensitive — children re-referred")
        shot(page, "analyst_re_referred_children")
        assert CHILD_ID.search(shown), "the analyst sees the re-referred children"
        time.sleep(1)
        new = entries(audit_log)[before:]
        assert [(e["event"], e["user"], e["what"], e["rows"]) for e in new] == [
            ("view_list", "ana@council.example", "re_referred_children", 3)
        ]
        button = list_expander(page, "Sensitive — children re-referred").locator(
            '[data-testid="stDownloadButton"] button'
        )
        download = audited_download(page, button.first, audit_log)  # the list's own download: audited too
        assert CHILD_ID.search(Path(download.path()).read_text(encoding="utf-8-sig"))
        settle(page)
        time.sleep(1)
        assert [(e["event"], e["what"], e["rows"]) for e in entries(audit_log)[before + 1 :]] == [
            ("download_rows", "re_referred_children", 3)
        ]
        assert not CHILD_ID.search(audit_log.read_text())
        page.get_by_role("button", name="Sign out").click()
        end = page.get_by_role("button", name="End session")  # the provider's RP-initiated logout page
        end.wait_for(timeout=TIMEOUT_MS)
        shot(page, "sign_out_provider")
        end.click()
        page.get_by_role("button", name="Sign in").wait_for(timeout=TIMEOUT_MS)
        page.goto(f"{url}/re-referrals{QUERY}", wait_until="domcontentloaded")
        page.get_by_role("button", name="Sign in").wait_for(timeout=TIMEOUT_MS)
        assert not CHILD_ID.search(all_text(page.locator('[data-testid="stApp"]')))
        assert entries(audit_log)[-1]["event"] == "sign_out"
    finally:
        page.context.close()


def test_data_quality_sees_failing_rows_and_admin_reads_the_trail(dashboard: tuple[str, Path], browser: object) -> None:
    url, audit_log = dashboard
    page = sign_in(browser, url, "dq")
    try:
        text = visit(page, url, "re-referrals")
        assert "Sensitive" not in text  # no child lists for data quality
        visit(page, url, "data-quality")
        before = len(entries(audit_log))
        shown = open_list(page, "Sensitive — rows failing")
        assert CHILD_ID.search(shown) and "row" in shown.lower()
        time.sleep(1)
        assert [(e["event"], e["user"]) for e in entries(audit_log)[before:]] == [("view_list", "dq@council.example")]
    finally:
        page.context.close()
    page = sign_in(browser, url, "boss")
    try:
        text = visit(page, url, "audit")
        shot(page, "admin_audit")
        assert "hash chain is intact" in text
        assert "dq@council.example" in text and "view_list" in text
    finally:
        page.context.close()


def test_a_user_without_a_role_sees_whom_to_ask(dashboard: tuple[str, Path], browser: object) -> None:
    url, _ = dashboard
    page = sign_in(browser, url, "nobody")
    try:
        text = all_text(page.locator('[data-testid="stApp"]'))
        assert "No access yet" in text and "performance team" in text
        assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    finally:
        page.context.close()


def test_every_page_passes_axe_signed_in(dashboard: tuple[str, Path], browser: object) -> None:
    """Issue 15 signed in: axe (WCAG 2.2 AA) on every page an admin sees, the Audit page and sign-out button included."""
    from a11y import assert_accessible

    url, _ = dashboard
    page = sign_in(browser, url, "boss")
    failures = []
    try:
        page.set_viewport_size({"width": 1440, "height": 900})
        for path in [*PAGES, "audit"]:
            visit(page, url, path)
            try:
                assert_accessible(page, f"signed_in_{path or 'overview'}")
            except AssertionError as exc:
                failures.append(str(exc))
    finally:
        page.context.close()
    assert not failures, "\n\n".join(failures)
