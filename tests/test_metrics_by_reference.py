"""Pages call metrics by reference: a renamed or broken metric fails its page's test instead of showing a polite message."""

from __future__ import annotations

from pathlib import Path

import pytest
from apptest_kit import open_on
from streamlit.testing.v1 import AppTest
from test_dashboard_fixture import PERIOD

import metrics.re_referrals
import metrics.timeliness

APP = Path(__file__).resolve().parent.parent / "dashboard.py"
QUERY = {"from": PERIOD[0].isoformat(), "to": PERIOD[1].isoformat()}


@pytest.fixture(scope="module")
def store(dashboard_store: Path) -> Path:
    return dashboard_store  # built once for the run (conftest.py), only read


def run_page(monkeypatch: pytest.MonkeyPatch, store: Path, page: str) -> AppTest:
    monkeypatch.setenv("FRONTDOOR_STORE", str(store))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update(QUERY)
    return open_on(at, page)  # as a browser opening the page's URL


def test_a_renamed_metric_fails_the_page(monkeypatch: pytest.MonkeyPatch, store: Path) -> None:
    monkeypatch.delattr(metrics.re_referrals, "re_referred_children")  # as if renamed without updating the caller
    at = run_page(monkeypatch, store, "pages/re_referrals_page.py")
    assert at.exception  # (its message is redacted on screen: client.showErrorDetails = "none")


def test_a_metric_that_raises_fails_the_page(monkeypatch: pytest.MonkeyPatch, store: Path) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug in a metric")

    monkeypatch.setattr(metrics.timeliness, "count_recording_backlog", broken)  # the list itself is fetched when opened
    at = run_page(monkeypatch, store, "pages/timeliness_page.py")
    assert at.exception


def test_in_production_a_failing_section_is_a_message_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, store: Path
) -> None:
    monkeypatch.delenv("FRONTDOOR_STRICT_PAGES")

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug in a metric")

    monkeypatch.setattr(metrics.timeliness, "count_recording_backlog", broken)  # the list itself is fetched when opened
    at = run_page(monkeypatch, store, "pages/timeliness_page.py")
    assert not at.exception
    assert any("Backlog could not be drawn (ZeroDivisionError)" in e.value for e in at.error)
