"""The file's modules as DfE's validator sees them: one TEMP table per module, built in SQL from `staged_cin_elements`.

Each value is the text of the first element of that name in its group, exactly as written
(case-sensitive, untrimmed); dates are also given parsed (NULL when not a date), as DfE's
validator reads them. `dfe_census` holds the header and the census period: from the day after
ReferenceDate one year earlier, to ReferenceDate.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

import duckdb

from store.calendar import build_calendar

WORKING_DAYS_8670Q = 45

# module table -> (group, raw elements, parsed dates: column -> element); dfe_child first (the others join it)
MODULES: dict[str, tuple[str, tuple[str, ...], dict[str, str]]] = {
    "dfe_child": (
        "Child",
        (
            "LAchildID",
            "UPN",
            "PersonBirthDate",
            "ExpectedPersonBirthDate",
            "PersonDeathDate",
            "GenderCurrent",
            "Sex",
            "Ethnicity",
        ),
        {
            "birth_date": "PersonBirthDate",
            "expected_birth_date": "ExpectedPersonBirthDate",
            "death_date": "PersonDeathDate",
        },
    ),
    "dfe_cin": (
        "CINdetails",
        (
            "CINreferralDate",
            "ReferralSource",
            "PrimaryNeedCode",
            "CINclosureDate",
            "ReasonForClosure",
            "DateOfInitialCPC",
            "ReferralNFA",
        ),
        {"referral_date": "CINreferralDate", "closure_date": "CINclosureDate", "initial_cpc_date": "DateOfInitialCPC"},
    ),
    "dfe_assessment": (
        "Assessments",
        ("AssessmentActualStartDate", "AssessmentAuthorisationDate"),
        {"start_date": "AssessmentActualStartDate", "authorised_date": "AssessmentAuthorisationDate"},
    ),
    "dfe_s47": (
        "Section47",
        ("S47ActualStartDate", "DateOfInitialCPC"),
        {"s47_start_date": "S47ActualStartDate", "initial_cpc_date": "DateOfInitialCPC"},
    ),
    "dfe_cpp": (
        "ChildProtectionPlans",
        ("CPPstartDate", "CPPendDate"),
        {"cpp_start_date": "CPPstartDate", "cpp_end_date": "CPPendDate"},
    ),
    "dfe_plan": (
        "CINPlanDates",
        ("CINPlanStartDate", "CINPlanEndDate"),
        {"plan_start_date": "CINPlanStartDate", "plan_end_date": "CINPlanEndDate"},
    ),
}


def _first(element: str) -> str:
    return f"arg_min_null(value, seq) FILTER (WHERE element = '{element}') AS {element}"


def module_sql(group: str, elements: tuple[str, ...], dates: dict[str, str]) -> str:
    """One row per group element of the file with its raw values, parsed dates and the child's LAchildID.

    Modules other than `dfe_child` read the LAchildID from `dfe_child` (built first: one row per child), which
    costs half the planning of grouping the child's elements again in each.
    """
    values = ", ".join(_first(e) for e in elements)
    parsed = "".join(f", try_cast(trim({e}) AS DATE) AS {c}" for c, e in dates.items())
    child = "" if group == "Child" else ", c.LAchildID"
    join = "" if group == "Child" else " LEFT JOIN (SELECT child_pos, LAchildID FROM dfe_child) c USING (child_pos)"
    return (
        f"SELECT m.*{parsed}{child} FROM (SELECT child_pos, cin_pos, grp_pos, path, {values}"
        f" FROM staged_cin_elements WHERE grp = '{group}' GROUP BY child_pos, cin_pos, grp_pos, path) m{join}"
    )


def header(con: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    """The header's Year and ReferenceDate as written."""
    rows = con.execute(
        "SELECT element, value FROM staged_cin_elements WHERE grp = 'Header'"
        " AND element IN ('Year', 'ReferenceDate') ORDER BY seq DESC"
    ).fetchall()
    return dict(rows)


def _as_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "").strip()[:10])
    except ValueError:
        return None


def collection_year(year_text: str | None, reference: date | None) -> int | None:
    """The census year (by its end) the file is for: header Year when it is a year, else ReferenceDate's census year."""
    text = (year_text or "").strip()
    if text.isdigit() and len(text) == 4:
        return int(text)
    if reference is None:
        return None
    return reference.year if (reference.month, reference.day) <= (3, 31) else reference.year + 1


def census_start(reference: date) -> date:
    """First day of the census period ending on `reference`: the day after the same date a year earlier."""
    try:
        return reference.replace(year=reference.year - 1) + timedelta(days=1)
    except ValueError:  # 29 February: a year earlier is 28 February
        return date(reference.year - 1, 3, 1)


def working_day_before(con: duckdb.DuckDBPyConnection, day: date, count: int) -> date:
    """The `count`-th working day before `day` (`day` itself not counted, whether or not it is a working day).

    Read from the store's calendar when it covers the days (a store's, built by store.calendar),
    else from a calendar of just those days.
    """
    first = day - timedelta(days=3 * count + 30)
    if not _store_calendar_covers(con, first, day):
        return _working_day_before(first, day, count)
    return con.execute(_NTH_WORKING_DAY_BEFORE.format(table="calendar"), [day, count - 1]).fetchall()[0][0]


_NTH_WORKING_DAY_BEFORE = "SELECT day FROM {table} WHERE is_working_day AND day < ? ORDER BY day DESC LIMIT 1 OFFSET ?"


@lru_cache(maxsize=64)
def _working_day_before(first: date, day: date, count: int) -> date:
    """`working_day_before` from a calendar of the days `first` to `day`, once per process for each (the bank
    holidays do not change while it runs; a file's ReferenceDate is usually one of a few census days)."""
    with duckdb.connect() as con:
        build_calendar(con, first, day, table="_dfe_calendar", temporary=True)
        return con.execute(_NTH_WORKING_DAY_BEFORE.format(table="_dfe_calendar"), [day, count - 1]).fetchall()[0][0]


def _store_calendar_covers(con: duckdb.DuckDBPyConnection, first: date, last: date) -> bool:
    present = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'calendar' AND schema_name = 'main' AND NOT temporary"
    ).fetchall()[0][0]
    if not present:
        return False
    return bool(con.execute("SELECT min(day) <= ? AND max(day) >= ? FROM calendar", [first, last]).fetchall()[0][0])


def modules_read(sqls: Iterable[str]) -> tuple[str, ...]:
    """The module tables these rule statements read, in build order; `dfe_child` always (the others join it)."""
    text = " ".join(sqls)
    return tuple(t for t in MODULES if t == "dfe_child" or re.search(rf"\b{t}\b", text))


def build_census(con: duckdb.DuckDBPyConnection) -> int | None:
    """Create `dfe_census` from the header; returns the census year the file is for."""
    head = header(con)
    reference = _as_date(head.get("ReferenceDate"))
    year = collection_year(head.get("Year"), reference)
    start = census_start(reference) if reference else None
    deadline = working_day_before(con, reference, WORKING_DAYS_8670Q) if reference else None
    con.execute(
        "CREATE OR REPLACE TEMP TABLE dfe_census AS SELECT ? AS year_text, ? AS reference_text,"
        " CAST(? AS DATE) AS reference_date, CAST(? AS DATE) AS census_start, CAST(? AS INTEGER) AS"
        " collection_year, CAST(? AS DATE) AS open_assessment_deadline",
        [head.get("Year"), head.get("ReferenceDate"), reference, start, year, deadline],
    )
    return year


def build_modules(con: duckdb.DuckDBPyConnection, tables: Iterable[str] = tuple(MODULES)) -> None:
    """Create the module TEMP tables named (all by default; each costs ~5-9 ms to plan, whatever the file's size)."""
    for table in tables:
        group, elements, dates = MODULES[table]
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {module_sql(group, elements, dates)}")


def drop_modules(con: duckdb.DuckDBPyConnection) -> None:
    for table in (*MODULES, "dfe_census"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
