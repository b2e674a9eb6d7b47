"""DfE Children in Need census XML: one file per census year (1 April to 31 March), as at 31 March.

Element order follows the DfE schema of the year (samples/schemas/cin_census_xsd): `GenderCurrent`
(1 male, 2 female, 0 not recorded or unborn, 9 indeterminate) up to 2023-24, `Sex` (M/F/U) from 2024-25.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from synthetic.snapshot import Recorded, age_at, episodes_at

SEX_TO_GENDER_CURRENT = {"M": "1", "F": "2", "U": "0"}


@dataclass(frozen=True)
class CensusYear:
    """A census year: 1 April (year_end - 1) to 31 March year_end."""

    year_end: int

    @property
    def start(self) -> pd.Timestamp:
        return pd.Timestamp(self.year_end - 1, 4, 1)

    @property
    def reference_date(self) -> pd.Timestamp:
        return pd.Timestamp(self.year_end, 3, 31)

    @property
    def label(self) -> str:
        return f"{self.year_end - 1}-{str(self.year_end)[2:]}"

    @property
    def uses_sex(self) -> bool:
        return self.year_end >= 2025

    @property
    def file_name(self) -> str:
        return f"cin_census_{self.label}.xml"


def census_years(simulation_start: pd.Timestamp, end: pd.Timestamp) -> list[CensusYear]:
    """Every census year wholly inside the simulated history and ended by the end date."""
    first = simulation_start.year + (1 if simulation_start > pd.Timestamp(simulation_start.year, 4, 1) else 0) + 1
    years = [CensusYear(y) for y in range(first, end.year + 1)]
    return [y for y in years if y.start >= simulation_start and y.reference_date <= end]


def census_frames(rec: Recorded, year: CensusYear) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Episodes open at any time in the year and their assessments in the year, as at 31 March."""
    eps = episodes_at(rec, year.reference_date)
    eps = eps.loc[eps["closure_date"].isna() | (eps["closure_date"] >= year.start)].reset_index(drop=True)
    a = rec.episodes.loc[
        rec.episodes["assessment_start"].notna() & (rec.episodes["assessment_start"] <= year.reference_date)
    ].copy()
    a["assessment_authorised"] = a["assessment_authorised"].where(a["assessment_authorised"] <= year.reference_date)
    a = a.loc[
        (a["assessment_start"] >= year.start)
        | a["assessment_authorised"].isna()
        | (a["assessment_authorised"] >= year.start)
    ]
    a = a.merge(eps[["child_id", "referral_date"]], on=["child_id", "referral_date"])
    return eps, a


def _text(parent: ET.Element, tag: str, value: object) -> None:
    el = ET.SubElement(parent, tag)
    el.text = None if value is None else str(value)


def _day(value: object) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value if isinstance(value, str) else pd.Timestamp(value).strftime("%Y-%m-%d")


def _child_records(rec: Recorded, year: CensusYear, child_ids: pd.Series) -> dict[str, dict]:
    """Per child, the identifiers and characteristics as text, computed once for the year."""
    kids = rec.children.loc[rec.children["child_id"].isin(child_ids)].copy()
    dob = kids["date_of_birth"]
    born = dob.notna() & (dob <= year.reference_date)
    age = age_at(dob, year.reference_date)
    kids["_upn"] = kids["upn"].where(born & (age >= 5))
    kids["_upn_unknown"] = np.where(born & (age >= 5), None, np.where(~born | (age < 5), "UN1", "UN3"))
    kids["_dob_tag"] = np.where(born, "PersonBirthDate", "ExpectedPersonBirthDate")
    kids["_dob"] = dob.dt.strftime("%Y-%m-%d")
    sex = kids["sex"]
    kids["_sex"] = (
        sex if year.uses_sex else sex.map(lambda v: SEX_TO_GENDER_CURRENT.get(v, v) if isinstance(v, str) else None)
    )
    records = kids[["child_id", "_upn", "_upn_unknown", "_dob_tag", "_dob", "_sex", "ethnicity", "disability"]]
    records = records.astype(object).where(records.notna(), None)
    return {r["child_id"]: r for r in records.to_dict("records")}


def _episode_records(eps: pd.DataFrame) -> list[dict]:
    out = eps[
        [
            "child_id",
            "_missing_id",
            "_key_date",
            "referral_date",
            "referral_source",
            "primary_need",
            "closure_date",
            "closure_reason",
            "assessment_authorised",
            "requires_support",
            "nfa",
        ]
    ].copy()
    for column in ("referral_date", "closure_date", "assessment_authorised"):
        out[column] = [_day(v) for v in out[column]]
    out = out.astype(object).where(out.notna(), None)
    return out.to_dict("records")


def build_xml(
    rec: Recorded,
    year: CensusYear,
    eps: pd.DataFrame,
    assessments: pd.DataFrame,
    la_code: str,
    booleans: tuple[str, str],
    rng: np.random.Generator,
) -> ET.ElementTree:
    """The census message for the year."""
    root = ET.Element("Message")
    header = ET.SubElement(root, "Header")
    details = ET.SubElement(header, "CollectionDetails")
    _text(details, "Collection", "CIN")
    _text(details, "Year", year.year_end)
    _text(details, "ReferenceDate", year.reference_date.strftime("%Y-%m-%d"))
    source = ET.SubElement(header, "Source")
    sent = year.reference_date + pd.Timedelta(days=52, hours=10, minutes=15)
    for tag, value in (
        ("SourceLevel", "L"),
        ("LEA", la_code),
        ("SoftwareCode", "Local Authority"),
        ("Release", "ver 3.1.21"),
        ("SerialNo", "001"),
        ("DateTime", sent.strftime("%Y-%m-%dT%H:%M:%S")),
    ):
        _text(source, tag, value)
    children = ET.SubElement(root, "Children")
    kids = _child_records(rec, year, eps["child_id"])
    a = assessments.assign(
        start=[_day(v) for v in assessments["assessment_start"]],
        auth=[_day(v) for v in assessments["assessment_authorised"]],
    )
    by_episode: dict[tuple, list[dict]] = {}
    for r in a[["child_id", "referral_date", "start", "auth", "factors"]].to_dict("records"):
        by_episode.setdefault((r["child_id"], r["referral_date"]), []).append(r)
    drop_sex = rng.random(len(kids)) < 0.5
    current: tuple | None = None
    child = ET.Element("Child")
    eps = eps.sort_values(["child_id", "_missing_id", "_key_date"], kind="stable")
    for i, ep in enumerate(_episode_records(eps)):
        if (ep["child_id"], ep["_missing_id"]) != current:
            current = (ep["child_id"], ep["_missing_id"])
            child = ET.SubElement(children, "Child")
            kid = kids[ep["child_id"]]
            _identifiers(
                child, None if ep["_missing_id"] else ep["child_id"], kid, year, bool(drop_sex[i % len(drop_sex)])
            )
            _characteristics(child, kid)
        _cin_details(child, ep, by_episode.get((ep["child_id"], ep["_key_date"]), []), booleans)
    ET.indent(root, space="    ")
    return ET.ElementTree(root)


def _identifiers(child: ET.Element, child_id: str | None, kid: dict, year: CensusYear, drop_missing_sex: bool) -> None:
    ids = ET.SubElement(child, "ChildIdentifiers")
    _text(ids, "LAchildID", child_id)
    if kid["_upn"]:
        _text(ids, "UPN", kid["_upn"])
    else:
        _text(ids, "UPNunknown", kid["_upn_unknown"])
    if kid["_dob"]:
        _text(ids, kid["_dob_tag"], kid["_dob"])
    if kid["_sex"] is None and drop_missing_sex:
        return
    _text(ids, "Sex" if year.uses_sex else "GenderCurrent", kid["_sex"])


def _characteristics(child: ET.Element, kid: dict) -> None:
    chars = ET.SubElement(child, "ChildCharacteristics")
    _text(chars, "Ethnicity", kid["ethnicity"])
    disabilities = ET.SubElement(chars, "Disabilities")
    _text(disabilities, "Disability", kid["disability"])


def _cin_details(child: ET.Element, ep: dict, assessments: list[dict], booleans: tuple[str, str]) -> None:
    d = ET.SubElement(child, "CINdetails")
    _text(d, "CINreferralDate", ep["referral_date"])
    _text(d, "ReferralSource", ep["referral_source"])
    _text(d, "PrimaryNeedCode", ep["primary_need"])
    if ep["closure_date"]:
        _text(d, "CINclosureDate", ep["closure_date"])
    if ep["closure_reason"]:
        _text(d, "ReasonForClosure", ep["closure_reason"])
    for a in assessments:
        el = ET.SubElement(d, "Assessments")
        _text(el, "AssessmentActualStartDate", a["start"])
        if a["auth"]:
            _text(el, "AssessmentAuthorisationDate", a["auth"])
            factors = ET.SubElement(el, "FactorsIdentifiedAtAssessment")
            for f in a["factors"]:
                _text(factors, "AssessmentFactors", f)
    if ep["requires_support"] == True and ep["assessment_authorised"]:  # noqa: E712 - numpy or Python bool
        plan = ET.SubElement(d, "CINPlanDates")
        _text(plan, "CINPlanStartDate", ep["assessment_authorised"])
        if ep["closure_date"]:
            _text(plan, "CINPlanEndDate", ep["closure_date"])
    _text(d, "ReferralNFA", booleans[0] if ep["nfa"] else booleans[1])


def write(path: Path, tree: ET.ElementTree) -> None:
    tree.write(path, encoding="utf-8", xml_declaration=True)
