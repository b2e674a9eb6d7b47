"""Helpers for the DfE CIN rule tests: write a small census XML and run the rules on it as a load would."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from expectations.dfe_cin.runner import findings_frame, run_rules
from ingest.readers.cin_submitted import stage_submitted

_DATABASE = duckdb.connect()  # one empty in-memory database per process: opening one costs ~30 ms of CPU


def run_file(path: Path, rule: str | None = None) -> pd.DataFrame:
    """The DfE findings for one file (rule_code, element_path, la_child_id, offending_values, ...); with `rule`, the
    findings of that rule alone (run by itself, as DfE's validator runs a rule selected: the whole set's statement
    costs ~80 ms to plan for each file, one rule's ~5 ms; tests/test_dfe_cin_samples runs the whole set).

    Each file gets a connection of its own (a cursor) to an empty database that nothing writes to: the staged
    elements, modules and findings are all TEMP tables, which no other connection sees, as in a fresh database.
    """
    with _DATABASE.cursor() as con:
        stage_submitted(path, con)
        run_rules(con, None if rule is None else frozenset({rule}))
        return findings_frame(con)


def run_rules_alone(path: Path, rules: list[str]) -> dict[str, pd.DataFrame]:
    """Each rule's findings for one file, each rule run by itself (`run_file(path, rule=...)` for each), the file
    staged once: a run reads only the staged elements, which it leaves as they were (it drops what it built)."""
    with _DATABASE.cursor() as con:
        stage_submitted(path, con)
        out = {}
        for code in rules:
            run_rules(con, frozenset({code}))
            out[code] = findings_frame(con)
        return out


def failing_ids(findings: pd.DataFrame) -> dict[str, list[str]]:
    """rule code -> sorted LAchildIDs (rule 100 -> ['Header'])."""
    out: dict[str, list[str]] = {}
    for code, rows in findings.groupby("rule_code"):
        out[str(code)] = sorted({"Header" if p == "Header" else i for p, i in zip(rows.element_path, rows.la_child_id)})
    return out


def assessment(start: str | None, authorised: str | None = None) -> str:
    parts = [
        f"<AssessmentActualStartDate>{start}</AssessmentActualStartDate>" if start else "",
        f"<AssessmentAuthorisationDate>{authorised}</AssessmentAuthorisationDate>" if authorised else "",
    ]
    return f"<Assessments>{''.join(parts)}</Assessments>"


def cin(
    referral: str = "2022-06-01",
    closure: str | None = None,
    reason: str | None = None,
    nfa: str | None = "false",
    initial_cpc: str | None = None,
    inner: str = "",
) -> str:
    parts = [
        f"<CINreferralDate>{referral}</CINreferralDate>" if referral else "",
        "<ReferralSource>1A</ReferralSource><PrimaryNeedCode>N1</PrimaryNeedCode>",
        f"<CINclosureDate>{closure}</CINclosureDate>" if closure else "",
        f"<ReasonForClosure>{reason}</ReasonForClosure>" if reason else "",
        f"<DateOfInitialCPC>{initial_cpc}</DateOfInitialCPC>" if initial_cpc else "",
        inner,
        f"<ReferralNFA>{nfa}</ReferralNFA>" if nfa is not None else "",
    ]
    return f"<CINdetails>{''.join(parts)}</CINdetails>"


def child(
    *cins: str,
    la_child_id: str = "C1",
    birth: str | None = "2015-01-01",
    expected: str | None = None,
    death: str | None = None,
    gender: str | None = "1",
    sex: str | None = None,
    ethnicity: str = "WBRI",
) -> str:
    ids = [
        f"<LAchildID>{la_child_id}</LAchildID>",
        f"<PersonBirthDate>{birth}</PersonBirthDate>" if birth else "",
        f"<ExpectedPersonBirthDate>{expected}</ExpectedPersonBirthDate>" if expected else "",
        f"<GenderCurrent>{gender}</GenderCurrent>" if gender else "",
        f"<Sex>{sex}</Sex>" if sex else "",
        f"<PersonDeathDate>{death}</PersonDeathDate>" if death else "",
    ]
    return (
        f"<Child><ChildIdentifiers>{''.join(ids)}</ChildIdentifiers>"
        f"<ChildCharacteristics><Ethnicity>{ethnicity}</Ethnicity></ChildCharacteristics>{''.join(cins)}</Child>"
    )


def census(*children: str, year: str = "2023", reference: str = "2023-03-31") -> str:
    return (
        "<?xml version='1.0' encoding='utf-8'?><Message><Header><CollectionDetails><Collection>CIN</Collection>"
        f"<Year>{year}</Year><ReferenceDate>{reference}</ReferenceDate></CollectionDetails>"
        f"<Source><LEA>201</LEA></Source></Header><Children>{''.join(children)}</Children></Message>"
    )


def write(tmp: Path, xml: str, name: str = "cin.xml") -> Path:
    path = tmp / name
    path.write_text(xml, encoding="utf-8")
    return path
