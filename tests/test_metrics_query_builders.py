"""The metrics' SQL builders themselves: filters become parameters, breakdowns come from an allow-list, hostile values stay data."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from metrics.params import Filters, Period
from metrics.query import DIMENSIONS, aggregate, check_by, filter_clause

HOSTILE = "x'; DROP TABLE referral_facts; --"


def facts() -> duckdb.DuckDBPyConnection:
    """Four referrals: two in team A (one of them by worker W1), one in team B, one with no team."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE referral_facts AS SELECT * FROM (VALUES"
        " (DATE '2024-05-01', 'A', 'W1', true),"  # team A, worker W1, a re-referral
        " (DATE '2024-05-02', 'A', 'W2', false),"  # team A, another worker
        " (DATE '2024-06-03', 'B', 'W3', true),"  # team B
        " (DATE '2024-06-04', NULL, NULL, false)"  # no team recorded
        ") t(referral_date, team, worker, is_re_referral)"
    )
    con.execute("ALTER TABLE referral_facts ADD COLUMN month DATE")
    con.execute("UPDATE referral_facts SET month = CAST(date_trunc('month', referral_date) AS DATE)")
    return con


def count(con: duckdb.DuckDBPyConnection, filters: Filters, applicable=("team", "worker"), by: str | None = None):
    return aggregate(
        con,
        table="referral_facts",
        date_column="referral_date",
        period=Period(date(2024, 4, 1), date(2025, 3, 31)),
        filters=filters,
        applicable=applicable,
        by=by,
        counts={"numerator": "count(*) FILTER (WHERE is_re_referral)", "denominator": "count(*)"},
    )


def test_no_filter_no_terms():
    assert filter_clause(Filters(), ["team"]) == ("", [])


def test_a_set_filter_is_a_parameter_never_text():
    sql, params = filter_clause(Filters(team=HOSTILE), ["team"])
    assert sql == " AND team = ?"
    assert params == [HOSTILE]
    assert "DROP" not in sql


def test_a_filter_that_does_not_apply_adds_nothing():
    assert filter_clause(Filters(team="A", worker="W1"), ["worker"]) == (" AND worker = ?", ["W1"])


def test_a_filter_can_map_to_another_column():
    assert filter_clause(Filters(referral_source="1A"), {"referral_source": "contact_source"}) == (
        " AND contact_source = ?",
        ["1A"],
    )


def test_several_values_are_one_list_parameter():
    sql, params = filter_clause(Filters(team=("A", "B")), ["team"])
    assert sql == " AND list_contains(?, team)"
    assert params == [["A", "B"]]


def test_disabled_is_a_boolean_parameter():
    assert filter_clause(Filters(disabled=False), ["disabled"]) == (" AND disabled IS NOT DISTINCT FROM ?", [False])


@pytest.mark.parametrize("by", [None, "team", "month"])
def test_breakdowns_on_the_allow_list_pass(by):
    assert check_by(by, ("team", "month")) == by


@pytest.mark.parametrize("by", ["worker", "team; DROP TABLE x", "referral_date", "1=1"])
def test_breakdowns_off_the_list_are_refused(by):
    with pytest.raises(ValueError, match="by must be one of"):
        check_by(by, ("team", "month"))


def test_a_metric_cannot_allow_a_name_that_is_not_a_dimension():
    assert "referral_date" not in DIMENSIONS
    with pytest.raises(ValueError):
        check_by("referral_date", ("referral_date",))


def test_filters_apply_in_the_query():
    con = facts()
    assert count(con, Filters()).iloc[0][["numerator", "denominator"]].tolist() == [2, 4]
    assert count(con, Filters(team="A")).iloc[0][["numerator", "denominator"]].tolist() == [1, 2]
    assert count(con, Filters(team="A", worker="W1")).iloc[0][["numerator", "denominator"]].tolist() == [1, 1]
    assert count(con, Filters(team=("A", "B"))).iloc[0]["denominator"] == 3


def test_a_hostile_value_matches_nothing_and_leaves_the_store_alone():
    con = facts()
    assert count(con, Filters(team=HOSTILE)).iloc[0]["denominator"] == 0
    assert con.execute("SELECT count(*) FROM referral_facts").fetchone()[0] == 4


def test_monthly_breakdown_fills_every_month_of_the_period():
    frame = count(facts(), Filters(), by="month")
    assert len(frame) == 12  # April 2024 to March 2025, empty months included
    assert frame.set_index("month").loc[date(2024, 6, 1), "denominator"] == 2
    assert frame["denominator"].sum() == 4
    assert frame.loc[frame["denominator"] == 0, "rate"].isna().all()  # no rate where nothing to divide by
