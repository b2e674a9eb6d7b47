"""Each DfE CIN rule on tiny hand-written files: one case per clause of DfE's wording (quoted), failing and passing.

Each case names the element paths expected to fail; [] means the file passes the rule. Each case runs its rule
alone, as the cross-check below selected it (tests/test_dfe_cin_samples: a rule alone finds what it finds in the
whole set; the last test here runs the whole set).
Files are for the 2022-23 census (Year 2023, ReferenceDate 2023-03-31, period 2022-04-01 to 2023-03-31)
unless the case says otherwise.

Cross-check: every file in CASES was also run through DfE's validator (csc-validator-be-cin 0.1.13,
rule set cin2022_23, that rule selected). It agrees on whether the rule fires in every case but
three, where the wording is followed: 8568 'TRUE' (the validator lower-cases ReferralNFA; the
schema's xs:boolean and our reading are case-sensitive), 8565 'CPPendDate after closure' (the
wording lists CPPendDate; the validator drops its CPP finding), and rule 100, which the
validator's report leaves out (its rule_100 run alone on the Header agrees).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from expectations.dfe_cin.registry import RULES, rule, rules_for
from expectations.dfe_cin.submitted import working_day_before
from tests.dfe_cin_kit import assessment as a
from tests.dfe_cin_kit import census, child, cin, run_file, write

C1, C2 = "Child[1]/CINdetails[1]", "Child[1]/CINdetails[2]"

CASES: list[tuple[str, str, str, list[str]]] = [
    # --- 8820 "for each module the <CINreferralDate> must not fall; a) between the <CINreferralDate> and the
    # <CINclosureDate> if present; and b) between the <CINreferralDate> and the <ReferenceDate> if the
    # <CINclosureDate> is not present and <ReferralNFA> = false or 0"
    (
        "8820",
        "a) second referral before the first episode's closure",
        census(child(cin("2022-05-01", "2022-08-01", "RC1"), cin("2022-07-01"))),
        [C2],
    ),
    (
        "8820",
        "a) second referral on the first episode's closure day: not between",
        census(child(cin("2022-05-01", "2022-08-01", "RC1"), cin("2022-08-01"))),
        [],
    ),
    (
        "8820",
        "b) open, not NFA: a later referral falls before the ReferenceDate",
        census(child(cin("2022-05-01"), cin("2022-09-01", "2022-10-01", "RC1"))),
        [C2],
    ),
    (
        "8820",
        "b) exempt: open episode with ReferralNFA = true (an NFA referral followed by a new referral)",
        census(child(cin("2022-05-01", nfa="true"), cin("2022-09-01"))),
        [],
    ),
    (
        "8820",
        "same-day referrals, one still open and not NFA: an error, not a warning",
        census(child(cin("2022-05-01", "2022-06-01", "RC1"), cin("2022-05-01"))),
        [C1, C2],
    ),
    # --- 8815 "there must only be one where: <CINclosureDate> is missing; and <ReferralNFA> = false or 0"
    ("8815", "two open non-NFA episodes", census(child(cin("2022-05-01"), cin("2022-09-01", nfa="0"))), [C1, C2]),
    (
        "8815",
        "note b) more than one open module where <ReferralNFA> = true/1 is allowed",
        census(child(cin("2022-05-01", nfa="1"), cin("2022-09-01", nfa="true"), cin("2022-10-01"))),
        [],
    ),
    (
        "8815",
        "note a) <CINclosureDate> can be present on all modules",
        census(child(cin("2022-05-01", "2022-06-01", "RC1"), cin("2022-09-01", "2022-10-01", "RC1"))),
        [],
    ),
    # --- 8816 "then the <CINreferralDate> for this module must be the latest of all Referral Dates for that child"
    (
        "8816",
        "open non-NFA episode that is not the latest",
        census(child(cin("2022-09-01"), cin("2022-05-01", "2022-06-01", "RC1"))),
        [],
    ),
    (
        "8816",
        "open non-NFA episode with a later referral",
        census(child(cin("2022-05-01"), cin("2022-09-01", "2022-10-01", "RC1"))),
        [C1],
    ),
    (
        "8816",
        "open NFA episode with a later referral is not concerned",
        census(child(cin("2022-05-01", nfa="true"), cin("2022-09-01", "2022-10-01", "RC1"))),
        [],
    ),
    # --- 8568 "<ReferralNFA> must be present and must be 1 or 0, true or false"
    ("8568", "missing", census(child(cin(nfa=None))), [C1]),
    ("8568", "not a boolean (case-sensitive, as the schema's xs:boolean)", census(child(cin(nfa="TRUE"))), [C1]),
    (
        "8568",
        "each of 1, 0, true, false passes",
        census(
            child(cin(nfa="1")),
            child(cin(nfa="0"), la_child_id="C2"),
            child(cin(nfa="true"), la_child_id="C3"),
            child(cin(nfa="false"), la_child_id="C4"),
        ),
        [],
    ),
    # --- 8831 "If a <CINdetails> module has <ReferralNFA> = true or 1, then it cannot have any of the following:
    # <AssessmentActualStartDate> <AssessmentAuthorisationDate> <S47ActualStartDate> <DateOfInitialCPC>"
    ("8831", "NFA with an assessment start", census(child(cin(nfa="true", inner=a("2022-06-02")))), [C1]),
    (
        "8831",
        "NFA with an assessment authorisation only",
        census(child(cin(nfa="1", inner=a(None, "2022-06-03")))),
        [C1],
    ),
    (
        "8831",
        "NFA with a Section 47 start",
        census(
            child(cin(nfa="true", inner=("<Section47><S47ActualStartDate>2022-06-02</S47ActualStartDate></Section47>")))
        ),
        [C1],
    ),
    ("8831", "NFA with a DateOfInitialCPC", census(child(cin(nfa="1", initial_cpc="2022-06-10"))), [C1]),
    ("8831", "not NFA: activity allowed", census(child(cin(nfa="false", inner=a("2022-06-02")))), []),
    # --- 4000 "CIN Plan details provided for a referral with no further action"
    (
        "4000",
        "NFA with a CINPlanDates module",
        census(
            child(
                cin(nfa="true", inner=("<CINPlanDates><CINPlanStartDate>2022-06-05</CINPlanStartDate></CINPlanDates>"))
            )
        ),
        [C1],
    ),
    (
        "4000",
        "not NFA with a CINPlanDates module",
        census(
            child(cin(nfa="0", inner=("<CINPlanDates><CINPlanStartDate>2022-06-05</CINPlanStartDate></CINPlanDates>")))
        ),
        [],
    ),
    # --- 8832 "If a <CINdetails> module has <ReferralNFA> = true or 1, then there should be no Child Protection module"
    (
        "8832",
        "NFA with a ChildProtectionPlans module",
        census(
            child(
                cin(
                    nfa="1",
                    inner=("<ChildProtectionPlans><CPPstartDate>2022-06-05</CPPstartDate></ChildProtectionPlans>"),
                )
            )
        ),
        [C1],
    ),
    (
        "8832",
        "not NFA with a ChildProtectionPlans module",
        census(
            child(
                cin(
                    nfa="false",
                    inner=("<ChildProtectionPlans><CPPstartDate>2022-06-05</CPPstartDate></ChildProtectionPlans>"),
                )
            )
        ),
        [],
    ),
    # --- 8510 "Each <LAchildID> must be unique across all children within the same LA return"
    (
        "8510",
        "two children with one LAchildID",
        census(child(cin()), child(cin(), la_child_id="C1")),
        ["Child[1]", "Child[2]"],
    ),
    (
        "8510",
        "LAchildIDs differing in case are different ids",
        census(child(cin(), la_child_id="ab1"), child(cin(), la_child_id="AB1")),
        [],
    ),
    # --- 8805 "If <CINclosureDate> is present then <ReasonForClosure> must also be present"
    ("8805", "closure without reason", census(child(cin(closure="2022-09-01"))), [C1]),
    (
        "8805",
        "same-day second episode without reason is not collapsed away",
        census(child(cin("2022-05-01", "2022-09-01", "RC1"), cin("2022-05-01", "2022-09-01"))),
        [C2],
    ),
    # --- 1103 "Where present, the <AssessmentActualStartDate> should be on or after the <CINReferralDate>"
    (
        "1103",
        "two assessments on one start date before the referral: both reported",
        census(child(cin("2022-06-01", inner=a("2022-05-01", "2022-05-20") + a("2022-05-01", "2022-05-20")))),
        [C1 + "/Assessments[1]", C1 + "/Assessments[2]"],
    ),
    ("1103", "start on the referral date", census(child(cin("2022-06-01", inner=a("2022-06-01", "2022-06-20")))), []),
    # --- 8606 "<CINreferralDate> cannot be more than 280 days before <PersonBirthDate> or <ExpectedPersonBirthDate>"
    (
        "8606",
        "expected birth date checked even when a birth date is present",
        census(child(cin("2022-05-01"), birth="2022-06-01", expected="2023-03-01")),
        [C1],
    ),
    ("8606", "exactly 280 days before the birth date", census(child(cin("2022-05-01"), birth="2023-02-05")), []),
    ("8606", "281 days before the birth date", census(child(cin("2022-05-01"), birth="2023-02-06")), [C1]),
    # --- 8825Q "If <ReasonforClosure> = RC8 or RC9 then at least one <Assessments> module must be present"
    ("8825Q", "RC8 without an assessment", census(child(cin(closure="2022-09-01", reason="RC8"))), [C1]),
    (
        "8825Q",
        "RC9 with an assessment",
        census(child(cin(closure="2022-09-01", reason="RC9", inner=a("2022-06-02", "2022-06-20")))),
        [],
    ),
    # --- 2990 "RC8 or RC9, then it cannot have ... <Section47> ... <ChildProtectionPlan> ... <DateofInitialCPC>
    # ... <CINPlanDates>"
    (
        "2990",
        "RC8 with a DateOfInitialCPC",
        census(
            child(
                cin(closure="2022-09-01", reason="RC8", initial_cpc="2022-06-10", inner=a("2022-06-02", "2022-06-20"))
            )
        ),
        [C1],
    ),
    (
        "2990",
        "RC9 with a Section47 module",
        census(
            child(
                cin(
                    closure="2022-09-01",
                    reason="RC9",
                    inner=(
                        a("2022-06-02", "2022-06-20")
                        + "<Section47><S47ActualStartDate>2022-06-02</S47ActualStartDate></Section47>"
                    ),
                )
            )
        ),
        [C1],
    ),
    (
        "2990",
        "RC1 with a CINPlanDates module",
        census(
            child(
                cin(
                    closure="2022-09-01",
                    reason="RC1",
                    inner=("<CINPlanDates><CINPlanStartDate>2022-06-05</CINPlanStartDate></CINPlanDates>"),
                )
            )
        ),
        [],
    ),
    # --- 8620 "If <CINclosureDate> is present, it must be within [Period_of_Census]"
    ("8620", "closed before the census year", census(child(cin("2021-05-01", "2022-03-31", "RC1"))), [C1]),
    ("8620", "closed on the census year's first day", census(child(cin("2021-05-01", "2022-04-01", "RC1"))), []),
    # --- 8565 "If <CINclosureDate> is present then it must be on or after all of the following dates ..."
    (
        "8565",
        "assessment authorised after closure",
        census(child(cin(closure="2022-09-01", reason="RC1", inner=a("2022-06-02", "2022-09-02")))),
        [C1],
    ),
    (
        "8565",
        "CPPendDate after closure",
        census(
            child(
                cin(
                    closure="2022-09-01",
                    reason="RC1",
                    inner=(
                        "<ChildProtectionPlans><CPPstartDate>2022-06-05</CPPstartDate><CPPendDate>2022-09-05</CPPendDate>"
                        "</ChildProtectionPlans>"
                    ),
                )
            )
        ),
        [C1],
    ),
    (
        "8565",
        "everything on the closure day",
        census(child(cin(closure="2022-09-01", reason="RC1", inner=a("2022-06-02", "2022-09-01")))),
        [],
    ),
    # --- 8555Q "<CINreferralDate> must be on or before the <PersonDeathDate>"
    ("8555Q", "referred after death", census(child(cin("2022-06-01"), death="2022-05-01")), [C1]),
    ("8555Q", "referred on the day of death", census(child(cin("2022-06-01"), death="2022-06-01")), []),
    # --- 8585Q "<ReasonForClosure> = RC2 (Died) then a valid <PersonDeathDate> must be present."
    ("8585Q", "RC2 without a death date", census(child(cin(closure="2022-09-01", reason="RC2"))), [C1]),
    ("8585Q", "RC2 with a death date", census(child(cin(closure="2022-09-01", reason="RC2"), death="2022-08-30")), []),
    # --- 8545Q "If present, <PersonDeathDate> must be within [Period_of_Census]"
    ("8545Q", "death before the census year", census(child(cin(), death="2022-03-31")), ["Child[1]"]),
    ("8545Q", "death on the ReferenceDate", census(child(cin(), death="2023-03-31")), []),
    # --- 8525Q "Either Date of Birth or Expected Date of Birth must be provided (but not both)"
    ("8525Q", "neither", census(child(cin(), birth=None)), ["Child[1]"]),
    ("8525Q", "both", census(child(cin(), birth="2015-01-01", expected="2015-01-02")), ["Child[1]"]),
    ("8525Q", "expected only", census(child(cin(), birth=None, expected="2023-05-01")), []),
    # --- 8736 "if an <Assessments> group does not contain the <AssessmentAuthorisationDate> then the
    # <AssessmentActualStartDate> must be on or between [Start_Of_Census_Year] and <ReferenceDate>"
    (
        "8736",
        "open assessment started before the census year",
        census(child(cin("2022-03-01", inner=a("2022-03-31")))),
        [C1 + "/Assessments[1]"],
    ),
    (
        "8736",
        "open assessment started on the census year's first day",
        census(child(cin("2022-03-01", inner=a("2022-04-01")))),
        [],
    ),
    # --- 8696 "If present <AssessmentAuthorisationDate> must be on or between [Start_Of_Census_Year] and <ReferenceDate>"
    (
        "8696",
        "authorised after the ReferenceDate",
        census(child(cin(inner=a("2022-06-02", "2023-04-01")))),
        [C1 + "/Assessments[1]"],
    ),
    ("8696", "authorised on the ReferenceDate", census(child(cin(inner=a("2022-06-02", "2023-03-31")))), []),
    # --- 8867 "If <CINclosureDate> is present then all instances of the <Assessments> group must include the
    # <AssesssmentAuthorisationDate>"
    (
        "8867",
        "closed episode with an open assessment",
        census(child(cin(closure="2022-09-01", reason="RC1", inner=a("2022-06-02")))),
        [C1 + "/Assessments[1]"],
    ),
    ("8867", "open episode with an open assessment", census(child(cin(inner=a("2023-03-01")))), []),
    # --- 8863Q "each <AssessmentActualStartDate> must not fall on or between: a) the start and authorisation of
    # any other <Assessments> group that has an authorisation date b) the start and the <ReferenceDate> where the
    # authorisation date is missing"
    (
        "8863Q",
        "a) starts on the other's authorisation day",
        census(child(cin(inner=(a("2022-06-02", "2022-06-20") + a("2022-06-20", "2022-07-01"))))),
        [C1 + "/Assessments[2]"],
    ),
    (
        "8863Q",
        "a) starts the day after the other's authorisation",
        census(child(cin(inner=(a("2022-06-02", "2022-06-20") + a("2022-06-21", "2022-07-01"))))),
        [],
    ),
    (
        "8863Q",
        "b) starts while another is open",
        census(child(cin(inner=(a("2023-03-01") + a("2023-03-05", "2023-03-10"))))),
        [C1 + "/Assessments[2]"],
    ),
    # --- 8896 "there must not be more than one <Assessments> group that has no <AssessmentAuthorisationDate>"
    (
        "8896",
        "two open assessments in one episode",
        census(child(cin(inner=a("2023-03-01") + a("2023-03-05")))),
        [C1 + "/Assessments[1]", C1 + "/Assessments[2]"],
    ),
    (
        "8896",
        "open assessments in two episodes",
        census(child(cin("2022-05-01", inner=a("2023-03-01"), nfa="1"), cin("2022-06-01", inner=a("2023-03-05")))),
        [],
    ),
    # --- 100 "<ReferenceDate> must be present and must equal 31 March of the collection year"
    ("100", "ReferenceDate not 31 March", census(child(cin()), reference="2023-03-28"), ["Header"]),
    (
        "100",
        "ReferenceDate 31 March of another year than Year",
        census(child(cin()), reference="2024-03-31"),
        ["Header"],
    ),
    ("100", "ReferenceDate 31 March of Year", census(child(cin())), []),
    # --- 8608 "If present <AssessmentAuthorisationDate> must be on or after the <AssessmentActualStartDate>"
    (
        "8608",
        "authorised the day before it started",
        census(child(cin(inner=a("2022-06-02", "2022-06-01")))),
        [C1 + "/Assessments[1]"],
    ),
    ("8608", "authorised the day it started", census(child(cin(inner=a("2022-06-02", "2022-06-02")))), []),
    # --- 8810 "If <ReasonForClosure> is present then <CINclosureDate> must also be present"
    ("8810", "reason without closure date", census(child(cin(reason="RC1"))), [C1]),
    ("8810", "reason with closure date", census(child(cin(closure="2022-09-01", reason="RC1"))), []),
    # --- 4220 "Ethnicity is missing or invalid (see Ethnicity table)": codes are case-sensitive
    ("4220", "lower-case code", census(child(cin(), ethnicity="wbri")), ["Child[1]"]),
    ("4220", "valid code", census(child(cin(), ethnicity="WBRI")), []),
    # --- 4180 2022-23 and 2023-24 "Gender is missing": the GenderCurrent element of those years' schema
    (
        "4180",
        "2022-23 file with Sex instead of GenderCurrent",
        census(child(cin(), gender=None, sex="M")),
        ["Child[1]"],
    ),
    ("4180", "2022-23 file with GenderCurrent 2", census(child(cin(), gender="2")), []),
]


@pytest.mark.parametrize(("code", "case", "xml", "paths"), CASES, ids=[f"{c[0]}-{c[1][:40]}" for c in CASES])
def test_rule_case(tmp_path: Path, code: str, case: str, xml: str, paths: list[str]) -> None:
    findings = run_file(write(tmp_path, xml), rule=code)  # as the validator cross-check ran it: that rule selected
    assert sorted(findings.loc[findings.rule_code == code, "element_path"]) == sorted(paths), case


# --- 4180 from 2024-25: "<Sex> (N00783) must be present and valid"; the year chooses the schema ---------------


@pytest.mark.parametrize(("sex", "gender", "fails"), [("M", None, False), ("f", None, True), (None, "1", True)])
def test_4180_from_2024_25_reads_sex_case_sensitively(
    tmp_path: Path, sex: str | None, gender: str | None, fails: bool
) -> None:
    xml = census(child(cin("2024-06-01"), gender=gender, sex=sex), year="2025", reference="2025-03-31")
    findings = run_file(write(tmp_path, xml), rule="4180")
    assert (findings.rule_code == "4180").any() == fails
    assert rule("4180", 2025).message == "Sex must be provided and equal M, F, or U"


def test_rule_set_is_chosen_per_census_year() -> None:
    assert rule("4180", 2024).elements == "GenderCurrent" and rule("4180", 2025).elements == "Sex"
    assert [r.code for r in rules_for(2024)].count("4180") == 1
    codes = {r.code for r in RULES}
    assert {
        "100",
        "1103",
        "8805",
        "8820",
        "8606",
        "8670Q",
        "8831",
        "8815",
        "8816",
        "8568",
        "4000",
        "8832",
        "8510",
        "8736",
        "8867",
        "8863Q",
        "8896",
        "8696",
        "8565",
        "8825Q",
        "2990",
        "8545Q",
        "8555Q",
        "8585Q",
        "8525Q",
        "8620",
    } <= codes
    assert all(r.rule_type in ("error", "query") and r.message and r.wording for r in RULES)
    assert all(r.rule_type == "query" for r in RULES if r.code.endswith("Q"))


# --- 8670Q "If <AssessmentAuthorisationDate> is not present then <AssessmentActualStartDate> should not be before
# the <ReferenceDate> minus 45 working days". Reading: "ReferenceDate minus 45 working days" is the 45th working day
# before the ReferenceDate, the ReferenceDate itself not counted whether or not it is a working day (as "Monday
# minus 1 working day" is the Friday before); an open assessment starting before that day is queried. -------------


def test_reference_date_minus_45_working_days() -> None:
    con = duckdb.connect()
    # 2023-03-31 is a Friday; 45 working days back (no bank holiday between) is Friday 2023-01-27.
    assert working_day_before(con, date(2023, 3, 31), 45) == date(2023, 1, 27)
    # 2024-03-31 is a Sunday (and 29 March Good Friday): the count starts on Thursday 28 March (1st) and reaches
    # Friday 26 January (45th: 20 working days in March, 21 in February, 4 in January).
    assert working_day_before(con, date(2024, 3, 31), 45) == date(2024, 1, 26)


def test_reference_date_minus_45_working_days_from_a_stores_calendar() -> None:
    """A store's calendar, when it covers the days, gives the same day as a calendar of just those days."""
    from store.calendar import build_calendar

    con = duckdb.connect()
    build_calendar(con)
    con.execute("UPDATE calendar SET is_working_day = FALSE WHERE day = DATE '2019-01-04'")  # marks which one is read
    assert working_day_before(con, date(2023, 3, 31), 45) == date(2023, 1, 27)
    assert working_day_before(con, date(2024, 3, 31), 45) == date(2024, 1, 26)
    assert working_day_before(con, date(2019, 3, 8), 45) == date(
        2019, 1, 3
    )  # 4 Jan marked: the store's calendar is read
    assert working_day_before(con, date(2004, 3, 31), 45) == date(2004, 1, 28)  # before it: a calendar of those days


@pytest.mark.parametrize(("start", "queried"), [("2024-01-25", True), ("2024-01-26", False)])
def test_8670Q_boundary_with_a_weekend_reference_date(tmp_path: Path, start: str, queried: bool) -> None:
    xml = census(child(cin("2023-12-01", inner=a(start))), year="2024", reference="2024-03-31")
    findings = run_file(write(tmp_path, xml), rule="8670Q")
    assert (findings.rule_code == "8670Q").any() == queried


def test_8670Q_open_assessment_started_before_2005_is_queried(tmp_path: Path) -> None:
    xml = census(child(cin("2004-01-01", inner=a("2004-06-01"))), year="2024", reference="2024-03-31")
    assert (run_file(write(tmp_path, xml), rule="8670Q").rule_code == "8670Q").any()


def test_findings_carry_path_child_id_and_values_as_written(tmp_path: Path) -> None:
    xml = census(child(cin("2022-06-01", closure="2022-09-01"), la_child_id="Ab-1"))
    row = run_file(write(tmp_path, xml)).query("rule_code == '8805'").iloc[0]
    assert (row.element_path, row.la_child_id, row.row_number) == (C1, "Ab-1", 1)
    assert row.offending_values == "CINclosureDate=2022-09-01; ReasonForClosure=missing"
