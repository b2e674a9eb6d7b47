"""The eight sample CIN files give, per DfE rule, the LAchildIDs DfE's validator gives for the file's year.

Expected lists: tests/data/dfe_cin_expected.json, made by running the DfE CIN validator
(csc-validator-be-cin 0.1.13 from PyPI, its CinValidator, the rule set of the header Year, which is
cin2022_23 for every sample) with tests/data/dfe_cin_expected.py. Where that validator departs from
DfE's wording, the wording is followed and the case is listed in WORDING_OVER_VALIDATOR with why.
Rule 100 (header-level) does not appear in the validator's child-level report (full_issue_df), so
RULE_100 was obtained by running the validator's rule_100.validate directly on each file's Header
table (test_engine.run_rule); it agrees with the wording (ReferenceDate must equal 31 March of the
header Year). For CIN_header_issues_100.xml the validator's own sample output in
samples/cin_census/expected/ also reports 100, 1103 and 8525 (the later 8525Q) for that file.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pandas as pd
import pytest

from expectations.dfe_cin.registry import RULES
from tests.dfe_cin_kit import failing_ids, run_file, run_rules_alone
from tests.shared_paths import SAMPLES

CIN_SAMPLES = SAMPLES / "cin_census"
EXPECTED = json.loads((Path(__file__).parent / "data" / "dfe_cin_expected.json").read_text(encoding="utf-8"))
SAMPLE_FILES = sorted(name for name in EXPECTED if name.endswith(".xml"))

# The validator's rule_100 run on each Header (see above); the wording: "<ReferenceDate> must be present and must
# equal 31 March of the collection year".
RULE_100 = {
    "BAR_cin_2022.xml": False,
    "CIN_Census_2021.xml": False,
    "CIN2rows.xml": True,
    "CIN_Census_2021_no_assessment_factors.xml": True,
    "CIN_Census_2024.xml": True,
    "CIN_Census_2026.xml": True,
    "CIN_header_issues_100.xml": True,
    "fake_CIN_data.xml": True,
}

# (file, rule) -> (LAchildIDs by the wording, why the validator differs)
WORDING_OVER_VALIDATOR = {
    ("CIN2rows.xml", "8565"): (
        ["DfEX0000001"],
        "CPPendDate 2023-03-14 is after CINclosureDate 2023-02-27 in the same"
        " CINdetails; the wording lists CPPendDate, the validator drops its own CPP finding",
    ),
    ("CIN_Census_2021_no_assessment_factors.xml", "8565"): (
        ["DfEX0000001"],
        "as CIN2rows.xml: CPPendDate after closure",
    ),
    ("CIN_Census_2021.xml", "8525Q"): (
        ["DfEX0000001"],
        "both PersonBirthDate and ExpectedPersonBirthDate (1066-04-13)"
        " are provided; pandas cannot hold a date before 1677 and reads it as missing",
    ),
    ("CIN_header_issues_100.xml", "8525Q"): (
        ["DfEX0000001"],
        "as CIN_Census_2021.xml; the validator's sample output for this file reports it (8525)",
    ),
}


def _expected(name: str) -> dict[str, list[str]]:
    expected = dict(EXPECTED[name]["failing"])
    for (file, code), (ids, _why) in WORDING_OVER_VALIDATOR.items():
        if file == name:
            expected[code] = ids
    if RULE_100[name]:
        expected["100"] = ["Header"]
    return expected


@functools.cache
def _findings(name: str) -> pd.DataFrame:
    """The whole rule set's findings for a sample file, run once per test process (tests only read them)."""
    return run_file(CIN_SAMPLES / name)


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_sample_gives_the_validators_failing_children_per_rule(name: str) -> None:
    assert failing_ids(_findings(name)) == _expected(name)


def test_a_rule_run_alone_finds_what_it_finds_in_the_whole_set() -> None:
    """tests/test_dfe_cin_rules runs each case's rule alone (`run_file(..., rule=code)`): the same findings, in
    the same order, as that rule's part of the whole set's, here for each of the eight rules the fake file fails."""
    whole = _findings("fake_CIN_data.xml")
    codes = sorted(set(whole.rule_code))
    assert len(codes) == 8
    for code, alone in run_rules_alone(CIN_SAMPLES / "fake_CIN_data.xml", codes).items():  # staged once
        assert set(alone.rule_code) == {code}
        assert _rows(alone) == _rows(whole[whole.rule_code == code])


def _rows(findings: pd.DataFrame) -> list[tuple[object, ...]]:
    """The findings' rows in order, a missing value as None (pandas types an all-missing column differently)."""
    return [tuple(None if pd.isna(v) else v for v in row) for row in findings.itertuples(index=False)]


def test_every_sample_is_covered_and_every_rule_code_is_compared() -> None:
    assert len(SAMPLE_FILES) == 8 and {p.name for p in CIN_SAMPLES.glob("*.xml")} == set(SAMPLE_FILES)
    assert {r.code for r in RULES} >= {c for f in SAMPLE_FILES for c in EXPECTED[f]["failing"]}


def test_8831_fires_on_301_of_332_children_of_the_fake_file() -> None:
    """The issue's figure: under the DfE validator 8831 fires on 301 of the 332 children of fake_CIN_data.xml."""
    ids = failing_ids(_findings("fake_CIN_data.xml"))
    assert len(ids["8831"]) == 301
