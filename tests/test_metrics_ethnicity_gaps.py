"""Ethnicity gaps in service: group against the rest with Wilson intervals, the small-number rule, and when gaps are not read."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from storekit import build_store

from metrics.ethnicity_gaps import ethnicity_gaps, ethnicity_representation, wilson_interval
from metrics.params import Period
from store.connection import open_read

PERIOD = Period(date(2024, 4, 1), date(2025, 3, 31))


def _ref(i: int, group_code: str, re_ref: bool) -> list[dict]:
    child = f"{group_code}{i}"
    rows = [dict(child_id=child, referral_date=date(2024, 6, 3), ethnicity=group_code, team="T")]
    if re_ref:
        rows.append(dict(child_id=child, referral_date=date(2024, 1, 8), ethnicity=group_code, team="T"))
    return rows


def _rows(missing: int = 0) -> dict[str, list[dict]]:
    referrals: list[dict] = []
    for i in range(40):  # White British: 40 referrals, 8 re-referrals (20%)
        referrals += _ref(i, "WBRI", i < 8)
    for i in range(30):  # Pakistani: 30 referrals, 18 re-referrals (60%)
        referrals += _ref(i, "APKN", i < 18)
    for i in range(4):  # Black Caribbean: 4 referrals, all re-referred: too few to compare
        referrals += _ref(i, "BCRB", True)
    for i in range(missing):
        referrals.append(dict(child_id=f"M{i}", referral_date=date(2024, 7, 1), ethnicity=None, team="T"))
    return {"referrals": referrals}


def binomtest(x: int, n: int):
    """scipy's exact binomial test, imported here (not at the top): scipy.stats costs every test process ~1.4 s to
    import at collection, and only the processes running this file need it."""
    from scipy.stats import binomtest as scipy_binomtest

    return scipy_binomtest(x, n)


def test_wilson_matches_scipy() -> None:
    lower, upper = wilson_interval([18, 0, 7], [30, 12, 7])
    for (x, n), lo, hi in zip([(18, 30), (0, 12), (7, 7)], lower, upper):
        ci = binomtest(x, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert (lo, hi) == (pytest.approx(ci.low, abs=1e-12), pytest.approx(ci.high, abs=1e-12))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The store of _rows(), built once for the tests that only read it."""
    return build_store(tmp_path_factory.mktemp("gaps") / "s.duckdb", _rows())


def test_group_against_the_rest(store: Path) -> None:
    con = open_read(store)
    gaps = ethnicity_gaps(con, PERIOD)
    rr = gaps[gaps["measure"] == "re_referral_rate"].set_index("ethnicity_group")
    asian = rr.loc["Asian"]
    assert (asian["numerator"], asian["denominator"], asian["rest_numerator"], asian["rest_denominator"]) == (
        18,
        30,
        12,
        44,
    )
    ci = binomtest(18, 30).proportion_ci(method="wilson")
    assert asian["rate_lower"] == pytest.approx(100 * ci.low) and asian["rate_upper"] == pytest.approx(100 * ci.high)
    assert asian["verdict"] == "higher than the rest"
    assert rr.loc["Black", "verdict"].startswith("too few")  # 4 of 4 is not a finding
    assert bool(asian["readable"])


def test_gaps_not_read_when_ethnicity_is_incomplete(tmp_path: Path) -> None:
    con = open_read(build_store(tmp_path / "s.duckdb", _rows(missing=20)))  # 74 known of 94: 78.7%
    gaps = ethnicity_gaps(con, PERIOD)
    assert not gaps["readable"].any() and (gaps["verdict"] == "not read: ethnicity too incomplete").all()
    assert gaps["known_share"].iloc[0] == pytest.approx(100 * 74 / 94)


def test_representation_against_the_population(store: Path, tmp_path: Path) -> None:
    con = open_read(store)
    population = tmp_path / "population.csv"
    pd.DataFrame(
        {"la_code": ["889"] * 3, "ethnicity_group": ["White", "Asian", "Black"], "children": [800, 150, 50]}
    ).to_csv(population, index=False)
    rep = ethnicity_representation(con, PERIOD, population_file=population).set_index("ethnicity_group")
    assert rep.loc["Asian", "verdict"] == "over-represented"  # 30 of 74 referred children against 15%
    assert rep.loc["White", "verdict"] == "under-represented"
    assert rep.loc["Black", "verdict"].startswith("too few")
    without = ethnicity_representation(con, PERIOD, population_file=tmp_path / "none.csv")
    assert (without["verdict"] == "no population figures").all()
