"""Every data quality check on two small stores: one that breaks each check a known number of times, one clean.

The faulty store is the clean store plus "breakers": each adds rows for fresh children that break
one check (and, where a fault cannot help breaking another check too, says which in `also`). The
expected count of every check is the sum over breakers, and the failing rows must name exactly the
breakers' children, so a check that finds too much, too little or the wrong rows fails here.
"""

from __future__ import annotations

import functools
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from expectations.checks import CHILD_TABLES, DATE_HEADINGS, REGISTRY
from expectations.runner import validate_store
from store.connection import open_for_update, open_read
from store.schema import ENTITIES
from tests.storekit import build_store

AS_OF = date(2025, 3, 31)  # a Monday
OLD = date(1985, 1, 1)


def valid_row(table: str, child: str, n: int = 0, **overrides: Any) -> dict[str, Any]:
    """A row of `table` that passes every check (n varies the key so rows of one child stay distinct)."""
    child_attrs = {"sex": "F", "ethnicity": "WBRI", "date_of_birth": date(2015, 6, 1)}
    rows: dict[str, dict[str, Any]] = {
        "contacts": {"contact_date": date(2024, 6, 3 + n), "contact_source": "6", **child_attrs},
        "referrals": {"referral_date": date(2024, 6, 10 + n), "referral_source": "2A", "nfa": False, **child_attrs},
        "assessments": {
            "start_date": date(2024, 6, 11 + n),
            "authorised_date": date(2024, 7, 1 + n),
            "referral_date": date(2024, 6, 10 + n),
            "child_seen": True,
            **child_attrs,
        },
        # a child's episodes follow one another (n months apart, each closed after 20 days)
        "cin_episodes": {
            "start_date": date(2024, 6 + n, 10),
            "closure_date": date(2024, 6 + n, 30),
            "closure_reason": "RC7",
            "primary_need": "N1",
            "referral_source": "2A",
            "disabilities": ["NONE"],
            "last_seen_date": date(2024, 6 + n, 20),
            **child_attrs,
        },
        "recordings": {
            "record_id": f"{child}-r{n}",
            "record_type": "visit",
            "event_date": date(2024, 6, 12 + n),
            "entered_at": datetime(2024, 6, 13 + n, 10, 0),
        },
    }
    return {"child_id": child, **rows[table], **overrides}


def clean_rows() -> dict[str, list[dict[str, Any]]]:
    """Valid rows, including the boundary cases each check must let pass."""
    rows: dict[str, list[dict[str, Any]]] = {t: [valid_row(t, "clean-1", i) for i in range(3)] for t in ENTITIES}
    rows["assessments"] += [
        # open exactly 45 working days at the extract date (Mon 27 Jan -> Mon 31 Mar 2025): not overdue
        valid_row(
            "assessments", "clean-open45", start_date=date(2025, 1, 27), authorised_date=None, referral_date=None
        ),
        # authorised the day it started
        valid_row(
            "assessments",
            "clean-sameday",
            start_date=date(2024, 5, 1),
            authorised_date=date(2024, 5, 1),
            referral_date=date(2024, 5, 1),
        ),
    ]
    rows["cin_episodes"] += [
        # closed on the day the next episode starts: not an overlap (8820)
        valid_row("cin_episodes", "clean-8820", start_date=date(2024, 1, 10), closure_date=date(2024, 4, 1)),
        valid_row("cin_episodes", "clean-8820", start_date=date(2024, 4, 1), closure_date=None, closure_reason=None),
    ]
    rows["recordings"] += [
        # entered late on the extract day itself
        valid_row("recordings", "clean-late", event_date=AS_OF, entered_at=datetime(2025, 3, 31, 23, 59)),
        # not written up yet
        valid_row("recordings", "clean-pending", 1, entered_at=None),
    ]
    # Annex A count right: the latest referral 2024-06-10 has 2 referrals in the 12 months before it.
    history = [date(2023, 1, 10), date(2023, 9, 1), date(2024, 3, 1), date(2024, 6, 10)]
    rows["referrals"] += [valid_row("referrals", "clean-count", referral_date=d, referrals_last_12m=2) for d in history]
    rows["contacts"] += [valid_row("contacts", "clean-unborn", date_of_birth=date(2025, 9, 30))]
    return rows


@dataclass
class Breaker:
    """Rows for `n` fresh children that break `check_id`, and the other checks they cannot help breaking."""

    check_id: str
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    also: tuple[str, ...] = ()
    children: set[str] = field(default_factory=set)
    count: int = 1  # failing rows for check_id (and for each check in `also`)


def _one(check_id: str, table: str, also: tuple[str, ...] = (), **overrides: Any) -> Breaker:
    child = f"bad:{check_id}"
    return Breaker(check_id, {table: [valid_row(table, child, **overrides)]}, also, {child})


def _table_breakers(table: str) -> list[Breaker]:
    out = [_one(f"{table}.child_id_present", table, child_id=None)]
    out[-1].children = {None}  # type: ignore[arg-type]
    if table in CHILD_TABLES:
        completeness = ("referrals.ethnicity_completeness",) if table == "referrals" else ()
        out += [
            _one(f"{table}.ethnicity_present", table, completeness, ethnicity=None),
            _one(f"{table}.ethnicity_valid", table, completeness, ethnicity="XXXX"),
            _one(f"{table}.sex_present", table, sex=None),
            _one(f"{table}.sex_valid", table, sex="X"),
            _one(f"{table}.date_of_birth_not_before_1990", table, date_of_birth=OLD),
            # 400 days ahead: a referral is then also more than 40 weeks before birth (8606)
            _one(
                f"{table}.date_of_birth_not_after_extract",
                table,
                ("referrals.8606_not_before_birth",) if table == "referrals" else (),
                date_of_birth=date(2026, 5, 5),
            ),
            _one(f"{table}.dates_parse", table, date_of_birth=None, flags=["date_of_birth_unparsed"]),
        ]
    else:
        out.append(_one(f"{table}.dates_parse", table, entered_at=None, flags=["entered_at_unparsed"]))
    out += _date_breakers(table)
    return out


def _date_breakers(table: str) -> list[Breaker]:
    """A date after the extract and one before 1990 for each event date, keeping the row's other dates consistent."""
    future = date(2025, 4, 10)
    after: dict[str, dict[str, Any]] = {
        "contact_date": {},
        "referral_date": {"referrals_last_12m": None},
        "start_date": (
            {"authorised_date": None, "referral_date": None}
            if table == "assessments"
            else {"closure_date": None, "closure_reason": None, "last_seen_date": None}
        ),
        "authorised_date": {},
        "closure_date": {},
        "last_seen_date": {},
        "event_date": {"entered_at": None},
    }
    before: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
        "contact_date": ({}, ()),
        "referral_date": ({"date_of_birth": None}, ()),
        "start_date": (
            (
                {"authorised_date": None, "referral_date": None}
                if table == "assessments"
                else {"closure_date": None, "closure_reason": None, "last_seen_date": None}
            ),
            # an open assessment started before 1990 is open far beyond 45 working days: the calendar
            # covers every date the store holds, so it is counted (it fell outside a 2005-2030 calendar)
            ("assessments.8670Q_open_over_45_days",) if table == "assessments" else (),
        ),
        "authorised_date": ({}, ("assessments.8608_authorised_after_start",)),
        "closure_date": ({}, ("cin_episodes.closure_after_start",)),
        "last_seen_date": ({}, ()),
        "event_date": ({}, ()),
    }
    out = []
    for column in DATE_HEADINGS[table]:
        out.append(_one(f"{table}.{column}_not_after_extract", table, **{column: future, **after[column]}))
        extra, also = before[column]
        out.append(_one(f"{table}.{column}_not_before_1990", table, also, **{column: OLD, **extra}))
    return out


def _specific_breakers() -> list[Breaker]:
    wrong_count = [date(2023, 1, 10), date(2023, 9, 1), date(2024, 3, 1), date(2024, 6, 10)]
    count_rows = [valid_row("referrals", "bad:count", referral_date=d, referrals_last_12m=3) for d in wrong_count]
    return [
        _one("contacts.contact_source_present", "contacts", contact_source=None),
        _one("contacts.contact_source_valid", "contacts", contact_source="ZZ"),
        _one("referrals.referral_source_present", "referrals", referral_source=None),
        _one("referrals.referral_source_valid", "referrals", referral_source="99"),
        _one("referrals.8606_not_before_birth", "referrals", date_of_birth=date(2025, 6, 1)),
        # four rows reporting 3 referrals where the store holds 2 in the 12 months before 2024-06-10
        Breaker("referrals.referrals_last_12m_agrees", {"referrals": count_rows}, children={"bad:count"}, count=4),
        _one("assessments.8608_authorised_after_start", "assessments", authorised_date=date(2024, 6, 1)),
        _one("assessments.1103_start_after_referral", "assessments", referral_date=date(2024, 6, 20)),
        # Fri 24 Jan 2025 -> Mon 31 Mar 2025 is 46 working days: overdue
        _one(
            "assessments.8670Q_open_over_45_days",
            "assessments",
            start_date=date(2025, 1, 24),
            authorised_date=None,
            referral_date=None,
        ),
        _one("cin_episodes.closure_after_start", "cin_episodes", closure_date=date(2024, 6, 1), last_seen_date=None),
        _one("cin_episodes.8805_closure_reason", "cin_episodes", closure_reason=None),
        _one("cin_episodes.8810_closure_date", "cin_episodes", closure_date=None),
        _one("cin_episodes.primary_need_present", "cin_episodes", primary_need=None),
        _one("cin_episodes.primary_need_valid", "cin_episodes", primary_need="N99"),
        _one("cin_episodes.closure_reason_valid", "cin_episodes", closure_reason="RC99"),
        _one("cin_episodes.referral_source_valid", "cin_episodes", referral_source="ZZ"),
        _one("cin_episodes.disabilities_valid", "cin_episodes", disabilities=["NONE", "XYZ"]),
        # the first episode is still open 30 days after the second starts
        Breaker(
            "cin_episodes.8820_no_overlap",
            {
                "cin_episodes": [
                    valid_row("cin_episodes", "bad:8820", start_date=date(2024, 1, 10), closure_date=date(2024, 5, 1)),
                    valid_row(
                        "cin_episodes", "bad:8820", start_date=date(2024, 4, 1), closure_date=None, closure_reason=None
                    ),
                ]
            },
            children={"bad:8820"},
        ),
        _one("recordings.entered_after_event", "recordings", entered_at=datetime(2024, 6, 11, 9, 0)),
        _one(
            "recordings.entered_at_not_after_extract",
            "recordings",
            event_date=AS_OF,
            entered_at=datetime(2025, 4, 1, 0, 0),
        ),
        _one(
            "recordings.entered_at_not_before_1990",
            "recordings",
            ("recordings.entered_after_event",),
            entered_at=datetime(1985, 1, 1, 9, 0),
        ),
        _one("recordings.record_type_valid", "recordings", record_type="telepathy"),
        # WBRI on the contact, APKN on the referral: both records fail
        Breaker(
            "cross_table.ethnicity_consistent",
            {
                "contacts": [valid_row("contacts", "bad:ethnicity")],
                "referrals": [valid_row("referrals", "bad:ethnicity", ethnicity="APKN")],
            },
            children={"bad:ethnicity"},
            count=2,
        ),
        # F on the contact, M on the assessment (U on the referral is not a contradiction): two rows fail
        Breaker(
            "cross_table.sex_consistent",
            {
                "contacts": [valid_row("contacts", "bad:sex")],
                "referrals": [valid_row("referrals", "bad:sex", sex="U")],
                "assessments": [valid_row("assessments", "bad:sex", sex="M")],
            },
            children={"bad:sex"},
            count=2,
        ),
        # born 1 Jun 2015 on the referral, 2 Jun 2015 on the episode: both rows fail
        Breaker(
            "cross_table.date_of_birth_consistent",
            {
                "referrals": [valid_row("referrals", "bad:dob")],
                "cin_episodes": [valid_row("cin_episodes", "bad:dob", date_of_birth=date(2015, 6, 2))],
            },
            children={"bad:dob"},
            count=2,
        ),
    ]


def _duplicate_breakers() -> list[Breaker]:
    """Two rows with one key in one extract: both versions are kept, the store keeps one (both rows fail)."""
    out = []
    for table in ENTITIES:
        child = f"bad:{table}.duplicates_in_extract"
        row = valid_row(table, child)
        out.append(Breaker(f"{table}.duplicates_in_extract", {table: [row, dict(row)]}, children={child}, count=2))
    return out


BREAKERS: list[Breaker] = (
    [b for t in ENTITIES for b in _table_breakers(t)] + _specific_breakers() + _duplicate_breakers()
)
BREAKERS += [_one(f"{t}.child_id_looks_damaged", t, flags=["child_id_looks_damaged"]) for t in ENTITIES]

# Added after the merge, straight into the store: what no extract can produce through the loader.
KEY_DUPLICATE_CHILD = "clean-1"  # its first row of each table is stored twice: key_unique fails on both rows
REJECT_RAW = json.dumps({"Child Unique ID": "rejected-child", "Date of Referral": "31/02/2024"})
# DfE 8820 also sees the two stored copies of clean-1's first episode: one starts as the other is open.
DIRECT_ALSO = {"cin_episodes.8820_no_overlap": 1}


def expected_counts() -> Counter:
    counts: Counter = Counter()
    for b in BREAKERS:
        for check_id in (b.check_id, *b.also):
            counts[check_id] += b.count
    for table in ENTITIES:
        counts[f"{table}.key_unique"] += 2
        counts[f"{table}.rows_rejected"] += 1
    counts.update(DIRECT_ALSO)
    # ethnicity completeness: every referral without a known code (missing, invalid) is counted
    return counts


def expected_children() -> dict[str, set]:
    children: dict[str, set] = defaultdict(set)
    for b in BREAKERS:
        for check_id in (b.check_id, *b.also):
            children[check_id] |= b.children
    for table in ENTITIES:
        children[f"{table}.key_unique"].add(KEY_DUPLICATE_CHILD)
        children[f"{table}.rows_rejected"].add("rejected-child")
    children["cin_episodes.8820_no_overlap"].add(KEY_DUPLICATE_CHILD)
    return children


def _faulty_rows() -> dict[str, list[dict[str, Any]]]:
    rows = clean_rows()
    for b in BREAKERS:
        for table, extra in b.rows.items():
            rows[table] = rows[table] + extra
    return rows


def _add_direct_faults(path: Path) -> None:
    """Duplicate one stored row per table and reject one row per table, then validate (as a load would)."""
    with open_for_update(path) as con:
        for table in ENTITIES:
            key = ENTITIES[table].natural_key
            con.execute(
                f"INSERT INTO {table} SELECT * FROM {table} WHERE child_id = ? ORDER BY {', '.join(key)} LIMIT 1",
                [KEY_DUPLICATE_CHILD],
            )
            con.execute(
                "INSERT INTO rejects VALUES (1, 'fixture.xlsx', 'List 3', 99, ?, ?, 'Date of Referral is not a date')",
                [table, REJECT_RAW],
            )
        validate_store(con, 1)


@pytest.fixture(scope="module")
def faulty_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FRONTDOOR_DATA_DOCS", "off")  # Data Docs are tested in test_expectations_store
        path = build_store(tmp_path_factory.mktemp("faulty") / "store.duckdb", _faulty_rows(), as_of=AS_OF)
        _add_direct_faults(path)
    return path


@pytest.fixture(scope="module")
def clean_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FRONTDOOR_DATA_DOCS", "off")
        return build_store(tmp_path_factory.mktemp("clean") / "store.duckdb", clean_rows(), as_of=AS_OF, validate=True)


@functools.cache
def _stored(path: Path, table: str) -> pd.DataFrame:
    """A result table of one of this module's stores, read once: the stores are built once and never change."""
    con = open_read(path)
    try:
        return con.execute(f"SELECT * FROM {table}").df()
    finally:
        con.close()


def _results(path: Path) -> pd.DataFrame:
    return _stored(path, "dq_results").set_index("check_id")


def _failures(path: Path) -> pd.DataFrame:
    return _stored(path, "dq_failures").copy()


def test_every_check_is_broken_by_the_faulty_fixture() -> None:
    counts = expected_counts()
    unbroken = [c for c in REGISTRY if counts[c] < 1]
    assert not unbroken, f"no breaker for {unbroken}"
    unknown = set(counts) - set(REGISTRY)
    assert not unknown, f"breakers name checks that do not exist: {unknown}"


@pytest.mark.parametrize("check_id", list(REGISTRY))
def test_check_fails_exactly_as_often_as_broken(faulty_store: Path, check_id: str) -> None:
    results = _results(faulty_store)
    row = results.loc[check_id]
    expected = expected_counts()[check_id]
    assert row["unexpected_count"] == expected, (
        f"{check_id}: {row['unexpected_count']} failing rows, expected {expected}"
    )
    assert not row["success"]
    assert row["element_count"] >= expected
    assert row["unexpected_percent"] == pytest.approx(100.0 * expected / row["element_count"])


@pytest.mark.parametrize("check_id", list(REGISTRY))
def test_failing_rows_name_the_children_that_broke_it(faulty_store: Path, check_id: str) -> None:
    failures = _failures(faulty_store)
    rows = failures[failures["check_id"] == check_id]
    assert len(rows) == expected_counts()[check_id]  # the SQL predicate finds what GE counted
    assert {None if pd.isna(c) else c for c in rows["child_id"]} == expected_children()[check_id]
    assert rows["problem"].eq(REGISTRY[check_id].problem).all()
    assert rows["value"].notna().all() and rows["source_file"].notna().all() and rows["row_number"].notna().all()


@pytest.mark.parametrize("check_id", list(REGISTRY))
def test_check_passes_on_clean_data(clean_store: Path, check_id: str) -> None:
    row = _results(clean_store).loc[check_id]
    assert row["success"] and row["unexpected_count"] == 0, f"{check_id} fails on clean data"


def test_clean_store_has_no_failing_rows(clean_store: Path) -> None:
    assert _failures(clean_store).empty


def test_results_carry_registry_metadata(faulty_store: Path) -> None:
    results = _results(faulty_store)
    for check_id, check in REGISTRY.items():
        row = results.loc[check_id]
        assert (row["table_name"], row["severity"], row["description"], row["expectation"], row["engine"]) == (
            check.table,
            check.severity,
            check.description,
            check.expectation,
            check.engine,
        )
        assert (row["dfe_code"] if pd.notna(row["dfe_code"]) else None) == check.dfe_code
    assert set(results["load_id"]) == {1}


def test_failure_values_show_what_is_wrong(faulty_store: Path) -> None:
    failures = _failures(faulty_store).set_index("check_id")
    assert "start_date 2025-01-24; as_of 2025-03-31; working_days_open 46" in set(
        failures.loc[["assessments.8670Q_open_over_45_days"], "value"]
    )
    assert failures.loc["cin_episodes.disabilities_valid", "value"] == "XYZ"
    assert failures.loc["contacts.ethnicity_valid", "value"] == "XXXX"
    assert failures.loc["referrals.sex_present", "value"] == "missing"
    count = failures.loc["referrals.referrals_last_12m_agrees", "value"]
    assert set(count) == {"reported 3, referrals found 2 in the 12 months before 2024-06-10"}
    assert failures.loc["referrals.rows_rejected", "value"] == "Date of Referral is not a date"


def test_scoped_rows_are_the_touched_units_null_included() -> None:
    """A run's rows in scope (`CheckParams.rows`): the scope's units of that table, the NULL unit only when listed."""
    import duckdb

    from expectations.model import CheckParams

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE contacts AS SELECT * FROM (VALUES ('a', 1), ('a', 2), ('b', 3), (NULL, 4)) t(child_id, n)"
    )
    con.execute("CREATE TABLE contacts_versions AS SELECT * FROM contacts")
    con.execute("CREATE TABLE s (scope VARCHAR, unit VARCHAR)")
    con.execute("INSERT INTO s VALUES ('contacts', 'a'), ('referrals', 'b'), ('referrals', NULL)")
    params = CheckParams(as_of=AS_OF, scope="s")

    def found(table: str) -> list[int]:
        return sorted(n for (n,) in con.execute(f"SELECT n FROM {params.rows(table)}").fetchall())

    assert found("contacts") == found("contacts_versions") == [1, 2]
    con.execute("INSERT INTO s VALUES ('contacts', NULL)")
    assert found("contacts") == found("contacts_versions") == [1, 2, 4]


def test_unparsed_dates_counted_as_their_rows() -> None:
    """The unparsed-dates check's cheaper count finds the rows its SELECT of failing rows lists, NULL flags included."""
    import duckdb

    from expectations.model import CheckParams
    from expectations.sql_checks import unparsed_dates
    from store.connection import create_schema

    con = duckdb.connect()
    create_schema(con)
    flags = [[], None, ["contact_date_unparsed"], [None, "x"], [None], ["x", "date_of_birth_unparsed"], ["x", None]]
    for i, f in enumerate(flags):
        con.execute(
            "INSERT INTO contacts (child_id, contact_date, source_file, sheet, row_number, flags) VALUES (?, ?, ?, ?, ?, ?)",
            [f"c{i}", date(2024, 6, 3), "f.csv", "s", i, f],
        )
    spec = unparsed_dates("contacts")
    assert spec.count is not None
    for params in (
        CheckParams(as_of=AS_OF),
        CheckParams(as_of=AS_OF, scope="(SELECT 'contacts' AS scope, 'c5' AS unit)"),
    ):
        listed = con.execute(f"SELECT count(*) FROM ({spec.rows(params)})").fetchall()[0][0]
        assert con.execute(spec.count(params)).fetchall()[0][0] == listed
    assert con.execute(spec.count(CheckParams(as_of=AS_OF))).fetchall()[0][0] == 2
