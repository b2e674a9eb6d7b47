"""AppTest for every page: renders without an exception, shows the right headline figure for the fixture store, and a filter changes it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from apptest_kit import assert_downloads_made, assert_figures_valid, open_on
from streamlit.testing.v1 import AppTest
from test_dashboard_fixture import EXPECTED, NORTH, PERIOD, build_dashboard_store, fixture_rows

APP = Path(__file__).resolve().parent.parent / "dashboard.py"
PAGES = {
    "overview": "pages/overview_page.py",
    "re_referrals": "pages/re_referrals_page.py",
    "timeliness": "pages/timeliness_page.py",
    "ethnicity": "pages/ethnicity_page.py",
    "front_door": "pages/front_door_page.py",
    "data_quality": "pages/data_quality_page.py",
    "downloads": "pages/downloads_page.py",
    "definitions": "pages/definitions_page.py",
    "about": "pages/about_data_page.py",
}
QUERY = {"from": PERIOD[0].isoformat(), "to": PERIOD[1].isoformat()}


@pytest.fixture(scope="module")
def store(dashboard_store: Path) -> Path:
    return dashboard_store  # built once for the run (conftest.py), only read


def open_page(monkeypatch: pytest.MonkeyPatch, store: Path, page: str, query: dict[str, str] | None = None) -> AppTest:
    """The dashboard on `page` of `store`, with the period (and any other filters) given in the URL query."""
    monkeypatch.setenv("FRONTDOOR_STORE", str(store))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update(QUERY if query is None else query)
    open_on(at, PAGES[page])  # as a browser opening the page's URL
    assert_clean(at)
    return at


def assert_clean(at: AppTest) -> None:
    """No exception element and no section that failed to draw."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def metric_value(at: AppTest, label: str) -> str:
    """The value shown by the first tile whose label starts with `label`."""
    for metric in at.metric:
        if metric.label.startswith(label):
            return metric.value
    raise AssertionError(f"no tile {label!r} among {[m.label for m in at.metric]}")


def choose_team(at: AppTest, team: str) -> AppTest:
    at.selectbox(key="filter_team").set_value(team).run()
    assert_clean(at)
    return at


def texts(at: AppTest) -> str:
    return "\n".join(
        [m.value for m in at.markdown]
        + [c.value for c in at.caption]
        + [i.value for i in at.info]
        + [w.value for w in at.warning]
        + [s.value for s in at.success]
    )


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders_with_a_title(
    monkeypatch: pytest.MonkeyPatch, store: Path, page: str, deferred_downloads: dict[str, Callable[[], Any]]
) -> None:
    at = open_page(monkeypatch, store, page)
    assert at.title and at.title[0].value
    assert_downloads_made(at, deferred_downloads)
    assert_figures_valid(at)


def test_overview_headline_and_team_filter(monkeypatch: pytest.MonkeyPatch, store: Path) -> None:
    at = open_page(monkeypatch, store, "overview")
    assert metric_value(at, "Re-referrals within 12 months") == EXPECTED["re_referrals"]
    assert metric_value(at, "Assessments within 45 working days") == EXPECTED["assessments"]
    assert "3 of 10" in texts(at)
    choose_team(at, NORTH)
    assert metric_value(at, "Re-referrals within 12 months") == EXPECTED["re_referrals_north"]
    assert at.query_params["team"] == NORTH


def test_overview_compares_with_england(monkeypatch: pytest.MonkeyPatch, store: Path) -> None:
    at = open_page(monkeypatch, store, "overview")
    labels = [m.label for m in at.metric]
    assert any(label.startswith("England (") for label in labels)
    assert any(label.startswith("Statistical neighbours (") for label in labels)


def test_re_referrals_headline_filter_and_drilldown(monkeypatch: pytest.MonkeyPatch, store: Path) -> None:
    at = open_page(monkeypatch, store, "re_referrals")
    assert metric_value(at, "Re-referrals within 12 months") == EXPECTED["re_referrals"]
    at.selectbox(key="rr_drill_drill").set_value(NORTH).run()
    assert_clean(at)
    choose_team(at, NORTH)
    assert metric_value(at, "Re-referrals within 12 months") == EXPECTED["re_referrals_north"]


def test_re_referred_children_are_sent_only_when_their_expander_opens(
    monkeypatch: pytest.MonkeyPatch, store: Path
) -> None:
    at = open_page(monkeypatch, store, "re_referrals")
    assert any("Sensitive" in e.label for e in at.expander)
    before = len(at.dataframe)
    at.session_state["rr_children_open"] = True  # the user opens the expander
    at.run()
    assert_clean(at)
    assert len(at.dataframe) == before + 1
    assert any("personal data" in b.label for b in at.download_button)


def test_timeliness_headline_and_team_filter(monkeypatch: pytest.MonkeyPatch, store: Path) -> None:
    at = open_page(monkeypatch, store, "timeliness")
    assert metric_value(at, "Assessments within 45 working days") == EXPECTED["assessments"]
    choose_team(at, NORTH)
    assert metric_value(at, "Assessments within 45 working days") == EXPECTED["assessments_north"]


def test_ethnicity_headline_and_team_filter(monkeypatch: pytest.MonkeyPatch, store: Path) -> None:
    at = open_page(monkeypatch, store, "ethnicity")
    assert metric_value(at, "Referrals with a known ethnicity") == "80.0%"  # C05 refused, C06 missing
    choose_team(at, NORTH)
    assert metric_value(at, "Referrals with a known ethnicity") == "60.0%"  # 3 of C01, C02, C03, C05, C06


def test_front_door_headline_and_period_filter(monkeypatch: pytest.MonkeyPatch, store: Path) -> None:
    at = open_page(monkeypatch, store, "front_door")
    assert metric_value(at, "Contacts leading to a referral") == EXPECTED["conversion"]
    assert metric_value(at, "Contacts") == "6"
    at.date_input(key="filter_from").set_value(date(2024, 9, 1)).run()
    assert_clean(at)
    assert metric_value(at, "Contacts") == "4"
    assert at.query_params["from"] == "2024-09-01"


def test_downloads_table_follows_the_filters(monkeypatch: pytest.MonkeyPatch, store: Path) -> None:
    at = open_page(monkeypatch, store, "downloads")
    shown = at.dataframe[0].value
    assert round(float(shown["rate"].iloc[0]), 1) == 30.0
    choose_team(at, NORTH)
    assert round(float(at.dataframe[0].value["rate"].iloc[0]), 1) == 40.0
    at.selectbox(key="dl_by").set_value("By month").run()
    assert_clean(at)
    assert len(at.dataframe[0].value) >= 5


def test_definitions_come_from_the_registry(monkeypatch: pytest.MonkeyPatch, store: Path) -> None:
    from metrics.registry import REGISTRY

    at = open_page(monkeypatch, store, "definitions")
    labels = " ".join(e.label for e in at.expander)
    assert all(code in labels for code in REGISTRY)


def test_about_the_data_warns_about_short_history(monkeypatch: pytest.MonkeyPatch, store: Path) -> None:
    at = open_page(monkeypatch, store, "about")
    assert "1 load published" in texts(at)
    early = [w.value for w in at.warning]
    assert early, "history starts in June 2023: a period from April 2024 has less than 12 months before it"
    at.date_input(key="filter_from").set_value(date(2024, 7, 1)).run()
    assert_clean(at)
    assert [w.value for w in at.warning] != early


def test_a_shared_link_reproduces_the_view(monkeypatch: pytest.MonkeyPatch, store: Path) -> None:
    at = open_page(monkeypatch, store, "overview", {**QUERY, "team": NORTH})
    assert at.selectbox(key="filter_team").value == NORTH
    assert metric_value(at, "Re-referrals within 12 months") == EXPECTED["re_referrals_north"]
    assert at.date_input(key="filter_from").value == PERIOD[0]


def test_default_period_is_the_last_12_complete_months(monkeypatch: pytest.MonkeyPatch, store: Path) -> None:
    at = open_page(monkeypatch, store, "overview", {})
    assert at.query_params["from"] == "2024-04-01"
    assert at.query_params["to"] == "2025-03-31"


def test_a_filter_matching_nothing_says_so(monkeypatch: pytest.MonkeyPatch, store: Path) -> None:
    at = open_page(monkeypatch, store, "re_referrals", {"from": "2020-01-01", "to": "2020-03-31"})
    assert "No referrals" in texts(at)


@pytest.mark.parametrize("page", list(PAGES))
def test_no_store_yet_says_how_to_load(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, page: str) -> None:
    at = open_page(monkeypatch, tmp_path / "nothing_here.duckdb", page)
    if page != "definitions":
        assert "python -m ingest" in texts(at)


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_dashboard_store(tmp_path_factory.mktemp("empty") / "empty.duckdb", rows={})


@pytest.mark.parametrize("page", list(PAGES))
def test_an_empty_store_says_what_is_missing(monkeypatch: pytest.MonkeyPatch, empty_store: Path, page: str) -> None:
    at = open_page(monkeypatch, empty_store, page)
    if page != "definitions":
        assert "empty" in texts(at) or "python -m ingest" in texts(at)


def test_a_store_without_recordings_says_to_load_them(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    rows = {k: v for k, v in fixture_rows().items() if k != "recordings"}
    at = open_page(monkeypatch, build_dashboard_store(tmp_path / "norec.duckdb", rows=rows), "timeliness")
    assert metric_value(at, "Assessments within 45 working days") == EXPECTED["assessments"]
    assert "case recordings" in texts(at)


def test_data_quality_lists_failing_expectations_and_their_rows(
    monkeypatch: pytest.MonkeyPatch, checked_dashboard_store: Path
) -> None:
    from expectations.report import dq_failing_checks, dq_failure_rows
    from store.connection import open_read

    checked = checked_dashboard_store  # build_dashboard_store(..., validate=True), once for the run
    con = open_read(checked)
    try:
        failing, rows = dq_failing_checks(con), dq_failure_rows(con)
    finally:
        con.close()
    assert not failing.empty, "C06 has no ethnicity: rule 4220 fails"
    at = open_page(monkeypatch, checked, "data_quality")
    assert metric_value(at, "Failing expectations") == f"{len(failing):,}"
    assert f"**{len(rows):,}**" in texts(at)
    labels = [b.label for b in at.download_button]
    assert any("personal data" in label for label in labels)
    first = at.selectbox(key="dq_check").value
    at.session_state["dq_rows_open"] = True  # the user opens the expander
    at.run()
    assert_clean(at)
    shown = at.dataframe[-1].value
    assert set(shown["child_id"]) <= set(rows.loc[rows["check_id"] == first, "child_id"])
    assert list(shown.columns) == ["child_id", "source_file", "sheet", "row_number", "value", "problem"]


def test_downloads_can_suppress_small_numbers(monkeypatch: pytest.MonkeyPatch, store: Path) -> None:
    at = open_page(monkeypatch, store, "downloads")
    at.checkbox(key="dl_suppress").check().run()
    assert_clean(at)
    shown = at.dataframe[0].value
    assert (shown["numerator"] == "c").all()  # 3 re-referrals: fewer than 5, so 'c' as the DfE publishes it
    assert (shown["rate"] == "c").all()
