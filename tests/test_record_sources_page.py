"""The row drill-downs show, behind a sensitive toggle, which file supplied each field of the listed records."""

from __future__ import annotations

from pathlib import Path

import pytest
from apptest_kit import open_on
from streamlit.testing.v1 import AppTest
from test_dashboard_fixture import PERIOD

APP = Path(__file__).resolve().parent.parent / "dashboard.py"


@pytest.fixture(scope="module")
def store(dashboard_store: Path) -> Path:
    return dashboard_store  # built once for the run (conftest.py), only read


def test_re_referred_children_show_their_source_files(monkeypatch: pytest.MonkeyPatch, store: Path) -> None:
    monkeypatch.setenv("FRONTDOOR_STORE", str(store))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update({"from": PERIOD[0].isoformat(), "to": PERIOD[1].isoformat()})
    open_on(at, "pages/re_referrals_page.py")  # as a browser opening the page's URL
    assert any("where each value of these records came from" in e.label for e in at.expander)
    before = len(at.dataframe)
    at.toggle(key="rr_children_sources_show").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.dataframe) == before + 1
    shown = at.dataframe[-1].value
    assert {"child_id", "referral_date", "source_file", "format", "as_of", "fields"} <= set(shown.columns)
    assert len(shown) > 0 and shown["fields"].str.contains("team").all()
