"""Every injected fault is in the written files at the count truth.json records (read back independently)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from store.codes import ETHNICITY_ALL, ETHNICITY_KNOWN, PRIMARY_NEED, REFERRAL_SOURCES, SEX_CODES
from synthetic import readback
from synthetic.build import simulate
from synthetic.calendar import working_days_between
from synthetic.snapshot import referrals_in_last_12_months

PARAMS = readback.small_params()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return readback.generated(PARAMS, readback.shared_root(tmp_path_factory.getbasetemp()))


@pytest.fixture(scope="module")
def truth(folder: Path) -> dict:
    return json.loads((folder / "truth.json").read_text())


@pytest.fixture(scope="module")
def faults(truth: dict) -> dict[str, dict]:
    return {f["kind"]: f for f in truth["faults"]}


@pytest.fixture(scope="module")
def annex(folder: Path) -> dict[int, pd.DataFrame]:
    return readback.read_annex_a(folder)


@pytest.fixture(scope="module")
def census(folder: Path) -> dict[str, pd.DataFrame]:
    return readback.read_census(folder)


@pytest.fixture(scope="module")
def recs(folder: Path) -> pd.DataFrame:
    return readback.read_recordings(folder)


def _file_key(name: str) -> str:
    """The name truth.json uses for a file (per-list CSVs share one)."""
    return re.sub(r"_list_\d+\.csv$", "_list_*.csv", name)


def _per_file(frame: pd.DataFrame) -> dict[str, int]:
    counts = frame["file"].map(_file_key).value_counts()
    return {k: int(v) for k, v in counts.items() if v}


def _with_id(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.loc[frame["child_id"].notna()]


def _distinct(frame: pd.DataFrame, columns: list[str]) -> int:
    return len(frame[columns].drop_duplicates())


def test_every_fault_kind_is_injected(faults: dict[str, dict]) -> None:
    expected = {
        "assessment_authorised_before_start",
        "assessment_before_referral",
        "overlapping_episodes",
        "closure_date_without_reason",
        "closure_reason_without_date",
        "referral_over_40_weeks_before_birth",
        "sex_missing",
        "sex_invalid",
        "ethnicity_invalid",
        "ethnicity_missing",
        "recording_entered_before_event",
        "open_assessment_overdue",
        "missing_child_id",
        "duplicate_rows",
        "date_after_extract",
        "unparseable_key_date",
        "same_day_duplicate_referral",
        "unmappable_code",
        "referral_count_disagrees",
        "date_before_1990",
        "ethnicity_differs_between_records",
    }
    assert set(faults) == expected
    for kind, fault in faults.items():
        assert fault["count"] > 0, kind
        assert fault["files"], kind
        if fault["layer"] == "record":
            assert fault["found_in_files"] == fault["count"], f"{kind}: an injected record is in no file"


def test_assessments_authorised_before_start_8608(annex, census, faults) -> None:
    both = pd.concat([_with_id(annex[4]), _with_id(census["assessments"])], ignore_index=True)
    bad = both.loc[both["assessment_authorised"] < both["assessment_start"]]
    assert _distinct(bad, ["child_id", "assessment_start"]) == faults["assessment_authorised_before_start"]["count"]


def test_assessment_before_referral_1103(census, faults) -> None:
    a = _with_id(census["assessments"])
    bad = a.loc[a["assessment_start"] < a["referral_date"]]
    assert _distinct(bad, ["child_id", "assessment_start"]) == faults["assessment_before_referral"]["count"]


def test_overlapping_episodes_8820(census, faults) -> None:
    d = _with_id(census["details"]).dropna(subset=["referral_date"])
    d = d.drop_duplicates(["file", "child_id", "referral_date"]).sort_values(["file", "child_id", "referral_date"])
    previous_stop = d.groupby(["file", "child_id"])["closure_date"].shift().fillna(pd.Timestamp("2200-01-01"))
    has_previous = d.groupby(["file", "child_id"]).cumcount() > 0
    overlapping = d.loc[has_previous & (previous_stop > d["referral_date"]), "child_id"].nunique()
    assert overlapping == faults["overlapping_episodes"]["count"]


def test_closure_date_and_reason_8805_8810(annex, census, faults) -> None:
    episodes = pd.concat([_with_id(annex[6]), _with_id(census["details"])], ignore_index=True)
    no_reason = episodes.loc[episodes["closure_date"].notna() & episodes["closure_reason"].isna()]
    no_date = episodes.loc[episodes["closure_date"].isna() & episodes["closure_reason"].notna()]
    assert _distinct(no_reason, ["child_id", "referral_date"]) == faults["closure_date_without_reason"]["count"]
    assert _distinct(no_date, ["child_id", "referral_date"]) == faults["closure_reason_without_date"]["count"]


def test_referral_more_than_40_weeks_before_birth_8606(annex, census, faults) -> None:
    kids = census["children"][["file", "position", "date_of_birth"]]
    cin = census["details"].merge(kids, on=["file", "position"])
    refs = pd.concat([_with_id(annex[3]), _with_id(cin)], ignore_index=True)
    bad = refs.loc[(refs["date_of_birth"] - refs["referral_date"]) > pd.Timedelta(weeks=40)]
    assert _distinct(bad, ["child_id", "referral_date"]) == faults["referral_over_40_weeks_before_birth"]["count"]


def _child_values(annex, census, column: str) -> pd.DataFrame:
    parts = [_with_id(annex[n])[["child_id", column]] for n in (1, 3, 4, 6)]
    parts.append(_with_id(census["children"])[["child_id", column]])
    return pd.concat(parts, ignore_index=True)


def test_sex_missing_or_invalid_4180(annex, census, faults) -> None:
    sex = _child_values(annex, census, "sex")
    assert sex.loc[sex["sex"].isna(), "child_id"].nunique() == faults["sex_missing"]["count"]
    invalid = sex["sex"].notna() & ~sex["sex"].isin(SEX_CODES)
    assert sex.loc[invalid, "child_id"].nunique() == faults["sex_invalid"]["count"]


def test_ethnicity_missing_invalid_and_differing_4220(annex, census, faults) -> None:
    eth = _child_values(annex, census, "ethnicity")
    eth["ethnicity"] = eth["ethnicity"].str.strip()
    assert eth.loc[eth["ethnicity"].isna(), "child_id"].nunique() == faults["ethnicity_missing"]["count"]
    invalid = eth["ethnicity"].notna() & ~eth["ethnicity"].isin(ETHNICITY_ALL)
    assert eth.loc[invalid, "child_id"].nunique() == faults["ethnicity_invalid"]["count"]
    known = eth.loc[eth["ethnicity"].isin(ETHNICITY_KNOWN)].drop_duplicates()
    differing = (known.groupby("child_id")["ethnicity"].nunique() > 1).sum()
    assert differing == faults["ethnicity_differs_between_records"]["count"]


def test_recordings_entered_before_event(recs, faults) -> None:
    bad = recs.loc[recs["entered_at"].notna() & (recs["entered_at"] < recs["event_date"])]
    assert bad["record_id"].nunique() == faults["recording_entered_before_event"]["count"]


def test_dates_after_the_extract_or_before_1990(annex, recs, faults) -> None:
    l1 = _with_id(annex[1])
    assert _per_file(l1.loc[l1["contact_date"] > l1["as_of"]]) == faults["date_after_extract"]["files"]
    old = pd.concat(
        [
            l1.loc[l1["date_of_birth"] < pd.Timestamp("1990-01-01")],
            recs.loc[recs["event_date"] < pd.Timestamp("1990-01-01")],
        ]
    )
    assert _per_file(old) == faults["date_before_1990"]["files"]


def _raw(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.endswith("_raw")]


def test_duplicate_rows_and_same_day_referrals(annex, census, recs, faults) -> None:
    exact = []
    for frame in (annex[1], annex[3], annex[4], annex[6]):
        f = _with_id(frame).astype({c: str for c in _raw(frame)})
        exact.append(f.loc[f.duplicated(["file", "sheet", *_raw(frame)])])
    exact.append(_with_id(recs).loc[_with_id(recs).duplicated(["file", "record_id", "event_date_raw", "entered_at"])])
    assert _per_file(pd.concat(exact)) == faults["duplicate_rows"]["files"]

    l3 = _with_id(annex[3]).astype({c: str for c in _raw(annex[3])}).drop_duplicates(["file", *_raw(annex[3])])
    cin = _with_id(census["details"])
    same_day = pd.concat(
        [
            l3.loc[l3.duplicated(["file", "child_id", "referral_date"])],
            cin.loc[cin.duplicated(["file", "child_id", "referral_date"])],
        ]
    )
    assert _per_file(same_day) == faults["same_day_duplicate_referral"]["files"]


def test_rows_without_child_id_and_unparseable_key_dates(annex, census, recs, faults) -> None:
    missing = pd.concat(
        [annex[n].loc[annex[n]["child_id"].isna()] for n in (1, 3, 4, 6)]
        + [census["details"].loc[census["details"]["child_id"].isna()], recs.loc[recs["child_id"].isna()]]
    )
    assert _per_file(missing) == faults["missing_child_id"]["files"]
    key_dates = {1: "contact_date", 3: "referral_date", 4: "assessment_start", 6: "referral_date"}
    unparsed = [
        annex[n].loc[annex[n][f"{c}_raw"].map(lambda v: v not in (None, "", "#N/A")) & annex[n][c].isna()]
        for n, c in key_dates.items()
    ]
    unparsed.append(
        census["details"].loc[
            census["details"]["referral_date_raw"].notna() & census["details"]["referral_date"].isna()
        ]
    )
    unparsed.append(recs.loc[(recs["event_date_raw"] != "") & recs["event_date"].isna()])
    assert _per_file(pd.concat(unparsed)) == faults["unparseable_key_date"]["files"]


def test_unmappable_codes(annex, census, faults) -> None:
    l1, l6, cin = _with_id(annex[1]), _with_id(annex[6]), _with_id(census["details"])
    bad = pd.concat(
        [
            l1.loc[~l1["contact_source"].isin(REFERRAL_SOURCES)],
            l6.loc[l6["primary_need"].notna() & ~l6["primary_need"].isin(PRIMARY_NEED)],
            cin.loc[~cin["referral_source"].isin(REFERRAL_SOURCES)],
        ]
    )
    assert _per_file(bad) == faults["unmappable_code"]["files"]


def test_referral_counts_disagree_only_where_injected(annex, faults) -> None:
    truth = simulate(PARAMS).truth.episodes
    l3 = _with_id(annex[3])
    wrong = []
    for (file, as_of), rows in l3.groupby(["file", "as_of"]):
        expected = referrals_in_last_12_months(truth, as_of)
        reported = rows.drop_duplicates("child_id").set_index("child_id")["referrals_last_12m"]
        differs = reported.index[reported.to_numpy() != expected.reindex(reported.index).fillna(0).to_numpy()]
        wrong.extend({"file": file, "child_id": c} for c in differs)
    assert _per_file(pd.DataFrame(wrong)) == faults["referral_count_disagrees"]["files"]


def test_open_assessments_overdue_at_the_latest_extract_8670q(annex, faults) -> None:
    l4 = _with_id(annex[4])
    latest = l4.loc[l4["as_of"] == l4["as_of"].max()]
    open_ = latest.loc[latest["assessment_authorised"].isna() & latest["assessment_start"].notna()]
    days = working_days_between(
        open_["assessment_start"].to_numpy().astype("datetime64[D]"), np.datetime64(latest["as_of"].iloc[0].date())
    )
    assert int((days > 45).sum()) == faults["open_assessment_overdue"]["count"]
