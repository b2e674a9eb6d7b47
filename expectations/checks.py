"""The registry of this product's own data quality checks on the merged store: severity and how to fix the record.

None carries a DfE code: DfE's rules are run as DfE runs them, on each CIN census file as submitted
(`expectations/dfe_cin/`); these checks look across files, on the canonical (merged) rows.

Checks on one table's values are Great Expectations declarations (see `model.py`), one suite
per canonical table; checks across rows or tables, on list columns, on the rows that could not
be loaded, and the key and child-id checks are SQL (see `sql_checks.py`). docs/CHECKS.md is
generated from this registry (`python -m expectations docs`), and a test fails when a check
lacks a description or a severity.
"""

from __future__ import annotations

from datetime import date

from expectations import sql_checks
from expectations.model import (
    CROSS_TABLE,
    AtLeast,
    Between,
    Check,
    CheckParams,
    InSet,
    NotNull,
    Severity,
    When,
)
from store.codes import CLOSURE_REASONS, ETHNICITY_ALL, PRIMARY_NEED, RECORD_TYPES, REFERRAL_SOURCES, SEX_CODES
from store.schema import ENTITIES

TABLES: tuple[str, ...] = tuple(ENTITIES)
CHILD_TABLES: tuple[str, ...] = ("contacts", "referrals", "assessments", "cin_episodes")

# What a row of each table is, for messages ("this contact", "this referral").
ROW_NOUN: dict[str, str] = {
    "contacts": "contact",
    "referrals": "referral",
    "assessments": "assessment",
    "cin_episodes": "child-in-need episode",
    "recordings": "recording",
}

# Event dates checked for plausibility, with their heading in the source extract.
DATE_HEADINGS: dict[str, dict[str, str]] = {
    "contacts": {"contact_date": "Date of Contact"},
    "referrals": {"referral_date": "Date of Referral"},
    "assessments": {"start_date": "Continuous Assessment Start Date", "authorised_date": "Date of Authorisation"},
    "cin_episodes": {
        "start_date": "CIN Start Date",
        "closure_date": "CIN Closure Date",
        "last_seen_date": "Date Child Was Last Seen",
    },
    "recordings": {"event_date": "Event Date"},
}


def _earliest(p: CheckParams) -> date:
    return p.earliest_date


def _key_checks(table: str) -> list[Check]:
    """Key and child id: SQL over the store (pandas needs ~25 s to find duplicates among 20 M string keys)."""
    entity, noun = ENTITIES[table], ROW_NOUN[table]
    key = ", ".join(entity.natural_key)
    return [
        Check(
            check_id=f"{table}.key_unique",
            table=table,
            severity="error",
            title=f"Each {noun} is stored once",
            description=(
                f"Each {noun} is identified by {key} and must be stored once. Two stored rows with the "
                f"same {key} mean the store's merge went wrong: report it to the system administrator; "
                "nothing needs correcting in the case-management system."
            ),
            problem=f"Two stored rows share the {noun}'s key ({key})",
            sql=sql_checks.duplicate_keys(table),
            kind="key",
        ),
        Check(
            check_id=f"{table}.child_id_present",
            table=table,
            severity="error",
            title="Child id present",
            description=(
                f"Every {noun} must name the child it is about (Child Unique ID / LAchildID). Add the "
                "child's id to the record in the case-management system."
            ),
            problem="No child id: add the Child Unique ID to the record",
            sql=sql_checks.missing_child_id(table),
        ),
    ]


def _date_checks(table: str) -> list[Check]:
    noun = ROW_NOUN[table]
    checks: list[Check] = []
    for column, heading in DATE_HEADINGS[table].items():
        checks.append(
            Check(
                check_id=f"{table}.{column}_not_after_extract",
                table=table,
                severity="error",
                title=f"{heading} not after the extract date",
                description=(
                    f"The {heading} of a {noun} cannot be after the date of the extract it came from. A "
                    f"date in the future is a typing error (often the year): correct the {heading}."
                ),
                problem=f"{heading} is after the extract date: correct the date (often the year)",
                ge=AtLeast("as_of", column),
                value_columns=(column, "as_of"),
            )
        )
        checks.append(
            Check(
                check_id=f"{table}.{column}_not_before_1990",
                table=table,
                severity="error",
                title=f"{heading} not before 1990",
                description=(
                    f"The {heading} of a {noun} cannot be before 1 January 1990: such a date is a default "
                    f"or a mistyped century. Correct the {heading}."
                ),
                problem=f"{heading} is before 1990: correct the date (often the century)",
                ge=Between(column, min_value=_earliest),
            )
        )
    if table in CHILD_TABLES:
        checks.append(
            Check(
                check_id=f"{table}.date_of_birth_not_before_1990",
                table=table,
                severity="warning",
                title="Date of birth not before 1990",
                description=(
                    "A child's date of birth cannot be before 1 January 1990: such a date is a default or a "
                    "mistyped century. Correct the date of birth on the child's record."
                ),
                problem="Date of birth is before 1990: correct it (often the century)",
                ge=Between("date_of_birth", min_value=_earliest),
                value_columns=("date_of_birth",),
            )
        )
        checks.append(
            Check(
                check_id=f"{table}.date_of_birth_not_after_extract",
                table=table,
                severity="warning",
                title="Date of birth not more than 40 weeks after the extract date",
                description=(
                    "A child's date of birth cannot be more than 40 weeks after the date of the extract (an "
                    "unborn child's expected date of birth is at most 40 weeks ahead). Correct the date of "
                    "birth on the child's record."
                ),
                problem="Date of birth is more than 40 weeks after the extract date: correct it",
                ge=AtLeast("latest_birth_date", "date_of_birth"),
                value_columns=("date_of_birth", "as_of"),
            )
        )
    checks.append(
        Check(
            check_id=f"{table}.dates_parse",
            table=table,
            severity="error",
            title="Dates can be read",
            description=(
                f"A date on the {noun} (other than the key date, whose rows are rejected instead) was "
                "filled in but could not be read as a date, so it was stored as missing. Enter it as a "
                "real date (DD/MM/YYYY) in the case-management system."
            ),
            problem="A date was filled in but is not a date: enter it as DD/MM/YYYY",
            sql=sql_checks.unparsed_dates(table),
        )
    )
    checks.append(
        Check(
            check_id=f"{table}.rows_rejected",
            table=table,
            severity="error",
            title="Rows could be loaded",
            description=(
                f"Rows of the extracts loaded since the previous validation that could not be loaded as a "
                f"{noun} at all, because the child id or the key date is missing or is not a date. They are "
                "left out of every figure until corrected: add the missing id or date at source."
            ),
            problem="Row not loaded: its child id or key date is missing or not a date",
            sql=sql_checks.rejected_rows(table),
            kind="load",
        )
    )
    key = ", ".join(ENTITIES[table].natural_key)
    checks.append(
        Check(
            check_id=f"{table}.duplicates_in_extract",
            table=table,
            severity="warning",
            title="No duplicate rows in an extract",
            description=(
                f"Rows of one extract (loaded since the previous validation) that share the {noun}'s key "
                f"({key}) with another row of the same extract. Only the last one is kept"
                + (
                    ": two referrals of a child on one day are one referral, not a re-referral"
                    " (as in DfE rule 8820, which runs per file)"
                    if table == "referrals"
                    else ""
                )
                + ". Remove the duplicate at source, or correct the date if they are different events."
            ),
            problem=f"Same {key} as another row of this extract: remove the duplicate or correct it",
            sql=sql_checks.duplicate_rows(table),
            kind="load",
        )
    )
    return checks


def _child_attribute_checks(table: str) -> list[Check]:
    noun = ROW_NOUN[table]
    missing_severity: Severity = "warning" if table == "contacts" else "error"
    return [
        Check(
            check_id=f"{table}.ethnicity_present",
            table=table,
            severity=missing_severity,
            title="Ethnicity recorded",
            description=(
                f"The child's ethnicity is blank on this {noun}. Record one of the DfE ethnicity codes; if "
                "the family declined to say use REFU, and if it has not been asked yet use NOBT."
            ),
            problem="Ethnicity missing: record a DfE code (REFU if refused, NOBT if not yet obtained)",
            ge=NotNull("ethnicity"),
        ),
        Check(
            check_id=f"{table}.ethnicity_valid",
            table=table,
            severity="error",
            title="Ethnicity is a DfE code",
            description=(
                f"The ethnicity on this {noun} is not one of the 18 DfE ethnicity codes, REFU or NOBT. "
                "Replace it with the matching DfE code (for example WBRI, APKN, BAFR)."
            ),
            problem="Ethnicity is not a DfE code: replace it with the matching code",
            ge=InSet("ethnicity", tuple(sorted(ETHNICITY_ALL))),
        ),
        Check(
            check_id=f"{table}.sex_present",
            table=table,
            severity="error",
            title="Sex recorded",
            description=f"The child's sex is blank on this {noun}. Record M, F or U (not known).",
            problem="Sex missing: record M, F or U",
            ge=NotNull("sex"),
        ),
        Check(
            check_id=f"{table}.sex_valid",
            table=table,
            severity="error",
            title="Sex is M, F or U",
            description=(
                f"The sex on this {noun} is not M (male), F (female) or U (not known). Correct it on the "
                "child's record."
            ),
            problem="Sex is not M, F or U: correct it",
            ge=InSet("sex", tuple(sorted(SEX_CODES))),
        ),
    ]


def _code_check(
    table: str, column: str, heading: str, codes: tuple[str, ...], example: str, severity: Severity = "error"
) -> Check:
    return Check(
        check_id=f"{table}.{column}_valid",
        table=table,
        severity=severity,
        title=f"{heading} in the code list",
        description=(
            f"The {heading} on this {ROW_NOUN[table]} is not in the DfE code list ({example}). "
            f"Choose the matching code in the case-management system."
        ),
        problem=f"{heading} is not a listed code: choose the matching code",
        ge=InSet(column, codes),
    )


def _present_check(table: str, column: str, heading: str, severity: Severity = "warning") -> Check:
    return Check(
        check_id=f"{table}.{column}_present",
        table=table,
        severity=severity,
        title=f"{heading} recorded",
        description=f"The {heading} is blank on this {ROW_NOUN[table]}. Record it in the case-management system.",
        problem=f"{heading} missing: record it",
        ge=NotNull(column),
    )


SOURCES = tuple(REFERRAL_SOURCES)


def _contact_checks() -> list[Check]:
    return [
        _present_check("contacts", "contact_source", "Contact Source"),
        _code_check("contacts", "contact_source", "Contact Source", SOURCES, "1A ... 10, e.g. 6 Police"),
    ]


def _referral_checks() -> list[Check]:
    return [
        _present_check("referrals", "referral_source", "Referral Source"),
        _code_check("referrals", "referral_source", "Referral Source", SOURCES, "1A ... 10, e.g. 6 Police"),
        Check(
            check_id="referrals.8606_not_before_birth",
            table="referrals",
            severity="error",
            title="Referral not more than 40 weeks before birth",
            description=(
                "A referral cannot be dated more than 40 weeks (280 days) before the child's date of "
                "birth or expected date of birth. Correct the referral date or the date of birth."
            ),
            problem="Referral is more than 40 weeks before the date of birth: correct either date",
            ge=AtLeast("referral_date", "earliest_referral_date"),
            value_columns=("referral_date", "date_of_birth"),
        ),
        Check(
            check_id="referrals.ethnicity_completeness",
            table="referrals",
            severity="warning",
            title="Ethnicity completeness above the threshold",
            description=(
                "The share of referrals whose child has a known ethnicity (one of the 18 DfE codes, not "
                "REFU, NOBT, blank or invalid) must reach the threshold (default 95%, set with "
                "FRONTDOOR_ETHNICITY_THRESHOLD). The inspection found gaps in recording ethnicity: ask "
                "workers to record it at referral; the failing rows list the referrals without one."
            ),
            problem="Child's ethnicity is not known on this referral: ask and record it",
            ge=InSet("ethnicity_category", ("known",), mostly=lambda p: p.ethnicity_threshold),
            value_columns=("ethnicity",),
            kind="aggregate",
        ),
        Check(
            check_id="referrals.referrals_last_12m_agrees",
            table="referrals",
            severity="warning",
            title="'Number of Referrals in Last 12 Months' agrees with the referrals",
            description=(
                "Annex A List 3 reports, on every row of a child, how many referrals the child had in "
                "the 12 months before their latest referral. It must equal the number of that child's "
                "referrals in the store in those 12 months (checked only where the store holds the "
                "whole 12 months). Correct the count, or add the referrals that are missing."
            ),
            problem="Reported number of referrals in the last 12 months differs from the referrals recorded",
            sql=sql_checks.REFERRAL_COUNT,
            kind="child",
        ),
    ]


def _assessment_checks() -> list[Check]:
    return [
        Check(
            check_id="assessments.8608_authorised_after_start",
            table="assessments",
            severity="error",
            title="Assessment authorised on or after its start",
            description=(
                "An assessment cannot be authorised before it started. Correct the start date or the "
                "authorisation date."
            ),
            problem="Authorised before it started: correct the start or authorisation date",
            ge=AtLeast("authorised_date", "start_date"),
        ),
        Check(
            check_id="assessments.1103_start_after_referral",
            table="assessments",
            severity="error",
            title="Assessment does not start before its referral",
            description=(
                "An assessment cannot start before the referral of its episode (the CIN census links them; "
                "an Annex A row of the same assessment keeps that link). Correct the assessment start date "
                "or the referral date."
            ),
            problem="Assessment starts before its referral: correct either date",
            ge=AtLeast("start_date", "episode_referral_date"),
        ),
        Check(
            check_id="assessments.8670Q_open_over_45_days",
            table="assessments",
            severity="warning",
            title="Open assessment not older than 45 working days",
            description=(
                "An assessment with no authorisation date that started more than 45 working days before "
                "the date of the extract it came from is overdue, or its authorisation was not recorded. "
                "Record the authorisation date if it was authorised; otherwise escalate the overdue "
                "assessment."
            ),
            problem="Open for more than 45 working days: record the authorisation date or escalate",
            ge=Between("working_days_open", max_value=45),
            value_columns=("start_date", "as_of", "working_days_open"),
        ),
    ]


def _cin_checks() -> list[Check]:
    t = "cin_episodes"
    return [
        Check(
            check_id=f"{t}.closure_after_start",
            table=t,
            severity="error",
            title="Episode closes on or after it starts",
            description=(
                "A child-in-need episode cannot close before it started. Correct the CIN start date or "
                "the closure date."
            ),
            problem="Closed before it started: correct the start or closure date",
            ge=AtLeast("closure_date", "start_date"),
        ),
        Check(
            check_id=f"{t}.8805_closure_reason",
            table=t,
            severity="error",
            title="A closed episode has a reason for closure",
            description=(
                "A child-in-need episode with a closure date must have a reason for closure (RC1 ... "
                "RC9). Record the reason for closure."
            ),
            problem="Closure date but no reason for closure: record the reason (RC1-RC9)",
            ge=NotNull("closure_reason", when=When("closure_date")),
            value_columns=("closure_date", "closure_reason"),
        ),
        Check(
            check_id=f"{t}.8810_closure_date",
            table=t,
            severity="error",
            title="A reason for closure comes with a closure date",
            description=(
                "A child-in-need episode with a reason for closure must have a closure date. Record the "
                "closure date, or remove the reason if the case is still open."
            ),
            problem="Reason for closure but no closure date: record the date or remove the reason",
            ge=NotNull("closure_date", when=When("closure_reason")),
            value_columns=("closure_reason", "closure_date"),
        ),
        _present_check(t, "primary_need", "Primary Need Code"),
        _code_check(t, "primary_need", "Primary Need Code", tuple(PRIMARY_NEED), "N0 ... N9"),
        _code_check(t, "closure_reason", "Reason for Closure", tuple(CLOSURE_REASONS), "RC1 ... RC9"),
        _code_check(t, "referral_source", "Referral Source", SOURCES, "1A ... 10"),
        Check(
            check_id=f"{t}.disabilities_valid",
            table=t,
            severity="error",
            title="Disability codes in the code list",
            description=(
                "Each disability recorded on the episode must be a DfE disability code (NONE, MOB, HAND, "
                "PC, INC, COMM, LD, HEAR, VIS, BEH, CON, AUT, DDA). Replace the others."
            ),
            problem="A disability is not a DfE code: replace it with the matching code",
            sql=sql_checks.INVALID_DISABILITIES,
        ),
        Check(
            check_id=f"{t}.8820_no_overlap",
            table=t,
            severity="error",
            title="A child's episodes do not overlap",
            description=(
                "A child's child-in-need episodes must not overlap: each episode must be closed on or "
                "before the start of the next (a closure may fall on the next referral's date), and a "
                "child has at most one open episode. Two referrals of a child on one day are one "
                "referral. Close the earlier episode, or correct its dates."
            ),
            problem="Overlaps the child's next episode: close it on or before the next one starts",
            sql=sql_checks.OVERLAPPING_EPISODES,
            kind="child",
        ),
    ]


def _recording_checks() -> list[Check]:
    t = "recordings"
    return [
        Check(
            check_id=f"{t}.entered_after_event",
            table=t,
            severity="error",
            title="Recording entered on or after its event",
            description=(
                "A recording cannot be written up before the day of the event it records. Correct the "
                "event date or the date entered."
            ),
            problem="Entered before the event happened: correct the event date",
            ge=AtLeast("entered_on", "event_date"),
            value_columns=("entered_at", "event_date"),
        ),
        Check(
            check_id=f"{t}.entered_at_not_after_extract",
            table=t,
            severity="error",
            title="Date entered not after the extract date",
            description=(
                "A recording cannot have been entered after the day of the extract it came from. Check "
                "the case-management system's export of the date/time entered."
            ),
            problem="Entered after the extract date: check the exported date/time entered",
            ge=AtLeast("as_of", "entered_on"),
            value_columns=("entered_at", "as_of"),
        ),
        Check(
            check_id=f"{t}.entered_at_not_before_1990",
            table=t,
            severity="error",
            title="Date entered not before 1990",
            description=(
                "A recording cannot have been entered before 1 January 1990. Check the case-management "
                "system's export of the date/time entered."
            ),
            problem="Entered before 1990: check the exported date/time entered",
            ge=Between("entered_on", min_value=_earliest),
            value_columns=("entered_at",),
        ),
        _code_check(
            t,
            "record_type",
            "Record Type",
            tuple(RECORD_TYPES),
            "case_note, visit, assessment, supervision, chronology, meeting, contact",
            severity="warning",
        ),
    ]


def _cross_table_checks() -> list[Check]:
    return [
        Check(
            check_id="cross_table.ethnicity_consistent",
            table=CROSS_TABLE,
            severity="warning",
            title="A child's ethnicity is the same on every record",
            description=(
                "A child recorded with two or more different known ethnicity codes across contacts, "
                "referrals, assessments and episodes. Find the correct ethnicity with the family and "
                "correct the records that differ (each row lists the codes recorded for the child)."
            ),
            problem="Child's ethnicity differs between records: correct the records that are wrong",
            sql=sql_checks.INCONSISTENT_ETHNICITY,
            kind="child",
        ),
        Check(
            check_id="cross_table.sex_consistent",
            table=CROSS_TABLE,
            severity="warning",
            title="A child's sex is the same on every record",
            description=(
                "A child recorded as M on some rows and F on others, in any extract loaded (every version "
                "of every contact, referral, assessment and episode, not only the current rows). Check the "
                "child's record and correct the rows that differ."
            ),
            problem="Child's sex differs between records: correct the records that are wrong",
            sql=sql_checks.INCONSISTENT_SEX,
            kind="child",
        ),
        Check(
            check_id="cross_table.date_of_birth_consistent",
            table=CROSS_TABLE,
            severity="warning",
            title="A child's date of birth is the same on every record",
            description=(
                "A child recorded with two or more different dates of birth, in any extract loaded (every "
                "version of every record; an expected date of birth of an unborn child is not compared). "
                "Check the date with the family and correct the rows that differ."
            ),
            problem="Child's date of birth differs between records: correct the records that are wrong",
            sql=sql_checks.INCONSISTENT_BIRTH_DATE,
            kind="child",
        ),
    ]


def _all_checks() -> list[Check]:
    checks: list[Check] = []
    for table in TABLES:
        checks += _key_checks(table)
        if table in CHILD_TABLES:
            checks += _child_attribute_checks(table)
        checks += _date_checks(table)
        checks += {
            "contacts": _contact_checks,
            "referrals": _referral_checks,
            "assessments": _assessment_checks,
            "cin_episodes": _cin_checks,
            "recordings": _recording_checks,
        }[table]()
    return checks + _cross_table_checks()


def _registry(checks: list[Check]) -> dict[str, Check]:
    registry: dict[str, Check] = {}
    for check in checks:
        if check.check_id in registry:
            raise ValueError(f"duplicate check id {check.check_id}")
        registry[check.check_id] = check
    return registry


REGISTRY: dict[str, Check] = _registry(_all_checks())


def ge_checks(table: str) -> list[Check]:
    """The Great Expectations checks of one canonical table (its suite), in registry order."""
    return [c for c in REGISTRY.values() if c.table == table and c.ge is not None]


def sql_check_list() -> list[Check]:
    """Every check that runs as SQL."""
    return [c for c in REGISTRY.values() if c.sql is not None]


# --- Child ids that look changed by Excel (issue 9) ---------------------------------------------

DAMAGED_CHILD_ID_FLAG = "child_id_looks_damaged"  # the flag the loaders set (ingest.normalise, same name)


def _damaged_child_id_checks() -> list[Check]:
    return [
        Check(
            check_id=f"{table}.child_id_looks_damaged",
            table=table,
            severity="warning",
            title="Child id as the case-management system wrote it",
            description=(
                f"The child id on the {ROW_NOUN[table]} looks changed by Excel: in scientific notation "
                "(1.2E+5), with thousands separators (1,005), starting with = or an apostrophe, or in "
                "full-width digits (１００５). It is kept as written, so the same child may be counted "
                "twice. Export the extract again straight from the case-management system, or format the "
                "child id column as Text in Excel before saving, and load it again."
            ),
            problem="Child id looks changed by Excel: export again, or format the column as Text",
            sql=sql_checks.flagged_rows(table, DAMAGED_CHILD_ID_FLAG, "child_id"),
        )
        for table in TABLES
    ]


REGISTRY = _registry(list(REGISTRY.values()) + _damaged_child_id_checks())
