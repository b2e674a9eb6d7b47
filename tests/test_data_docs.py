"""Data Docs per store: built beside the store, never in a shared folder; offline (vendored assets); named after the load; published for the dashboard."""

from __future__ import annotations

import importlib.util
import re
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from expectations import data_docs, docs_offline
from expectations.docs_names import docs_names
from store.connection import DEFAULT_STORE, PROJECT_ROOT, create_schema
from tests.storekit import build_store

# Found without importing Great Expectations (its import is seconds of CPU every test process would pay at collection).
GE_TEMPLATES = Path(importlib.util.find_spec("great_expectations").origin).parent / "render" / "view" / "templates"
LOAD = {
    "referrals": [
        {
            "child_id": "kid-1",
            "referral_date": date(2024, 5, 1),
            "referral_source": "6",
            "sex": None,
            "ethnicity": "WBRI",
            "date_of_birth": date(2016, 1, 1),
        }
    ]
}


def snapshot(*paths: Path) -> dict[str, tuple[int, int]]:
    """Every file under `paths` with its size and modification time."""
    files = [f for p in paths if p.exists() for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file()]
    return {str(f): (f.stat().st_size, f.stat().st_mtime_ns) for f in files}


def shared_docs_locations() -> list[Path]:
    """The demo store's Data Docs, their published copy, and the old shared folder's pages."""
    published = (
        PROJECT_ROOT / "static" / "data_docs"
    )  # the served folder (conftest sends in-process tests' copies to tmp)
    return [
        data_docs.store_docs_dir(DEFAULT_STORE),
        published / data_docs.store_key(DEFAULT_STORE),
        published / "index.html",
        published / "validations",
        published / "expectations",
    ]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A validated store in a temporary folder; the shared locations must not change while it is built."""
    before = snapshot(*shared_docs_locations())
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("FRONTDOOR_DATA_DOCS", raising=False)
        path = build_store(tmp_path_factory.mktemp("docs") / "la.duckdb", LOAD, as_of=date(2024, 6, 30), validate=True)
    assert snapshot(*shared_docs_locations()) == before, "validating a temporary store changed the demo's Data Docs"
    return path


def test_docs_are_written_beside_their_store_only(store: Path) -> None:
    docs = store.with_name("la.duckdb.data_docs")
    assert (docs / "index.html").is_file()
    assert sorted(p.name for p in store.parent.iterdir() if "data_docs" in p.name) == ["la.duckdb.data_docs"]
    assert not (store.parent / "la.duckdb.versions" / "data_docs").exists()


def test_no_page_fetches_anything_from_the_internet(store: Path) -> None:
    docs = data_docs.store_docs_dir(store)
    pages = list(docs.rglob("*.html"))
    assert len(pages) >= 11  # index, 5 suites, 5 validation results
    for page in [*pages, *docs.rglob("*.css")]:
        text = page.read_text(encoding="utf-8")
        assert docs_offline.external_assets(text) == [], page
        assert not re.search(r"cdn|unpkg|jquery\.com|amazonaws", " ".join(re.findall(r'(?:src|href)="([^"]+)"', text)))
    for page in pages:  # every local script, stylesheet and image a page loads is there
        text = page.read_text(encoding="utf-8")
        for ref in re.findall(r'<(?:script|link|img)\b[^>]*?(?:src|href)="([^"#?]+)', text):
            assert (page.parent / ref).resolve().is_file(), f"{page.name}: {ref} missing"


def test_every_asset_ge_templates_load_is_vendored_with_its_licence() -> None:
    """A GE upgrade that adds a CDN asset fails here (and the build refuses the site)."""
    loaded = set()
    for template in GE_TEMPLATES.glob("*.j2"):
        text = template.read_text(encoding="utf-8")
        loaded |= set(re.findall(r'<(?:script|link)\b[^>]*?(?:src|href)="(https?://[^"]+)"', text))
    assert loaded and loaded <= set(docs_offline.CDN_ASSETS)
    for vendored in docs_offline.CDN_ASSETS.values():
        file = docs_offline.ASSETS_DIR / vendored
        assert file.is_file(), vendored
        assert list(file.parents[len(Path(vendored).parts) - 2].glob("LICENSE*")), f"{vendored}: no licence"


def test_offline_html_points_at_the_vendored_copies() -> None:
    page = (
        '<head><script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>'
        '<script src="https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js" '
        'integrity="sha384-abc" crossorigin="anonymous"></script>'
        '<img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=1"/></head>'
        '<a href="https://greatexpectations.io">GE</a>'
    )
    out = docs_offline.offline_html(page, "../../")
    assert '<script src="../../static/vendor/jquery-3.7.1/jquery.min.js">' in out
    assert (
        '<script src="../../static/vendor/popper.js-1.12.9/popper.min.js"></script>' in out
    )  # no SRI for a local copy
    assert '<img src="../../static/images/logo-long.png"/>' in out
    assert 'href="../../static/vendor/frontdoor-overrides.css"' in out
    assert docs_offline.external_assets(out) == []  # the link a reader may click is not an asset
    assert docs_offline.external_assets(page) == [
        "https://code.jquery.com/jquery-3.7.1.min.js",
        "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js",
        "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=1",
    ]


def test_a_site_that_would_still_fetch_from_the_internet_is_refused(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text('<head><script src="https://cdn.example.org/new.js"></script></head>')
    with pytest.raises(RuntimeError, match=r"index.html: Data Docs would fetch https://cdn.example.org/new.js"):
        docs_offline.make_offline(tmp_path)


def test_source_and_run_are_named_after_the_store_and_the_load() -> None:
    con = duckdb.connect()
    create_schema(con)
    files = ["annex_a_2024.xlsx", "cin_2024.xml", "recordings.csv", "z_extra.csv"]
    for i, name in enumerate(files):
        con.execute(
            "INSERT INTO loads (load_id, source_file, sha256, format, as_of, loaded_at) VALUES (?, ?, ?, 'x', ?, ?)",
            [7 if i < 2 else 8, name, str(i), date(2024, 3, 31 - i), datetime(2024, 4, 2, 9, 30)],
        )
    names = docs_names(con, 7, "demo.duckdb")
    assert (names.source, names.run_name) == (
        "demo.duckdb",
        "load of annex_a_2024.xlsx, cin_2024.xml (extract 2024-03-31)",
    )
    assert names.run_time == datetime(2024, 4, 2, 9, 30).astimezone()  # the load's local time, as an aware time
    con.execute("UPDATE loads SET load_id = 8")
    assert docs_names(con, 8, "la.duckdb").run_name == (
        "load of annex_a_2024.xlsx, cin_2024.xml, recordings.csv and 1 more (extract 2024-03-31)"
    )
    assert docs_names(con, 99, None).run_name == "checks on the store"


def test_the_connection_of_a_load_knows_its_store(store: Path) -> None:
    version = store.resolve()
    assert version.parent.name == "la.duckdb.versions"
    con = duckdb.connect(str(version), read_only=True)
    try:
        assert data_docs.store_of_connection(con) == store
    finally:
        con.close()
    assert data_docs.store_of_connection(duckdb.connect()) is None


def test_the_dashboard_publishes_the_current_stores_docs_and_prunes_gone_ones(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    static = tmp_path / "static"
    monkeypatch.setattr(data_docs, "STATIC_DIR", static)
    monkeypatch.setattr(data_docs, "PUBLISHED_DIR", static / "data_docs")
    monkeypatch.setenv("FRONTDOOR_STORE", str(store))
    key = data_docs.store_key(store)
    assert data_docs.data_docs_url() == f"/app/static/data_docs/{key}/index.html"  # the current store by default
    copy = static / "data_docs" / key
    assert (copy / "static" / "vendor" / "jquery-3.7.1" / "jquery.min.js").is_file()
    first = (copy / "index.html").stat().st_mtime_ns
    assert (
        data_docs.data_docs_url(str(store)) and (copy / "index.html").stat().st_mtime_ns == first
    )  # unchanged: no copy
    (data_docs.store_docs_dir(store) / data_docs.BUILT_STAMP).write_text("rebuilt\n")
    data_docs.data_docs_url(str(store))
    assert (copy / data_docs.BUILT_STAMP).read_text() == "rebuilt\n"  # rebuilt: copied again
    # A second store's docs; once the first store's are gone, publishing the second prunes the first's copy.
    other = tmp_path / "other.duckdb"
    (data_docs.store_docs_dir(other)).mkdir()
    (data_docs.store_docs_dir(other) / "index.html").write_text("<html></html>")
    (data_docs.store_docs_dir(other) / data_docs.BUILT_STAMP).write_text("1\n")
    gone = tmp_path / "gone.duckdb.data_docs"
    data_docs.store_docs_dir(store).rename(gone)
    assert data_docs.data_docs_url(str(other)) == f"/app/static/data_docs/{data_docs.store_key(other)}/index.html"
    assert not copy.exists()
    assert data_docs.data_docs_url(str(store)) is None
    gone.rename(data_docs.store_docs_dir(store))


def test_docs_never_go_to_the_projects_shared_static_folder(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    assert data_docs.data_docs_dir() is None
    monkeypatch.setenv("FRONTDOOR_DATA_DOCS", str(PROJECT_ROOT / "static" / "data_docs"))  # the old meaning: a folder
    assert data_docs.data_docs_dir(store="/x/la.duckdb") == Path("/x/la.duckdb.data_docs")
    assert "only 'off' is understood" in caplog.text
    assert data_docs.store_docs_dir(DEFAULT_STORE) == PROJECT_ROOT / "data" / "demo.duckdb.data_docs"
