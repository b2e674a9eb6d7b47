"""The checks find the known faults of real inputs: the shared CIN census samples and a synthetic council's injected faults.

Both go through the real loaders (`ingest.pipeline.load_files`), which run the checks before
publishing. The synthetic council is loaded one extract date at a time, as a council would
load its monthly extracts, so a fault that a later extract corrects is still seen by the
validation that followed its own load.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from expectations.checks import CHILD_TABLES, DATE_HEADINGS, REGISTRY, TABLES
from ingest import pipeline
from store.connection import open_read
from synthetic import build as synthetic_build
from synthetic.params import Params
from tests.shared_paths import SAMPLES

CIN_SAMPLES = SAMPLES / "cin_census"


def _results(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    con = open_read(path)
    try:
        return con.execute("SELECT * FROM dq_results").df(), con.execute("SELECT * FROM dq_failures").df()
    finally:
        con.close()


# --- The shared CIN census samples (their faults are deliberate) ----------------------------


@pytest.fixture(scope="module")
def cin_samples(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame]:
    files = sorted(CIN_SAMPLES.glob("*.xml"))
    if not files:
        pytest.skip("shared CIN census samples not present")
    root = tmp_path_factory.mktemp("cin_samples")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FRONTDOOR_DATA_DOCS", "off")
        mp.setenv("FRONTDOOR_TRUST_HEADER_DATES", "1")  # the DfE samples date their events decades before the header
        summaries = pipeline.load_files(files, store=root / "store.duckdb")
    assert all(s.status == "loaded" for s in summaries), [(s.file, s.error) for s in summaries]
    return _results(root / "store.duckdb")


def _failing(failures: pd.DataFrame, check_id: str) -> pd.DataFrame:
    return failures[failures["check_id"] == check_id]


def test_cin_sample_assessment_authorised_before_it_started_is_found(cin_samples) -> None:
    _, failures = cin_samples
    rows = _failing(failures, "assessments.8608_authorised_after_start")
    assert rows["value"].tolist() == ["authorised_date 2020-09-19; start_date 2028-04-28"]
    assert rows["source_file"].iloc[0] in {"CIN_Census_2024.xml", "CIN_Census_2026.xml"}
    assert rows["child_id"].iloc[0] == "DfEX0000001"


def test_cin_sample_assessments_before_their_referral_are_found(cin_samples) -> None:
    _, failures = cin_samples
    values = set(_failing(failures, "assessments.1103_start_after_referral")["value"])
    assert "start_date 1970-06-03; episode_referral_date 1970-10-06" in values


def test_cin_sample_dates_in_the_future_and_before_1990_are_found(cin_samples) -> None:
    _, failures = cin_samples
    future = _failing(failures, "referrals.referral_date_not_after_extract")["value"]
    assert any(v.startswith("referral_date 2030-03-31") for v in future)
    assert (
        "start_date 2028-04-28; as_of"
        in _failing(failures, "assessments.start_date_not_after_extract")["value"].iloc[0]
    )
    assert _failing(failures, "referrals.referral_date_not_before_1990")["value"].str.startswith("1970-").all()


def test_cin_sample_sex_1_in_the_2024_format_is_found(cin_samples) -> None:
    _, failures = cin_samples
    rows = _failing(failures, "referrals.sex_valid")
    assert rows["value"].tolist() == ["1"]


def test_cin_samples_pass_the_checks_they_do_not_break(cin_samples) -> None:
    results, _ = cin_samples
    passed = set(results.loc[results["success"], "check_id"])
    assert {"cin_episodes.8805_closure_reason", "cin_episodes.8810_closure_date", "referrals.key_unique"} <= passed


# --- A synthetic council: every kind of injected fault is found ------------------------------


def _each(template: str, tables: tuple[str, ...] = TABLES) -> list[str]:
    return [template.format(t=t) for t in tables]


def _dates(suffix: str) -> list[str]:
    ids = [f"{t}.{c}_{suffix}" for t in TABLES for c in DATE_HEADINGS[t]]
    ids += [f"{t}.date_of_birth_{suffix}" for t in CHILD_TABLES]
    return ids + ([f"recordings.entered_at_{suffix}"] if suffix == "not_before_1990" else [])


# Which checks find each kind of fault listed in the council's truth.json.
FAULT_CHECKS: dict[str, list[str]] = {
    "assessment_authorised_before_start": ["assessments.8608_authorised_after_start"],
    "assessment_before_referral": ["assessments.1103_start_after_referral"],
    "overlapping_episodes": ["cin_episodes.8820_no_overlap"],
    "closure_date_without_reason": ["cin_episodes.8805_closure_reason"],
    "closure_reason_without_date": ["cin_episodes.8810_closure_date"],
    "referral_over_40_weeks_before_birth": ["referrals.8606_not_before_birth"],
    "sex_missing": _each("{t}.sex_present", CHILD_TABLES),
    "sex_invalid": _each("{t}.sex_valid", CHILD_TABLES),
    "ethnicity_invalid": _each("{t}.ethnicity_valid", CHILD_TABLES),
    "ethnicity_missing": _each("{t}.ethnicity_present", CHILD_TABLES),
    "recording_entered_before_event": ["recordings.entered_after_event"],
    "open_assessment_overdue": ["assessments.8670Q_open_over_45_days"],
    "missing_child_id": _each("{t}.rows_rejected"),
    "unparseable_key_date": _each("{t}.rows_rejected"),
    "duplicate_rows": _each("{t}.duplicates_in_extract"),
    "same_day_duplicate_referral": ["referrals.duplicates_in_extract"],
    "unmappable_code": [
        "contacts.contact_source_valid",
        "referrals.referral_source_valid",
        "cin_episodes.referral_source_valid",
        "cin_episodes.primary_need_valid",
        "recordings.record_type_valid",
    ],
    "date_after_extract": _dates("not_after_extract"),
    "date_before_1990": _dates("not_before_1990"),
    "ethnicity_differs_between_records": ["cross_table.ethnicity_consistent"],
    "referral_count_disagrees": ["referrals.referrals_last_12m_agrees"],
}
# Faults in the records themselves stay in every later extract: the final store still shows them all.
LASTING = {
    "assessment_authorised_before_start",
    "assessment_before_referral",
    "closure_date_without_reason",
    "closure_reason_without_date",
    "referral_over_40_weeks_before_birth",
    "recording_entered_before_event",
    "open_assessment_overdue",
}


def _load_council_monthly(root: Path) -> tuple[dict, pd.DataFrame]:
    """Generate a small council and load its extracts one extract date at a time (each load validated)."""
    truth = synthetic_build.extracts(Params(children=100, years=1, seed=11), root / "extracts")
    by_date: dict[str, list[Path]] = defaultdict(list)
    for entry in truth["files"]:
        by_date[entry["as_of"]] += [root / "extracts" / name for name in entry["files"]]
    for as_of in sorted(by_date):
        summaries = pipeline.load_files(sorted(by_date[as_of]), store=root / "store.duckdb")
        assert all(s.status == "loaded" for s in summaries), [(s.file, s.error) for s in summaries]
    results, _ = _results(root / "store.duckdb")
    return truth, results


@pytest.mark.slow  # loads a whole synthetic council one extract date at a time
def test_synthetic_council_every_injected_kind_of_fault_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One test, so the council is generated and loaded once whatever the test distribution."""
    monkeypatch.setenv("FRONTDOOR_DATA_DOCS", "off")
    truth, results = _load_council_monthly(tmp_path)

    kinds = {f["kind"] for f in truth["faults"]}
    assert kinds <= set(FAULT_CHECKS), f"map these kinds to checks: {kinds - set(FAULT_CHECKS)}"
    assert set().union(*map(set, FAULT_CHECKS.values())) <= set(REGISTRY)

    per_load = results.pivot_table(index="load_id", columns="check_id", values="unexpected_count", aggfunc="sum")
    assert len(per_load) >= 10  # one validation per extract date
    injected = [f for f in truth["faults"] if max(f["count"], f["found_in_files"]) > 0]
    assert len(injected) >= 18, "the council is too small to inject most kinds of fault"
    missed = [f["kind"] for f in injected if not per_load[FAULT_CHECKS[f["kind"]]].sum(axis=1).max()]
    assert not missed, f"injected but not found by any validation: {missed}"

    final = per_load.loc[per_load.index.max()]
    for fault in truth["faults"]:
        if fault["kind"] in LASTING and fault["count"]:
            assert final[FAULT_CHECKS[fault["kind"]]].sum() >= fault["count"], fault["kind"]
