"""The canonical store's tables, their grain, natural keys and columns: the one definition every layer uses."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One column of a store table."""

    name: str
    type: str
    description: str


@dataclass(frozen=True)
class Entity:
    """A canonical event table: one row per natural key, all versions kept in `<name>_versions`."""

    name: str
    grain: str
    natural_key: tuple[str, ...]
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def versions_table(self) -> str:
        return f"{self.name}_versions"


def _c(name: str, type_: str, description: str) -> Column:
    return Column(name, type_, description)


# Child attributes as recorded on an event row (Annex A lists carry them on every row).
CHILD_ATTRIBUTES: tuple[Column, ...] = (
    _c("sex", "VARCHAR", "M, F or U (normalised); an unmappable value is kept verbatim and flagged"),
    _c(
        "ethnicity",
        "VARCHAR",
        "DfE ethnicity code (18 known, REFU, NOBT); unmappable kept verbatim and flagged; NULL when missing",
    ),
    _c("date_of_birth", "DATE", "date of birth as recorded on this row"),
    _c("age_years", "DOUBLE", "age as recorded on this row (Annex A 'Age of Child (Years)'), not recomputed"),
)

# Where each row came from: added to every staged, version and canonical row.
PROVENANCE: tuple[Column, ...] = (
    _c("load_id", "INTEGER", "the load (see `loads`) that brought this version"),
    _c("source_file", "VARCHAR", "file name of the extract"),
    _c("sheet", "VARCHAR", "sheet name (Annex A), list name (per-list CSV) or XML element path"),
    _c(
        "row_number",
        "INTEGER",
        "1-based row number in the sheet or CSV (header row included), or the Child's position in the XML",
    ),
    _c(
        "as_of",
        "DATE",
        "as-of date of the extract (--as-of, else a CIN census ReferenceDate, else its latest event date)",
    ),
    _c("flags", "VARCHAR[]", "normalisation notes on this row, e.g. 'ethnicity_unmapped'"),
)

# What a reader stages: entity columns + these (the pipeline adds load_id, source_file, as_of).
STAGED_PROVENANCE: tuple[str, ...] = ("sheet", "row_number", "flags")

CONTACTS = Entity(
    name="contacts",
    grain="one contact about one child (Annex A List 1)",
    natural_key=("child_id", "contact_date", "contact_source"),
    columns=(
        _c("child_id", "VARCHAR", "Child Unique ID / LAchildID, normalised (1005, 1005.0 and '1005' are one child)"),
        _c("contact_date", "DATE", "Date of Contact"),
        _c("contact_source", "VARCHAR", "contact source as a DfE referral-source code (1A ... 10)"),
        *CHILD_ATTRIBUTES,
    ),
)

REFERRALS = Entity(
    name="referrals",
    grain="one referral of one child on one date (Annex A List 3; CIN census CINdetails)",
    natural_key=("child_id", "referral_date"),
    columns=(
        _c("child_id", "VARCHAR", "normalised child id"),
        _c("referral_date", "DATE", "Date of Referral / CINreferralDate"),
        _c("referral_source", "VARCHAR", "DfE referral-source code (1A ... 10)"),
        _c("nfa", "BOOLEAN", "Referral NFA? (no further action)"),
        _c("referrals_last_12m", "INTEGER", "Annex A 'Number of Referrals in Last 12 Months' as reported"),
        _c("team", "VARCHAR", "Allocated Team"),
        _c("worker", "VARCHAR", "Allocated Worker"),
        *CHILD_ATTRIBUTES,
    ),
)

ASSESSMENTS = Entity(
    name="assessments",
    grain="one continuous (single) assessment of one child, by start date (Annex A List 4; CIN census Assessments)",
    natural_key=("child_id", "start_date"),
    columns=(
        _c("child_id", "VARCHAR", "normalised child id"),
        _c("start_date", "DATE", "Continuous Assessment Start Date / AssessmentActualStartDate"),
        _c("authorised_date", "DATE", "Date of Authorisation; NULL while the assessment is open"),
        _c(
            "referral_date",
            "DATE",
            "the episode's referral date where the extract gives it (CIN census); NULL in Annex A",
        ),
        _c("child_seen", "BOOLEAN", "Child Seen During Continuous Assessment"),
        _c("requires_support", "BOOLEAN", "assessed as requiring LA children's social care support"),
        _c("disabled", "BOOLEAN", "Does the Child have a Disability"),
        _c("factors", "VARCHAR[]", "assessment factor codes (CIN census)"),
        _c("team", "VARCHAR", "Allocated Team"),
        _c("worker", "VARCHAR", "Allocated Worker"),
        *CHILD_ATTRIBUTES,
    ),
)

CIN_EPISODES = Entity(
    name="cin_episodes",
    grain="one child-in-need episode of one child, by start date (Annex A List 6; CIN census CINdetails)",
    natural_key=("child_id", "start_date"),
    columns=(
        _c("child_id", "VARCHAR", "normalised child id"),
        _c("start_date", "DATE", "CIN Start Date / CINreferralDate"),
        _c("referral_source", "VARCHAR", "DfE referral-source code where the extract gives it (CIN census)"),
        _c("nfa", "BOOLEAN", "ReferralNFA where the extract gives it (CIN census)"),
        _c("primary_need", "VARCHAR", "Primary Need Code N0 ... N9"),
        _c("closure_date", "DATE", "CIN Closure Date; NULL while open"),
        _c("closure_reason", "VARCHAR", "Reason for Closure RC1 ... RC9"),
        _c("case_status", "VARCHAR", "Case Status as recorded (Annex A)"),
        _c("last_seen_date", "DATE", "Date Child Was Last Seen"),
        _c("disabled", "BOOLEAN", "Does the Child have a Disability / any Disability other than NONE"),
        _c("disabilities", "VARCHAR[]", "disability codes (CIN census)"),
        _c("team", "VARCHAR", "Allocated Team"),
        _c("worker", "VARCHAR", "Allocated Worker"),
        *CHILD_ATTRIBUTES,
    ),
)

RECORDINGS = Entity(
    name="recordings",
    grain="one item recorded on a child's case file (the project's case-recording extract)",
    natural_key=("record_id",),
    columns=(
        _c("record_id", "VARCHAR", "Record ID, unique in the case-management system"),
        _c("child_id", "VARCHAR", "normalised child id"),
        _c("record_type", "VARCHAR", "Record Type, normalised to snake case (case_note, visit, assessment, ...)"),
        _c("event_date", "DATE", "the date the recorded event happened"),
        _c("entered_at", "TIMESTAMP", "when it was written up; NULL when not yet written up"),
        _c("worker", "VARCHAR", "Worker who recorded it"),
        _c("team", "VARCHAR", "Team"),
        _c(
            "child_views_recorded",
            "BOOLEAN",
            "whether the child's views are recorded (NULL when the extract does not say)",
        ),
    ),
)

ENTITIES: dict[str, Entity] = {e.name: e for e in (CONTACTS, REFERRALS, ASSESSMENTS, CIN_EPISODES, RECORDINGS)}

_CHILD_FIELDS = frozenset({"child_id", "sex", "ethnicity", "date_of_birth"})

# Which columns each source format carries, per table (natural key included). The merge takes each
# field from the newest version whose format carries it: a newer file of a format that does not
# carry a field never blanks it; a file that carries it and leaves it empty does ("not recorded").
# A format not named here (hand-built test stores) carries every column.
SOURCE_FIELDS: dict[str, dict[str, frozenset[str]]] = {
    "annex_a": {
        "contacts": frozenset(CONTACTS.column_names),
        "referrals": frozenset(REFERRALS.column_names),
        "assessments": frozenset(ASSESSMENTS.column_names) - {"referral_date", "factors"},
        "cin_episodes": frozenset(CIN_EPISODES.column_names) - {"referral_source", "nfa", "disabilities"},
    },
    "cin_census": {
        "referrals": _CHILD_FIELDS | {"referral_date", "referral_source", "nfa"},
        "assessments": frozenset(ASSESSMENTS.column_names)
        - {"child_seen", "requires_support", "team", "worker", "age_years"},
        "cin_episodes": frozenset(CIN_EPISODES.column_names)
        - {"case_status", "last_seen_date", "team", "worker", "age_years"},
    },
    "case_recording": {"recordings": frozenset(RECORDINGS.column_names)},
}


def carried_columns(source_format: str, entity: str) -> list[str]:
    """The columns of `entity` that a file of `source_format` carries, in table order (all for an unknown format)."""
    carried = SOURCE_FIELDS.get(source_format, {}).get(entity)
    return [c for c in ENTITIES[entity].column_names if carried is None or c in carried]


def non_carriers(entity: str, column: str) -> tuple[str, ...]:
    """The declared formats that hold rows of `entity` but do not carry `column` (sorted)."""
    return tuple(sorted(f for f, tables in SOURCE_FIELDS.items() if entity in tables and column not in tables[entity]))


# Which load supplied the fields a canonical row did not take from its own (newest) version.
FIELD_LOADS = _c(
    "field_loads",
    "MAP(VARCHAR, INTEGER)",
    "canonical table only: for each field taken from an older version because the newest version's "
    "format does not carry it, the load that supplied it (e.g. child_seen -> an Annex A load under a "
    "newer CIN census row); every other field comes from this row's `load_id`",
)

CHILDREN_COLUMNS: tuple[Column, ...] = (
    _c("child_id", "VARCHAR", "normalised child id"),
    _c("sex", "VARCHAR", "latest recorded sex"),
    _c("ethnicity", "VARCHAR", "latest recorded ethnicity (non-missing where any record has one)"),
    _c(
        "ethnicities_recorded",
        "VARCHAR[]",
        "every distinct non-missing ethnicity recorded for the child, in any version of any record",
    ),
    _c("date_of_birth", "DATE", "latest recorded date of birth"),
    _c("disabled", "BOOLEAN", "latest recorded disability flag"),
    _c("first_seen", "DATE", "earliest event date across all tables"),
    _c("last_seen", "DATE", "latest event date across all tables"),
)

LOADS_COLUMNS: tuple[Column, ...] = (
    _c("load_id", "INTEGER", "sequence number of the load"),
    _c("source_file", "VARCHAR", "file name"),
    _c("sha256", "VARCHAR", "content hash; a file with a hash already loaded changes nothing"),
    _c("format", "VARCHAR", "annex_a, cin_census or case_recording"),
    _c("as_of", "DATE", "as-of date used to order overlapping extracts"),
    _c("loaded_at", "TIMESTAMP", "when the load was published"),
    _c("rows_read", "INTEGER", "source rows read"),
    _c("rows_loaded", "INTEGER", "rows that became versions"),
    _c("rows_rejected", "INTEGER", "rows kept in `rejects`"),
    _c("rows_superseded", "INTEGER", "versions from this file that lost to a version with a later as-of"),
    _c("rows_unchanged", "INTEGER", "rows identical to the version already current"),
    _c("notices", "VARCHAR[]", "notices from the reader, e.g. lists skipped"),
    _c("event_date_min", "DATE", "earliest event date in the file"),
    _c("event_date_max", "DATE", "latest event date in the file"),
)

REJECTS_COLUMNS: tuple[Column, ...] = (
    _c("load_id", "INTEGER", "the load"),
    _c("source_file", "VARCHAR", "file name"),
    _c("sheet", "VARCHAR", "sheet / list / XML element"),
    _c("row_number", "INTEGER", "row number in the sheet or CSV, or the Child's position in the XML"),
    _c("entity", "VARCHAR", "the table the row was meant for"),
    _c("raw", "JSON", "the raw values of the row, by original heading"),
    _c("reason", "VARCHAR", "why it could not be loaded"),
)

DQ_RESULTS_COLUMNS: tuple[Column, ...] = (
    _c("load_id", "INTEGER", "the load after which the check ran (latest load id at validation time)"),
    _c("run_at", "TIMESTAMP", "when the check ran"),
    _c("table_name", "VARCHAR", "canonical table checked ('cross_table' for cross-table checks)"),
    _c("check_id", "VARCHAR", "stable identifier of the check"),
    _c("expectation", "VARCHAR", "Great Expectations expectation type, or 'sql' for SQL checks"),
    _c("dfe_code", "VARCHAR", "DfE validation rule code, if the check mirrors one"),
    _c("severity", "VARCHAR", "error or warning"),
    _c("description", "VARCHAR", "plain-English description and how to fix the record"),
    _c("success", "BOOLEAN", "whether the check passed"),
    _c("element_count", "BIGINT", "rows checked"),
    _c("unexpected_count", "BIGINT", "rows failing"),
    _c("unexpected_percent", "DOUBLE", "percentage of rows failing"),
    _c("engine", "VARCHAR", "great_expectations or sql"),
)

DQ_FAILURES_COLUMNS: tuple[Column, ...] = (
    _c("load_id", "INTEGER", "as in dq_results"),
    _c("check_id", "VARCHAR", "as in dq_results"),
    _c("table_name", "VARCHAR", "canonical table"),
    _c("child_id", "VARCHAR", "child the failing row is about"),
    _c("source_file", "VARCHAR", "file the row came from"),
    _c("sheet", "VARCHAR", "sheet"),
    _c("row_number", "INTEGER", "row number"),
    _c("value", "VARCHAR", "the failing value(s)"),
    _c("problem", "VARCHAR", "what is wrong, in plain English"),
)

DQ_FAILING_UNITS_COLUMNS: tuple[Column, ...] = (
    _c("check_id", "VARCHAR", "the check (as in dq_results), as of the latest validation"),
    _c(
        "unit",
        "VARCHAR",
        "what a load re-checks rows by: the child id (the record id for recordings; NULL for checks of new files)",
    ),
    _c("failing", "BIGINT", "rows of that child (record) that fail the check"),
)

DQ_CHECKED_UNITS_COLUMNS: tuple[Column, ...] = (
    _c(
        "check_id",
        "VARCHAR",
        "a check whose rows checked are not a plain count of a table (see expectations/checks.py)",
    ),
    _c("unit", "VARCHAR", "child id (as in dq_failing_units)"),
    _c("checked", "BIGINT", "rows of that child the check looked at"),
)

DQ_CHECK_STATE_COLUMNS: tuple[Column, ...] = (
    _c("check_id", "VARCHAR", "a check whose failing rows are counted per child in dq_failing_units"),
    _c("load_id", "INTEGER", "the latest load of the store when the counts were last brought up to date"),
    _c("definition", "VARCHAR", "hash of the check's SQL then: a changed check is re-run on the whole store"),
    _c("depends_on", "VARCHAR", "a store-wide value the check reads (e.g. the earliest referral), as text"),
)

DQ_CHILD_ATTRIBUTES_COLUMNS: tuple[Column, ...] = (
    _c("child_id", "VARCHAR", "a child with version rows (of contacts, referrals, assessments or CIN episodes)"),
    *(
        column
        for attribute, shown in (
            ("ethnicity", "known ethnicity code"),
            ("sex", "sex (M or F)"),
            ("birth", "date of birth"),
        )
        for column in (
            _c(f"{attribute}_lo", "VARCHAR", f"lowest {shown} among the child's version rows (as text)"),
            _c(f"{attribute}_hi", "VARCHAR", f"highest {shown} among them"),
            _c(f"{attribute}_n", "BIGINT", f"version rows recording a {shown}"),
        )
    ),
)

DQ_CHILD_ATTRIBUTES_STATE_COLUMNS: tuple[Column, ...] = (
    _c("load_id", "INTEGER", "the latest load of the store when dq_child_attributes was last brought up to date"),
    _c("definition", "VARCHAR", "the SQL it was built with (a hash): a changed one is rebuilt on the whole store"),
)

DFE_RULE_RUNS_COLUMNS: tuple[Column, ...] = (
    _c("load_id", "INTEGER", "the load of the CIN census file checked"),
    _c("source_file", "VARCHAR", "file name"),
    _c(
        "collection_year",
        "INTEGER",
        "census year the rules were chosen for, by its end (2024 = 2023-24): header Year, else ReferenceDate",
    ),
    _c("reference_date", "DATE", "header ReferenceDate (end of the census period); NULL when absent or not a date"),
    _c("children", "INTEGER", "Child elements in the file"),
    _c("rules_run", "VARCHAR[]", "codes of the DfE rules run for that year"),
    _c("errors", "INTEGER", "findings of error rules (they block the return)"),
    _c("queries", "INTEGER", "findings of query rules (to correct or explain)"),
)

DFE_FINDINGS_COLUMNS: tuple[Column, ...] = (
    _c("load_id", "INTEGER", "as in dfe_rule_runs"),
    _c("source_file", "VARCHAR", "file name"),
    _c("rule_code", "VARCHAR", "DfE rule code (8820, 8670Q, ...)"),
    _c("rule_type", "VARCHAR", "error (blocks the return) or query (correct or explain)"),
    _c("message", "VARCHAR", "DfE's message for the rule"),
    _c("element_path", "VARCHAR", "element path of the offending group, e.g. Child[14]/CINdetails[2]/Assessments[1]"),
    _c("row_number", "INTEGER", "the Child's 1-based position in the file (0 for the Header)"),
    _c("la_child_id", "VARCHAR", "LAchildID exactly as written in the file"),
    _c("elements", "VARCHAR", "the elements the rule reads"),
    _c("offending_values", "VARCHAR", "the values as written that make the rule fail"),
)

STORE_SCHEMA_COLUMNS: tuple[Column, ...] = (
    _c(
        "fingerprint",
        "VARCHAR",
        "hash of the schema's statements the store was last brought up to date with (one row): a load runs them only"
        " when it differs",
    ),
)

SUPPORT_TABLES: dict[str, tuple[Column, ...]] = {
    "loads": LOADS_COLUMNS,
    "rejects": REJECTS_COLUMNS,
    "children": CHILDREN_COLUMNS,
    "dq_results": DQ_RESULTS_COLUMNS,
    "dq_failures": DQ_FAILURES_COLUMNS,
    "dq_failing_units": DQ_FAILING_UNITS_COLUMNS,
    "dq_checked_units": DQ_CHECKED_UNITS_COLUMNS,
    "dq_check_state": DQ_CHECK_STATE_COLUMNS,
    "dq_child_attributes": DQ_CHILD_ATTRIBUTES_COLUMNS,
    "dq_child_attributes_state": DQ_CHILD_ATTRIBUTES_STATE_COLUMNS,
    "dfe_rule_runs": DFE_RULE_RUNS_COLUMNS,
    "dfe_findings": DFE_FINDINGS_COLUMNS,
    "store_schema": STORE_SCHEMA_COLUMNS,
}


def _ddl(table: str, columns: tuple[Column, ...] | list[Column]) -> str:
    cols = ",\n  ".join(f"{c.name} {c.type}" for c in columns)
    return f"CREATE TABLE IF NOT EXISTS {table} (\n  {cols}\n)"


def entity_ddl(entity: Entity, table: str | None = None) -> str:
    """DDL of a version or canonical table of an entity: entity columns then provenance (and field_loads if canonical)."""
    canonical = table is None or table == entity.name
    return _ddl(table or entity.name, list(entity.columns) + list(PROVENANCE) + ([FIELD_LOADS] if canonical else []))


def all_ddl() -> list[str]:
    """Every CREATE TABLE statement of the store, in dependency order."""
    statements = [_ddl(name, cols) for name, cols in SUPPORT_TABLES.items()]
    for entity in ENTITIES.values():
        statements.append(entity_ddl(entity, entity.versions_table))
        statements.append(entity_ddl(entity))
    return statements


def schema_markdown() -> str:
    """The store's schema as Markdown (docs/SCHEMA.md is generated from this)."""
    lines = [
        "# Store schema",
        "",
        "Generated from `store/schema.py` by `python -m store schema`; do not edit by hand.",
        "",
    ]
    for entity in ENTITIES.values():
        lines += [
            f"## `{entity.name}` (and `{entity.versions_table}`)",
            "",
            f"Grain: {entity.grain}. Natural key: {', '.join(entity.natural_key)}.",
            "",
            "`"
            + entity.versions_table
            + "` holds every version from every load; `"
            + entity.name
            + "` holds the current one per natural key: each field from the newest version whose source"
            " format carries it (latest as-of wins).",
            "",
            "| column | type | meaning |",
            "|---|---|---|",
        ]
        lines += [
            f"| {c.name} | {c.type} | {c.description} |"
            for c in list(entity.columns) + list(PROVENANCE) + [FIELD_LOADS]
        ]
        lines += [
            "",
            "Carried by: "
            + "; ".join(
                f"{fmt} ({'all columns' if set(tables[entity.name]) == set(entity.column_names) else ', '.join(carried_columns(fmt, entity.name))})"
                for fmt, tables in SOURCE_FIELDS.items()
                if entity.name in tables
            )
            + ".",
            "",
        ]
    for name, cols in SUPPORT_TABLES.items():
        lines += [f"## `{name}`", "", "| column | type | meaning |", "|---|---|---|"]
        lines += [f"| {c.name} | {c.type} | {c.description} |" for c in cols]
        lines.append("")
    return "\n".join(lines)
