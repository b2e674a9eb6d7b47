"""The synthetic council's true rates (synthetic/truth.py) are recovered by the metrics from its clean records."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd
import pytest

from metrics.ethnicity import ethnicity_completeness
from metrics.params import Period
from metrics.report import headline_report
from metrics.timeliness import assessment_timeliness
from store.connection import open_read
from synthetic import build as synthetic_build
from synthetic import truth as synthetic_truth
from synthetic.params import Params
from tests.storekit import build_store


def _records(frame: pd.DataFrame) -> list[dict]:
    """Frame rows as dicts with None for missing values and datetime.date for *_date columns."""
    out = frame.astype(object).where(frame.notna(), None)
    for column in out.columns:  # whole columns at once (row by row it was a Timestamp per value)
        if column.endswith("_date") or column == "entered_at":
            stamps = pd.to_datetime(frame[column])
            python = stamps.dt.date if column.endswith("_date") else stamps.dt.to_pydatetime()
            out[column] = pd.Series(python, index=frame.index, dtype=object).where(stamps.notna(), None).tolist()
    return out.to_dict("records")


def _canonical(council: object, end: date) -> dict[str, list[dict]]:
    """The council's clean truth as the canonical rows an extract taken on `end` would give."""
    cut = pd.Timestamp(end)
    kids = council.truth.children[["child_id", "sex", "ethnicity", "date_of_birth"]]
    eps = council.truth.episodes.loc[council.truth.episodes["referral_date"] <= cut].merge(kids, on="child_id")
    referrals = eps.rename(columns={"referral_team": "team", "referral_worker": "worker"})[
        ["child_id", "referral_date", "referral_source", "nfa", "team", "worker", "sex", "ethnicity", "date_of_birth"]
    ]
    started = eps.loc[eps["assessment_start"].notna() & (eps["assessment_start"] <= cut)].copy()
    started["authorised_date"] = started["assessment_authorised"].where(started["assessment_authorised"] <= cut)
    assessments = started.rename(
        columns={"assessment_start": "start_date", "assessment_team": "team", "assessment_worker": "worker"}
    )[["child_id", "start_date", "authorised_date", "referral_date", "child_seen", "team", "worker", "ethnicity"]]
    recordings = council.truth.recordings.loc[council.truth.recordings["event_date"] <= cut].copy()
    recordings["entered_at"] = recordings["entered_at"].where(recordings["entered_at"] <= cut + pd.Timedelta(days=1))
    return {
        "referrals": _records(referrals),
        "assessments": _records(assessments),
        "recordings": _records(recordings.drop(columns=["child_views_recorded"])),
    }


@pytest.fixture(scope="module")
def council_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[duckdb.DuckDBPyConnection, dict, Period]:
    params = Params(children=1200, years=2, seed=7)
    council = synthetic_build.simulate(params)
    truth = synthetic_truth.true_rates(
        council.truth.children, council.truth.episodes, council.truth.recordings, params.end
    )
    path = tmp_path_factory.mktemp("synthetic") / "store.duckdb"
    build_store(path, _canonical(council, params.end), as_of=params.end)
    period = Period(date.fromisoformat(truth["period"]["start"]), date.fromisoformat(truth["period"]["end"]))
    return open_read(path), truth, period


def test_headline_rates_recover_the_truth(council_store: tuple[duckdb.DuckDBPyConnection, dict, Period]) -> None:
    con, truth, period = council_store
    report = headline_report(con, period, as_of=date.fromisoformat(truth["as_of"]))
    re_ref = truth["re_referral_rate"]
    assert (report["referrals"], report["re_referrals"]) == (re_ref["denominator"], re_ref["numerator"])
    assert report["re_referral_rate"] == pytest.approx(re_ref["rate"], abs=0.01)  # truth is rounded to 2 dp
    assessed = truth["assessment_within_45wd"]
    assert (report["assessments_completed"], report["assessments_within_45_wd"]) == (
        assessed["denominator"],
        assessed["numerator"],
    )
    assert report["open_assessments_overdue"] == truth["open_assessments_overdue"]
    recorded = truth["recording_delay"]
    assert (report["recordings"], report["recorded_within_target"]) == (recorded["denominator"], recorded["numerator"])
    assert report["median_recording_delay_wd"] == pytest.approx(recorded["median_wd"])
    not_known = truth["ethnicity_not_known"]
    assert report["referrals"] - report["referrals_ethnicity_known"] == not_known["numerator"]
    assert report["ethnicity_completeness_rate"] == pytest.approx(100 - not_known["rate"], abs=0.01)


def test_breakdowns_recover_the_truth(council_store: tuple[duckdb.DuckDBPyConnection, dict, Period]) -> None:
    con, truth, period = council_store
    by_team = assessment_timeliness(con, period, by="team").set_index("team")
    for team, expected in truth["assessment_within_45wd"]["by_team"].items():
        assert by_team.loc[team, ["numerator", "denominator"]].tolist() == [
            expected["numerator"],
            expected["denominator"],
        ], team
    referral_clock = assessment_timeliness(con, period, clock="referral").iloc[0]
    assert referral_clock["numerator"] == truth["assessment_within_45wd"]["referral_clock"]["numerator"]
    by_child = ethnicity_completeness(con, period, level="child").iloc[0]
    expected = truth["ethnicity_not_known"]["by_child"]
    assert by_child["denominator"] - by_child["numerator"] == expected["numerator"]
    assert by_child["denominator"] == expected["denominator"]
