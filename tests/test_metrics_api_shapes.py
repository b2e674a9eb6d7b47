"""Every rate metric accepts every breakdown and filter its registry entry lists, and returns the contract's shape."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd
import pytest

from metrics.coverage import coverage_by_month, data_span, default_period, filter_options, loads
from metrics.params import Filters, Period
from metrics.registry import REGISTRY
from store.connection import open_read
from tests.storekit import build_store

PERIOD = Period(date(2024, 1, 1), date(2024, 6, 30))
RATE_METRICS = [code for code, d in REGISTRY.items() if d.kind == "rate"]
EVERY_FILTER = Filters(
    team="East", worker="Ann", referral_source="6", ethnicity_group="White", age_band="5 to 9", disabled=False
)
CHILD = dict(ethnicity="WBRI", date_of_birth=date(2016, 5, 1))


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    path = tmp_path_factory.mktemp("shapes") / "store.duckdb"
    rows = {
        # one child who matches every filter, so each filtered metric has something to count
        "referrals": [
            dict(child_id="1", referral_date=date(2024, 2, 1), referral_source="6", team="East", worker="Ann", **CHILD)
        ],
        "contacts": [dict(child_id="1", contact_date=date(2024, 1, 30), contact_source="6", **CHILD)],
        "assessments": [
            dict(
                child_id="1",
                start_date=date(2024, 2, 2),
                authorised_date=date(2024, 3, 1),
                child_seen=True,
                disabled=False,
                team="East",
                worker="Ann",
                **CHILD,
            )
        ],
        "cin_episodes": [
            dict(
                child_id="1",
                start_date=date(2024, 2, 1),
                closure_date=date(2024, 5, 1),
                closure_reason="RC7",
                disabled=False,
                team="East",
                worker="Ann",
                **CHILD,
            )
        ],
        "recordings": [
            dict(
                record_id="r",
                child_id="1",
                record_type="visit",
                event_date=date(2024, 2, 2),
                entered_at=pd.Timestamp("2024-02-05 10:00").to_pydatetime(),
                team="East",
                worker="Ann",
                child_views_recorded=True,
            )
        ],
    }
    build_store(path, rows, as_of=date(2024, 6, 30))
    return open_read(path)


def _function(code: str):
    return REGISTRY[code].function


@pytest.mark.parametrize("code", RATE_METRICS)
def test_rate_metric_shape_for_every_breakdown(con: duckdb.DuckDBPyConnection, code: str) -> None:
    fn = _function(code)
    for by in (None, *REGISTRY[code].breakdowns):
        # contact_source is a breakdown of ethnicity completeness at contact level only
        extra = {"level": "contact"} if code == "ethnicity_completeness" and by == "contact_source" else {}
        frame = fn(con, PERIOD, by=by, **extra)
        head = [by] if by else []
        expected = head + (
            ["contacts", "children", "contacts_per_child"]
            if code == "contacts_per_child"
            else ["numerator", "denominator", "rate"]
        )
        assert frame.columns[: len(expected)].tolist() == expected, (code, by)
        if by == "month":
            assert frame["month"].tolist() == [date(2024, m, 1) for m in range(1, 7)]
        if by is None:
            assert len(frame) == 1


@pytest.mark.parametrize("code", RATE_METRICS)
def test_rate_metric_counts_the_child_under_every_filter(con: duckdb.DuckDBPyConnection, code: str) -> None:
    frame = _function(code)(con, PERIOD, filters=EVERY_FILTER)
    count = frame.iloc[0]["contacts" if code == "contacts_per_child" else "denominator"]
    assert count == 1, code
    excluded = _function(code)(con, PERIOD, filters=Filters(age_band="Under 1", team="West"))
    applies = set(REGISTRY[code].filters) & {"age_band", "team"}
    assert excluded.iloc[0]["contacts" if code == "contacts_per_child" else "denominator"] == (0 if applies else 1)


def test_coverage_functions(con: duckdb.DuckDBPyConnection) -> None:
    assert default_period(con) == Period(date(2023, 7, 1), date(2024, 6, 30))
    assert data_span(con)["recordings"] == {"earliest": date(2024, 2, 2), "latest": date(2024, 2, 2), "rows": 1}
    assert loads(con)["load_id"].tolist() == [1]
    months = coverage_by_month(con)
    assert months.columns.tolist() == ["table", "month", "rows"] and months["rows"].sum() == 5
    options = filter_options(con)
    assert options["team"] == ["East"] and options["worker:East"] == ["Ann"]
    assert "6" in options["referral_source"] and options["age_band"][0] == "Unborn"


def test_an_empty_store_gives_zero_counts_and_no_rates(tmp_path_factory: pytest.TempPathFactory) -> None:
    from metrics.coverage import history_warnings
    from metrics.report import headline_report

    path = build_store(tmp_path_factory.mktemp("empty") / "store.duckdb", {}, as_of=date(2024, 6, 30))
    with open_read(path) as empty:
        report = headline_report(empty, PERIOD)
        assert report["referrals"] == 0 and report["open_assessments_overdue"] == 0
        assert report["re_referral_rate"] is None and report["median_recording_delay_wd"] is None
        assert any("No referrals" in w for w in history_warnings(empty, PERIOD))
        assert default_period(empty) == Period(date(2023, 7, 1), date(2024, 6, 30))


def test_coverage_counts_only_plausible_months(tmp_path_factory: pytest.TempPathFactory) -> None:
    path = build_store(
        tmp_path_factory.mktemp("typos") / "store.duckdb",
        {
            "contacts": [
                dict(child_id="1", contact_date=date(2024, 3, 4), contact_source="6"),  # counts: inside the window
                dict(child_id="2", contact_date=date(2035, 3, 4), contact_source="6"),  # a typo after the as-of date
                dict(child_id="3", contact_date=date(1923, 3, 4), contact_source="6"),  # a typo before 1990
            ]
        },
        as_of=date(2024, 6, 30),
    )
    with open_read(path) as typos:
        months = coverage_by_month(typos)
    assert months["month"].tolist() == [date(2024, 3, 1)] and months["rows"].tolist() == [1]
