"""Ethnicity completeness, inconsistent children and ethnic make-up on hand-written rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from metrics.ethnicity import (
    count_ethnicity_inconsistent_children,
    ethnic_makeup,
    ethnicity_completeness,
    ethnicity_inconsistent_children,
)
from metrics.params import Filters, Period
from store.connection import open_read
from tests.storekit import build_store

D = date
PERIOD = Period(D(2024, 1, 1), D(2024, 12, 31))

REFERRALS = [
    dict(child_id="1", referral_date=D(2024, 1, 5), ethnicity="WBRI", team="East"),  # known
    dict(child_id="1", referral_date=D(2024, 6, 5), ethnicity="NOBT", team="East"),  # NOBT row; child 1 is WBRI
    dict(child_id="2", referral_date=D(2024, 2, 5), ethnicity="REFU", team="East"),  # refused
    dict(child_id="3", referral_date=D(2024, 3, 5), ethnicity=None, team="West"),  # missing: no ethnicity anywhere
    dict(child_id="4", referral_date=D(2024, 4, 5), ethnicity="XXXX", team="West"),  # invalid code
    dict(child_id="5", referral_date=D(2024, 5, 5), ethnicity="APKN", team="West"),  # known; later recorded AIND
    # unborn: referral before the date of birth, NOBT -> counted, and shown in `unborn`
    dict(child_id="6", referral_date=D(2024, 7, 1), ethnicity="NOBT", date_of_birth=D(2024, 9, 1), team="West"),
    dict(child_id="7", referral_date=D(2023, 5, 5), ethnicity="BAFR", team="West"),  # before the period
]
CONTACTS = [
    dict(child_id="5", contact_date=D(2024, 8, 1), ethnicity="AIND", contact_source="6"),  # differs from APKN
    dict(child_id="8", contact_date=D(2024, 8, 2), ethnicity=None, contact_source="2A"),  # missing
]
ASSESSMENTS = [
    dict(child_id="2", start_date=D(2024, 2, 6), ethnicity="MWBC", team="East"),  # known; child 2 now MWBC
]


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    path = tmp_path_factory.mktemp("ethnicity") / "store.duckdb"
    build_store(path, {"referrals": REFERRALS, "contacts": CONTACTS, "assessments": ASSESSMENTS})
    return open_read(path)


def test_referral_level_counts_each_category_apart(con: duckdb.DuckDBPyConnection) -> None:
    row = ethnicity_completeness(con, PERIOD).iloc[0]
    # 7 referrals in 2024: known = 1 (Jan), 5; NOBT = 1 (Jun), 6; REFU = 2; missing = 3; invalid = 4
    assert (row["numerator"], row["denominator"]) == (2, 7)
    assert (row["refused"], row["not_obtained"], row["missing"], row["invalid"]) == (1, 2, 1, 1)
    assert row["unborn"] == 1
    assert row["rate"] == pytest.approx(200 / 7)
    assert row["rate_excluding_unborn"] == pytest.approx(200 / 6)


def test_child_level_uses_the_childs_best_ethnicity(con: duckdb.DuckDBPyConnection) -> None:
    row = ethnicity_completeness(con, PERIOD, level="child").iloc[0]
    # children referred in 2024: 1 (WBRI), 2 (MWBC from the assessment), 3 (none), 4 (invalid),
    # 5 (AIND: latest known), 6 (NOBT) -> 3 of 6 known
    assert (row["numerator"], row["denominator"]) == (3, 6)
    assert (row["missing"], row["invalid"], row["not_obtained"], row["refused"]) == (1, 1, 1, 0)


def test_contact_and_assessment_levels(con: duckdb.DuckDBPyConnection) -> None:
    contacts = ethnicity_completeness(con, PERIOD, level="contact").iloc[0]
    assert (contacts["numerator"], contacts["denominator"], contacts["missing"]) == (1, 2, 1)
    by_source = ethnicity_completeness(con, PERIOD, level="contact", by="contact_source").set_index("contact_source")
    assert by_source.loc["6", "rate"] == 100.0 and by_source.loc["2A", "rate"] == 0.0
    assessments = ethnicity_completeness(con, PERIOD, level="assessment").iloc[0]
    assert (assessments["numerator"], assessments["denominator"]) == (1, 1)


def test_by_team_and_filter(con: duckdb.DuckDBPyConnection) -> None:
    by_team = ethnicity_completeness(con, PERIOD, by="team").set_index("team")
    assert by_team.loc["East", ["numerator", "denominator"]].tolist() == [1, 3]
    assert ethnicity_completeness(con, PERIOD, Filters(team="West")).iloc[0]["denominator"] == 4


def test_inconsistent_children_compare_known_codes_only(con: duckdb.DuckDBPyConnection) -> None:
    frame = ethnicity_inconsistent_children(con)
    # 5: APKN then AIND -> inconsistent; 2: REFU then MWBC -> a gap filled, not a contradiction;
    # 1: WBRI then NOBT -> not a contradiction either
    assert frame["child_id"].tolist() == ["5"]
    assert list(frame.iloc[0]["ethnicities_recorded"]) == ["AIND", "APKN"]
    assert frame.iloc[0]["records"] == 2
    assert count_ethnicity_inconsistent_children(con) == 1
    assert ethnicity_inconsistent_children(con, limit=0).empty  # the page lists at most `limit` children
    assert count_ethnicity_inconsistent_children(con, filters=Filters(ethnicity_group="White")) == 0  # 5 is Asian


def test_children_with_no_ethnicity_are_not_known(con: duckdb.DuckDBPyConnection) -> None:
    makeup = ethnic_makeup(con, PERIOD, population_file=Path("/nonexistent.csv")).set_index("ethnicity_group")
    # children 3 (none), 4 (invalid) and 6 (NOBT) are 'Not known'
    assert makeup.loc["Not known", "referred_children"] == 3
    assert makeup["referred_children"].sum() == 6
    assert makeup["share"].sum() == pytest.approx(100.0)
    assert makeup["population_share"].isna().all()  # no population file: NaN, never invented
    assert makeup.loc["Asian", "share_known"] == pytest.approx(100 / 3)


def test_ethnic_makeup_with_a_population_file(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    population = tmp_path / "population.csv"
    population.write_text(
        "la_code,ethnicity_group,children\n889,White,600\n889,Asian,300\n889,Mixed,100\n999,White,1\n"
    )
    makeup = ethnic_makeup(con, PERIOD, population_file=population).set_index("ethnicity_group")
    assert makeup.loc["White", "population_share"] == pytest.approx(60.0)
    assert makeup.loc["Asian", "population_share"] == pytest.approx(30.0)
    assert makeup.loc["Not known", "population_share"] != makeup.loc["Not known", "population_share"]


def test_empty_period(con: duckdb.DuckDBPyConnection) -> None:
    row = ethnicity_completeness(con, Period(D(2010, 1, 1), D(2010, 12, 31)), level="child").iloc[0]
    assert row["denominator"] == 0 and row["rate"] != row["rate"]
