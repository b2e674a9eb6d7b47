"""The demo's Overview shows no change the data does not contain: each headline moves between adjacent years within
its SPC limits, unless the synthetic truth (truth.json -> by_year) says it moved, and then it moves as the truth did.

Builds the demo through the loaders once for the module (`synthetic.demo.build_demo`, about a minute and a half).
"""

from __future__ import annotations

import json
import math
from datetime import date

import duckdb
import pandas as pd
import pytest

from metrics.coverage import default_period
from metrics.params import Filters, Period
from metrics.spc import spc_limits
from store.connection import open_read
from synthetic.build import TRUTH_FILE
from synthetic.demo import build_demo
from ui.headlines import HEADLINES, Headline

pytestmark = pytest.mark.slow

# Overview headline -> the truth.json `by_year` rate that says how it moves (the others are stationary).
MOVES_IN_TRUTH: dict[str, str] = {"conversion": "contact_conversion_30d"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[duckdb.DuckDBPyConnection, dict]:
    root = tmp_path_factory.mktemp("demo")
    build_demo(store=root / "demo.duckdb", out=root / "extracts")
    truth = json.loads((root / "extracts" / TRUTH_FILE).read_text(encoding="utf-8"))
    con = open_read(root / "demo.duckdb")
    yield con, truth
    con.close()


def _years(truth: dict) -> list[Period]:
    return [
        Period(date.fromisoformat(y["start"]), date.fromisoformat(y["end"]))
        for y in truth["by_year"]["contact_conversion_30d"]
    ]


def _yearly(con: duckdb.DuckDBPyConnection, headline: Headline, years: list[Period]) -> pd.DataFrame:
    rows = [headline.function(con, period=p, filters=Filters(), **headline.params).iloc[0] for p in years]
    return pd.DataFrame([{k: row[k] for k in ("numerator", "denominator", "rate")} for row in rows])


def _limit(pair: pd.DataFrame) -> float:
    """Three standard errors of the difference of two yearly proportions (pooled, in points)."""
    p = pair["numerator"].sum() / pair["denominator"].sum()
    return 300.0 * math.sqrt(p * (1 - p) * sum(1.0 / n for n in pair["denominator"]))


def test_the_overview_compares_the_last_of_the_truth_years(demo: tuple[duckdb.DuckDBPyConnection, dict]) -> None:
    con, truth = demo
    assert default_period(con) == _years(truth)[-1]
    assert len(_years(truth)) == 3


@pytest.mark.parametrize("headline", [h for h in HEADLINES if h.key not in MOVES_IN_TRUTH], ids=lambda h: h.key)
def test_stationary_headlines_stay_within_their_spc_limits(
    demo: tuple[duckdb.DuckDBPyConnection, dict], headline: Headline
) -> None:
    con, truth = demo
    yearly = _yearly(con, headline, _years(truth))
    assert (yearly["denominator"] > 100).all(), f"{headline.key}: too few records to test anything\n{yearly}"
    for i in range(len(yearly) - 1):
        pair = spc_limits(yearly.iloc[i : i + 2].reset_index(drop=True))
        assert pair["signal"].isna().all(), (
            f"{headline.label}: {pair['rate'].round(1).tolist()} between adjacent years is outside the SPC limits "
            f"({pair['lcl'].round(1).tolist()}..{pair['ucl'].round(1).tolist()}) though the truth is stationary"
        )


@pytest.mark.parametrize("key", list(MOVES_IN_TRUTH))
def test_headlines_the_truth_moves_move_as_the_truth_does(
    demo: tuple[duckdb.DuckDBPyConnection, dict], key: str
) -> None:
    con, truth = demo
    headline = next(h for h in HEADLINES if h.key == key)
    yearly = _yearly(con, headline, _years(truth))
    true = pd.DataFrame(truth["by_year"][MOVES_IN_TRUTH[key]])
    for i in range(len(yearly) - 1):
        pair = yearly.iloc[i : i + 2].reset_index(drop=True)
        shown, real = pair["rate"].diff().iloc[1], true["rate"].diff().iloc[i + 1]
        assert abs(shown - real) <= _limit(pair), f"{headline.label}: moved {shown:+.1f} pts, the truth {real:+.1f}"


def test_child_seen_does_not_jump_when_the_census_arrives(demo: tuple[duckdb.DuckDBPyConnection, dict]) -> None:
    """The issue's +47.1 pts: the CIN census blanked Annex A's child seen for the previous year's assessments."""
    con, truth = demo
    headline = next(h for h in HEADLINES if h.key == "child_seen")
    yearly = _yearly(con, headline, _years(truth))
    assert yearly["rate"].diff().abs().max() < 5.0, yearly
    not_recorded = con.execute(
        "SELECT count(*) FILTER (WHERE child_seen IS NULL) FROM assessment_facts WHERE start_date BETWEEN ? AND ?",
        [_years(truth)[1].start, _years(truth)[1].end],
    ).fetchone()[0]
    assert not_recorded == 0, "assessments the Annex A lists cover keep their child seen"


def test_ethnicity_page_finds_the_children_the_truth_made_inconsistent(
    demo: tuple[duckdb.DuckDBPyConnection, dict],
) -> None:
    """The issue's "0 children with more than one ethnicity recorded": the injected ones are found though later
    extracts overwrote the differing value."""
    from metrics.ethnicity import ethnicity_inconsistent_children

    con, truth = demo
    injected = {
        k["child_id"] for f in truth["faults"] if f["kind"] == "ethnicity_differs_between_records" for k in f["keys"]
    }
    assert injected, "the demo injects children whose ethnicity differs"
    assert set(ethnicity_inconsistent_children(con)["child_id"]) == injected
