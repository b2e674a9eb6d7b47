"""The synthetic council's true rates land on their documented targets, by the official definitions."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from synthetic import readback
from synthetic.build import simulate
from synthetic.calendar import add_working_days, working_days_between
from synthetic.params import Params
from synthetic.truth import last_complete_months, re_referral_flags, true_rates

PARAMS = readback.small_params()


@pytest.fixture(scope="module")
def big() -> dict:
    """A larger council, simulated only (no files), so sampling noise is small."""
    council = simulate(Params(children=8000, years=3, seed=11))
    t = council.truth
    return true_rates(t.children, t.episodes, t.recordings, council.params.end)


def test_true_rates_near_targets(big: dict) -> None:
    assert big["re_referral_rate"]["rate"] == pytest.approx(22.0, abs=2.5)
    assert big["assessment_within_45wd"]["rate"] == pytest.approx(85.0, abs=3.0)
    assert big["ethnicity_not_known"]["rate"] == pytest.approx(5.0, abs=1.2)
    delay = big["recording_delay"]
    assert 2.0 <= delay["median_wd"] <= 3.0
    assert delay["p90_wd"] >= 3 * delay["median_wd"]  # a long tail
    assert 60 < delay["rate"] < 90 and delay["not_written_up"] > 0
    assert big["open_assessments_overdue"] > 0


def test_teams_differ(big: dict) -> None:
    timeliness = {k: v["rate"] for k, v in big["assessment_within_45wd"]["by_team"].items()}
    assert timeliness["Assessment Team 1"] - timeliness["Assessment Team 2"] > 8
    delays = {k: v["median_wd"] for k, v in big["recording_delay"]["by_team"].items()}
    assert delays["Assessment Team 2"] > delays["MASH"]


def test_truth_json_rates_within_tolerance(tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = readback.generated(PARAMS, readback.shared_root(tmp_path_factory.getbasetemp()))
    truth = json.loads((folder / "truth.json").read_text())
    rates = truth["rates"]
    assert rates["period"] == {"start": "2024-10-01", "end": "2025-09-30"}
    assert rates["re_referral_rate"]["rate"] == pytest.approx(22, abs=10)  # 300 children: wide sampling error
    assert rates["assessment_within_45wd"]["rate"] == pytest.approx(85, abs=10)
    assert rates["ethnicity_not_known"]["rate"] == pytest.approx(5, abs=5)
    assert 1 <= rates["recording_delay"]["median_wd"] <= 4
    assert truth["seed"] == PARAMS.seed and truth["parameters"]["children"] == PARAMS.children


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        ("2024-03-22", "2024-03-25", 1),  # Friday to Monday
        ("2024-03-28", "2024-04-02", 1),  # Good Friday and Easter Monday between
        ("2024-03-23", "2024-03-25", 1),  # Saturday to Monday
        ("2024-03-25", "2024-03-25", 0),  # same day
        ("2024-01-02", "2024-03-05", 45),  # in time
        ("2024-01-02", "2024-03-06", 46),  # late
        ("2023-11-20", "2024-01-25", 45),  # Christmas, Boxing Day, New Year between
        ("2024-05-03", "2024-05-07", 1),  # Monday 6 May a bank holiday
        ("2022-06-01", "2022-06-06", 1),  # Jubilee 2 and 3 June 2022
        ("2022-09-16", "2022-09-20", 1),  # state funeral 19 September 2022
        ("2023-05-05", "2023-05-09", 1),  # coronation 8 May 2023
    ],
)
def test_working_days_worked_examples(start: str, end: str, days: int) -> None:
    assert int(working_days_between(np.datetime64(start), np.datetime64(end))) == days
    if days:
        assert add_working_days(np.datetime64(start), days) <= np.datetime64(end)


def test_re_referral_definition() -> None:
    refs = pd.DataFrame(
        {
            "child_id": ["a", "a", "b", "b", "c", "c"],
            "referral_date": pd.to_datetime(
                [
                    "2023-03-15",
                    "2024-03-15",  # exactly 12 months: re-referral
                    "2023-03-14",
                    "2024-03-15",  # 12 months and a day: not
                    "2023-02-28",
                    "2024-02-29",
                ]
            ),  # leap day: 12 months before is 28 Feb
        }
    )
    assert re_referral_flags(refs).tolist() == [False, True, False, False, False, True]


def test_last_complete_months() -> None:
    assert last_complete_months(date(2025, 9, 30)).as_dict() == {"start": "2024-10-01", "end": "2025-09-30"}
    assert last_complete_months(date(2025, 9, 29)).as_dict() == {"start": "2024-09-01", "end": "2025-08-31"}


def test_clean_truth_has_no_faults() -> None:
    t = simulate(Params(children=2000, years=2, seed=5)).truth
    e = t.episodes
    assert not e.duplicated(["child_id", "referral_date"]).any()
    assert (e["assessment_start"].dropna() >= e.loc[e["assessment_start"].notna(), "referral_date"]).all()
    assert (e["assessment_authorised"].dropna() >= e.loc[e["assessment_authorised"].notna(), "assessment_start"]).all()
    ordered = e.sort_values(["child_id", "referral_date"])
    next_referral = ordered.groupby("child_id")["referral_date"].shift(-1)
    assert (ordered["closure_date"][next_referral.notna()] < next_referral.dropna()).all()
    assert e["closure_reason"].notna().all() and e["closure_date"].notna().all()
    born_after = (
        t.children.set_index("child_id")["date_of_birth"].reindex(e["child_id"]).to_numpy()
        - e["referral_date"].to_numpy()
    )
    assert (born_after <= np.timedelta64(280, "D")).all()
    r = t.recordings
    assert (r["entered_at"].dropna().dt.normalize() >= r.loc[r["entered_at"].notna(), "event_date"]).all()
    assert t.children["sex"].isin(["M", "F", "U"]).all()
    assert not t.contacts.duplicated(["child_id", "contact_date", "contact_source"]).any()
