"""docs/CHECKS.md, generated from the check registry (`python -m expectations docs`); a test keeps the file current."""

from __future__ import annotations

from expectations.checks import REGISTRY, TABLES
from expectations.dfe_cin.model import FIRST_YEAR, LAST_YEAR, DfeRule
from expectations.dfe_cin.registry import RULES as DFE_RULES
from expectations.model import CROSS_TABLE, DEFAULT_ETHNICITY_THRESHOLD, DEFAULT_MAX_FAILURE_ROWS, Check

INTRO = f"""# Data quality checks

Generated from `expectations/checks.py` by `python -m expectations docs > docs/CHECKS.md`; do not edit by hand.

These are this product's own checks, on the merged store; none carries a DfE code. DfE's CIN
census rules are run as DfE runs them, on each CIN census file as submitted: see the last section.

Every load runs these checks on the load's working copy before it is published
(`ingest.publish.finalise` → `expectations.runner.validate_store`). Results are stored per load
in `dq_results` (one row per check: success, rows checked, rows failing, percentage) and the failing
rows in `dq_failures` (child id, source file, sheet, row number, value, what is wrong; at most
{DEFAULT_MAX_FAILURE_ROWS:,} rows per check are kept, the count is always exact). Re-run on demand with
`python -m expectations validate [--store PATH] [--format json] [--save]`.

- **Engine.** Checks on one table are Great Expectations 1.x expectations (one suite per canonical
  table, validated on data frames taken from DuckDB); their failing rows are found by the same
  predicate in SQL. Checks across rows or tables, on list columns or on rejected rows, and the key
  and child-id checks (DuckDB finds repeats among 20 M keys in seconds, pandas in half a minute)
  run as SQL and are reported in the same form (`expectation` = `sql`).
- **What a load re-checks** (the *kind* column). Every check's failing rows are kept in the store
  (`dq_failing_units`: per child, or record for recordings, how many of its rows fail). A
  load re-runs a check only where the merge touched (`expectations/incremental.py`); the kept rows
  of everything else carry forward, and the counts are worked out in SQL, so each load's results
  describe the whole store exactly as a run on the whole store would. *row*: each row on its own
  values, re-checked on the rows the load inserted or replaced (Great Expectations runs on a frame of
  those rows); *key*: rows sharing a key, re-checked for the keys touched; *child*: a child's rows
  compared with each other or across tables and versions, re-checked for every row of the children
  touched; *aggregate*: a share over the whole table, whose failing rows are re-checked as *row* and
  whose success is worked out from the kept rows and the rows checked; *load*: the files loaded since
  the previous validation. A check whose kept rows may be stale (none yet, a load published without
  checks, the check's SQL changed, or for the referral count a new earliest referral) runs on the
  whole store, as does every check in `python -m expectations validate` and in a full rebuild.
- **Extract date.** "After the extract date" means after the as-of date of the extract the row came
  from (its `as_of`; never later than the store's latest as-of date in `loads`): a date after the
  extract that carries it is impossible, and an assessment still open at that extract's date
  is measured to it (the open-assessment check).
- **Which rows.** Record checks look at the store's current rows (one per natural key).
  File checks (*rows_rejected*, *duplicates_in_extract*) look at the files loaded since the previous
  validation, so each load reports on its own extracts.
- **Ethnicity completeness threshold.** Default {DEFAULT_ETHNICITY_THRESHOLD:.0%}; set
  `FRONTDOOR_ETHNICITY_THRESHOLD` (0–1 or a percentage) or `--ethnicity-threshold`.
- **Working days** (the open-assessment check) come from the store's `calendar` table: days after the start up to and
  including the extract date, Monday–Friday less England & Wales bank holidays (a start 45 working
  days before the extract date passes, 46 fails).
- **Data Docs** (counts only, no child-level values) are built after each validation beside the
  store (after a load, of Great Expectations' run on the rows the load added or changed, one suite per
  table it touched; `python -m expectations validate` builds them for the whole store), in `<store>.data_docs/` (`data/demo.duckdb.data_docs/` for the demo; `--data-docs` overrides,
  `FRONTDOOR_DATA_DOCS=off` builds none), with every asset vendored (no internet needed); the Data
  quality page copies the current store's into `static/data_docs/<store key>/` and links there.
- **Speed.** Great Expectations validates data frames taken out of DuckDB (dates as nanosecond
  timestamps, codes as categoricals) while the SQL checks run alongside in DuckDB; the national-scale
  store (37 M rows) validates in under a minute on two cores (`python -m benchmarks.bench_expectations`).
- **Severity.** *error*: the record is wrong and must be corrected; *warning*: worth checking,
  may be legitimate.
"""

HEADINGS: dict[str, str] = {
    "contacts": "Contacts (Annex A List 1)",
    "referrals": "Referrals (Annex A List 3, CIN census)",
    "assessments": "Assessments (Annex A List 4, CIN census)",
    "cin_episodes": "Child-in-need episodes (Annex A List 6, CIN census)",
    "recordings": "Recordings (case-recording extract)",
    CROSS_TABLE: "Across tables",
}


def _row(check: Check) -> str:
    cells = [
        f"`{check.check_id}`",
        check.dfe_code or "",
        check.severity,
        check.kind,
        f"`{check.expectation}`",
        f"**{check.title}.** {check.description}",
    ]
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


DFE_INTRO = """## DfE CIN census rules, run on each file as submitted

Declared once each in `expectations/dfe_cin/` (code, DfE message, DfE wording, type, census years,
SQL). Each CIN census file is read a second time, element by element, exactly as written
(case-sensitive, before normalising, merging or collapsing duplicates), and the rule set of the
file's census year is run on it: the year is the header `Year` (the census year's end, 2023 =
2022-23), else the census year of `ReferenceDate`; files before 2022-23 get the 2022-23 rule set,
the earliest DfE publishes. The census period runs from the day after ReferenceDate a year earlier
to ReferenceDate. Findings are stored per load and file in `dfe_findings` (element path, LAchildID
as written, offending values) and `dfe_rule_runs`; *error* blocks the return, *query* must be
corrected or explained.

Readings of DfE's wording: **8670Q** "ReferenceDate minus 45 working days" is the 45th working day
before ReferenceDate, ReferenceDate itself not counted whether or not it is a working day (as
Monday minus one working day is the Friday before); an open assessment starting before that day is
queried. **8820** "between" is on or after the other episode's referral date and before its closure
date (or ReferenceDate), so two episodes of a child on one day overlap unless the other is closed
that day or is an open NFA referral. **8816** an episode whose referral date equals the child's
latest is "the latest". **8568** and the NFA conditions of 8815, 8816, 8820, 8831, 4000, 8832 read
ReferralNFA as the schema's xs:boolean, case-sensitive (`true`, `false`, `1`, `0`). **8831**,
**8565**, **2990**: DateOfInitialCPC counts in the CINdetails and in its Section47.
"""


def _years(rule: DfeRule) -> str:
    first = "" if rule.first_year <= FIRST_YEAR else f"{rule.first_year - 1}-{rule.first_year % 100:02d}"
    last = "" if rule.last_year >= LAST_YEAR else f"{rule.last_year - 1}-{rule.last_year % 100:02d}"
    return f"{first or '2022-23'} to {last}" if last else f"{first or '2022-23'} on"


def _dfe_row(rule: DfeRule) -> str:
    cells = [rule.code, rule.rule_type, _years(rule), rule.message, rule.wording, rule.elements]
    return "| " + " | ".join(c.replace("|", "\\|").replace("<", "&lt;") for c in cells) + " |"


def dfe_rules_markdown() -> str:
    """The DfE rules section of docs/CHECKS.md."""
    return "\n".join(
        [
            DFE_INTRO,
            "| rule | type | census years | DfE message | DfE wording | elements |",
            "|---|---|---|---|---|---|",
            *(_dfe_row(r) for r in DFE_RULES),
            "",
        ]
    )


def checks_markdown() -> str:
    """The catalogue of checks as Markdown."""
    lines = [INTRO]
    for table in (*TABLES, CROSS_TABLE):
        checks = [c for c in REGISTRY.values() if c.table == table]
        if not checks:
            continue
        lines += [
            f"## {HEADINGS[table]}",
            "",
            "| check | DfE | severity | kind | expectation | what it checks and how to fix |",
            "|---|---|---|---|---|---|",
            *(_row(c) for c in checks),
            "",
        ]
    lines.append(dfe_rules_markdown())
    return "\n".join(lines)
