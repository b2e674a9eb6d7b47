"""Re-referral metrics on hand-written rows; each row says why it counts or not."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from metrics.coverage import history_warnings
from metrics.params import Filters, Period
from metrics.re_referrals import (
    closure_to_re_referral,
    re_referral_after_closure,
    re_referral_rate,
    re_referred_children,
)
from store.connection import open_read
from tests.storekit import build_store

D = date
PERIOD = Period(D(2024, 1, 1), D(2024, 12, 31))

REFERRALS = [
    # A: previous referral exactly 12 months before -> re-referral (d - 12 months <= p)
    dict(child_id="A", referral_date=D(2023, 3, 15), team="East", referral_source="6"),  # before the period
    dict(child_id="A", referral_date=D(2024, 3, 15), team="East", referral_source="6"),  # counts: re-referral
    # B: previous referral 12 months and a day before -> not a re-referral
    dict(child_id="B", referral_date=D(2023, 3, 14), team="East", referral_source="2A"),  # before the period
    dict(child_id="B", referral_date=D(2024, 3, 15), team="East", referral_source="2A"),  # counts: not re-referral
    # C: leap day; 12 months before 29 Feb 2024 is 28 Feb 2023 -> re-referral (not under 365 days: 366 back)
    dict(child_id="C", referral_date=D(2023, 2, 28), team="West", referral_source="6"),  # before the period
    dict(child_id="C", referral_date=D(2024, 2, 29), team="West", referral_source="6"),  # counts: re-referral
    # D: two rows on one day are one referral, never a re-referral of itself
    dict(child_id="D", referral_date=D(2024, 5, 1), team="West", referral_source="6"),  # counts once: not re-ref
    dict(child_id="D", referral_date=D(2024, 5, 1), team="West", referral_source="6"),  # duplicate: collapsed
    # E: first referral in the period, NFA; referred again 2 months later -> the second is a re-referral
    dict(child_id="E", referral_date=D(2024, 6, 3), team="West", referral_source="3A", nfa=True),  # not re-ref
    dict(child_id="E", referral_date=D(2024, 8, 3), team="West", referral_source="3A"),  # re-referral
    # F: referral after the period ends -> outside both numerator and denominator
    dict(child_id="F", referral_date=D(2025, 1, 2), team="East", referral_source="6"),
]
EPISODES = [
    # A's 2023 episode closed on 1 Jun 2023 (RC7): A's 2024 referral follows it after 288 days
    dict(child_id="A", start_date=D(2023, 3, 15), closure_date=D(2023, 6, 1), closure_reason="RC7", team="East"),
    # E's August referral: episode closed 1 Oct 2024, re-referred never -> closure in period, not followed
    dict(child_id="E", start_date=D(2024, 8, 3), closure_date=D(2024, 10, 1), closure_reason="RC8", team="West"),
]


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    path = tmp_path_factory.mktemp("rereferrals") / "store.duckdb"
    build_store(path, {"referrals": REFERRALS, "cin_episodes": EPISODES}, as_of=D(2025, 3, 31))
    return open_read(path)


def test_rate_counts_exactly_twelve_months_and_leap_day(con: duckdb.DuckDBPyConnection) -> None:
    row = re_referral_rate(con, PERIOD).iloc[0]
    # referrals in 2024: A, B, C, D (one), E x2 = 6; re-referrals: A, C, E(Aug) = 3
    assert (row["numerator"], row["denominator"]) == (3, 6)
    assert row["rate"] == pytest.approx(50.0)


def test_365_day_lookback_drops_the_leap_day_case(con: duckdb.DuckDBPyConnection) -> None:
    row = re_referral_rate(con, PERIOD, lookback="365_days").iloc[0]
    # C's previous referral is 366 days back (2024 is a leap year); A's is 366 days back too
    assert (row["numerator"], row["denominator"]) == (1, 6)


def test_by_team_and_month(con: duckdb.DuckDBPyConnection) -> None:
    by_team = re_referral_rate(con, PERIOD, by="team").set_index("team")
    assert by_team.loc["East", ["numerator", "denominator"]].tolist() == [1, 2]  # A yes, B no
    assert by_team.loc["West", ["numerator", "denominator"]].tolist() == [2, 4]  # C yes, D no, E no, E yes
    by_month = re_referral_rate(con, PERIOD, by="month")
    assert len(by_month) == 12 and by_month["denominator"].sum() == 6
    march = by_month[by_month["month"] == D(2024, 3, 1)].iloc[0]
    assert (march["numerator"], march["denominator"]) == (1, 2)
    assert by_month["rate"].isna().sum() == 12 - 5  # months without referrals have no rate


def test_filters_reach_sql_as_parameters(con: duckdb.DuckDBPyConnection) -> None:
    row = re_referral_rate(con, PERIOD, Filters(team="East", referral_source="6")).iloc[0]
    assert (row["numerator"], row["denominator"]) == (1, 1)  # only A's 2024 referral
    hostile = re_referral_rate(con, PERIOD, Filters(team="East' OR '1'='1")).iloc[0]
    assert hostile["denominator"] == 0
    several = re_referral_rate(con, PERIOD, Filters(team=("East", "West"))).iloc[0]
    assert several["denominator"] == 6


def test_empty_period_has_no_rate(con: duckdb.DuckDBPyConnection) -> None:
    row = re_referral_rate(con, Period(D(2020, 1, 1), D(2020, 1, 31))).iloc[0]
    assert (row["numerator"], row["denominator"]) == (0, 0)
    assert row["rate"] != row["rate"]  # NaN


def test_re_referred_children_show_previous_referral_and_closure(con: duckdb.DuckDBPyConnection) -> None:
    frame = re_referred_children(con, PERIOD)
    assert frame.columns[0] == "child_id"
    assert frame["child_id"].tolist() == ["C", "A", "E"]  # in referral-date order
    a = frame.set_index("child_id").loc["A"]
    assert a["previous_referral_date"] == D(2023, 3, 15)
    assert a["previous_closure_date"] == D(2023, 6, 1) and a["previous_closure_reason"] == "RC7"
    assert a["days_since_closure"] == 288
    e = frame.set_index("child_id").loc["E"]
    # E's June referral was NFA with no episode: it is the previous closure, reason 'NFA'
    assert e["previous_closure_date"] == D(2024, 6, 3) and e["previous_closure_reason"] == "NFA"


def test_re_referral_after_closure(con: duckdb.DuckDBPyConnection) -> None:
    # Closures in 2024: E's NFA referral (3 Jun, followed 3 Aug: within 3 months) and
    # E's episode (1 Oct, RC8, never followed). A's closure was in 2023.
    for months, expected in ((3, 1), (6, 1), (12, 1)):
        row = re_referral_after_closure(con, PERIOD, within_months=months).iloc[0]
        assert (row["numerator"], row["denominator"]) == (expected, 2)
    by_reason = re_referral_after_closure(con, PERIOD, by="closure_reason").set_index("closure_reason")
    assert by_reason.loc["NFA", "numerator"] == 1 and by_reason.loc["RC8", "numerator"] == 0
    # as-of 31 Mar 2025: the October closure has not had 12 months to be followed yet
    assert re_referral_after_closure(con, PERIOD).iloc[0]["incomplete_follow_up"] == 1
    whole = re_referral_after_closure(con, Period(D(2023, 1, 1), D(2023, 12, 31)), within_months=12).iloc[0]
    assert (whole["numerator"], whole["denominator"]) == (1, 1)  # A's 2023 closure, re-referred 288 days later


def test_closure_to_re_referral_bands(con: duckdb.DuckDBPyConnection) -> None:
    bands = closure_to_re_referral(con, PERIOD).set_index("band")
    assert bands.loc["1 to 3 months", "count"] == 1  # E: 3 Jun -> 3 Aug
    assert bands.loc["not re-referred", "count"] == 1  # E's October closure
    assert bands["count"].sum() == 2 and bands["share"].sum() == pytest.approx(100.0)


def test_history_warning_when_less_than_12_months_before_the_period(con: duckdb.DuckDBPyConnection) -> None:
    # referrals start 28 Feb 2023: fine for 2024-03 onwards, short for a period starting Jan 2024
    assert any("less than 12 months" in w for w in history_warnings(con, PERIOD))
    assert not any("less than 12 months" in w for w in history_warnings(con, Period(D(2024, 3, 1), D(2024, 12, 31))))


def test_unknown_lookback_and_breakdown_are_refused(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ValueError):
        re_referral_rate(con, PERIOD, lookback="13_months")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        re_referral_rate(con, PERIOD, by="child_id; DROP TABLE referrals")
