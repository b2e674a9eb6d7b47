"""The check registry: every check documented, severity set, DfE rules present, suites and SQL well formed, docs current."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd
import pytest

from expectations.catalogue import checks_markdown
from expectations.checks import REGISTRY, TABLES, _registry, ge_checks, sql_check_list
from expectations.model import CROSS_TABLE, SEVERITIES, CheckParams, resolve_ethnicity_threshold
from store.calendar import build_calendar
from store.connection import PROJECT_ROOT, create_schema

DFE_RULES = {"4220", "8820", "1103", "8608", "8805", "8810", "8606", "8670Q", "4180"}


@pytest.mark.parametrize("check_id", list(REGISTRY))
def test_check_is_documented(check_id: str) -> None:
    check = REGISTRY[check_id]
    assert check.severity in SEVERITIES, f"{check_id}: severity must be error or warning"
    assert len(check.description) >= 60 and check.description.endswith("."), f"{check_id}: describe it and the fix"
    assert check.title and check.problem, f"{check_id}: needs a title and a short 'what is wrong'"
    assert check.table in (*TABLES, CROSS_TABLE)
    assert (check.ge is None) != (check.sql is None), f"{check_id}: exactly one of a GE declaration or SQL"


def test_registry_rejects_a_duplicate_check_id() -> None:
    check = next(iter(REGISTRY.values()))
    with pytest.raises(ValueError, match="duplicate"):
        _registry([check, check])


def test_every_dfe_rule_of_the_brief_is_run_per_file_and_no_merged_store_check_claims_a_dfe_code() -> None:
    from expectations.dfe_cin.registry import RULES

    assert {r.code for r in RULES} >= DFE_RULES
    assert {c.dfe_code for c in REGISTRY.values()} == {None}


def test_every_table_has_a_suite_and_the_required_kinds_of_check() -> None:
    for table in TABLES:
        suite = {c.check_id for c in ge_checks(table)}
        assert any(i.endswith("_not_after_extract") for i in suite) and any(
            i.endswith("_not_before_1990") for i in suite
        )
        sql = {c.check_id for c in sql_check_list() if c.table == table}
        assert {f"{table}.key_unique", f"{table}.child_id_present", f"{table}.dates_parse"} <= sql
    assert "cross_table.ethnicity_consistent" in {c.check_id for c in sql_check_list()}


def test_docs_checks_md_is_generated_from_the_registry() -> None:
    written = (PROJECT_ROOT / "docs" / "CHECKS.md").read_text(encoding="utf-8")
    assert written.strip() == checks_markdown().strip(), "regenerate: python -m expectations docs > docs/CHECKS.md"
    for check_id in REGISTRY:
        assert f"`{check_id}`" in written


def test_ethnicity_threshold_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FRONTDOOR_ETHNICITY_THRESHOLD", raising=False)
    assert resolve_ethnicity_threshold() == 0.95
    monkeypatch.setenv("FRONTDOOR_ETHNICITY_THRESHOLD", "90")
    assert resolve_ethnicity_threshold() == 0.9
    assert resolve_ethnicity_threshold(0.8) == 0.8
    with pytest.raises(ValueError):
        resolve_ethnicity_threshold(-1)


@pytest.fixture(scope="module")
def empty_store() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    create_schema(con)
    build_calendar(con)
    return con


def test_every_ge_check_becomes_an_expectation_with_its_metadata() -> None:
    from expectations.suites import GeSession, build_suite

    GeSession.start()  # a suite is built inside an (ephemeral) context
    params = CheckParams(as_of=date(2025, 3, 31))
    for table in TABLES:
        checks = ge_checks(table)
        suite = build_suite(table, checks, params)
        assert [e.meta["check_id"] for e in suite.expectations] == [c.check_id for c in checks]
        for expectation, check in zip(suite.expectations, checks):
            assert expectation.expectation_type == check.expectation
            assert expectation.meta["dfe_code"] == check.dfe_code
            assert expectation.severity.value == {"error": "critical", "warning": "warning"}[check.severity]
            assert expectation.notes == check.description


def test_frames_and_sql_run_on_an_empty_store(empty_store: duckdb.DuckDBPyConnection) -> None:
    from expectations import frames, predicates
    from expectations.sql_checks import run_sql_check

    params = CheckParams(as_of=date(2025, 3, 31), load_id=1)
    for table in TABLES:
        checks = ge_checks(table)
        frame = frames.load_frame(empty_store, table, checks, params)
        assert list(frame.columns) == frames.frame_columns(checks) and frame.empty
        for check in checks:
            assert empty_store.execute(predicates.failing_rows_sql(check, params, 10)).fetchall() == []
    for check in sql_check_list():
        assert run_sql_check(empty_store, check, params, 10)[:2] == (0, 0)


def test_dates_reach_great_expectations_as_nanosecond_timestamps(empty_store: duckdb.DuckDBPyConnection) -> None:
    from expectations import frames

    frame = frames.load_frame(empty_store, "recordings", ge_checks("recordings"), CheckParams(as_of=date(2025, 3, 31)))
    assert str(frame["event_date"].dtype) == "datetime64[ns]"
    assert str(frame["entered_on"].dtype) == "datetime64[ns]"
    assert str(frame["as_of"].dtype) == "datetime64[ns]"


def test_coded_text_reaches_great_expectations_as_categories_keeping_invalid_codes() -> None:
    from expectations import frames

    con = duckdb.connect()
    create_schema(con)
    con.execute(
        "INSERT INTO recordings (record_id, child_id, record_type, as_of) VALUES"
        " ('r1', 'c1', 'visit', DATE '2025-03-31'), ('r2', 'c1', 'tele''pathy', DATE '2025-03-31'),"
        " ('r3', 'c2', NULL, DATE '2025-03-31')"
    )
    frame = frames.load_frame(con, "recordings", ge_checks("recordings"), CheckParams(as_of=date(2025, 3, 31)))
    assert str(frame["record_type"].dtype) == "category"
    assert frame["record_type"].tolist()[:2] == ["visit", "tele'pathy"] and pd.isna(frame["record_type"].iloc[2])


def test_every_check_says_what_a_load_re_checks() -> None:
    """The kind of each check decides what a load re-runs it on (expectations/incremental.py)."""
    from expectations.model import CHECK_KINDS

    assert {c.kind for c in REGISTRY.values()} <= set(CHECK_KINDS)
    assert {c.check_id.split(".")[1] for c in REGISTRY.values() if c.kind == "load"} == {
        "rows_rejected",
        "duplicates_in_extract",
    }
    assert {c.check_id for c in REGISTRY.values() if c.ge is not None and c.kind != "row"} == {
        "referrals.ethnicity_completeness"  # a share of the whole table: its success is worked out from kept rows
    }
    assert {c.kind for c in REGISTRY.values() if c.table == "cross_table"} == {"child"}


def test_ge_json_conversion_shortcut_gives_what_ge_gives() -> None:
    """The shortcut for plain values (expectations.suites) returns exactly what GE's own converter returns."""
    import great_expectations.util as gx_util
    import numpy as np
    from great_expectations.core import id_dict

    from expectations import suites  # noqa: F401  (installs the shortcut)

    converter = gx_util.convert_to_json_serializable
    assert id_dict.convert_to_json_serializable is converter  # GE's callers use it
    own = converter.__wrapped__
    values = [None, "x", "", 0, 7, True, False, 2.5, float("nan"), np.int64(3), np.float64(1.5), np.bool_(True), pd.NA]
    for value in values:  # one value at a time: GE's own chain of type tests against the shortcut
        assert converter(value) == own(value) and type(converter(value)) is type(own(value))
    nested = {"k": None, 1: [True, np.int64(2), "a", float("nan")], "d": date(2024, 3, 31)}
    assert converter(nested) == {"k": None, "1": [True, 2, "a", None], "d": "2024-03-31"}


def test_the_units_a_check_lists_are_those_a_running_count_over_all_its_units_gives() -> None:
    """The listing takes each check's first `cap` units (min(unit, cap)) before its running count: the same units as
    the running count over every failing unit of the check, NULL unit (listed last) and caps smaller than a unit's
    rows included."""
    from expectations.incremental import _listed_sql

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE kept AS SELECT 'check ' || (i % 3) AS check_id,"
        " CASE WHEN i % 17 = 5 THEN NULL ELSE 'child ' || lpad(CAST(i * 7 % 97 AS VARCHAR), 3, '0') END AS unit,"
        " 1 + i % 4 AS failing FROM range(150) t(i)"
    )
    con.execute("CREATE TABLE units AS SELECT check_id, unit, sum(failing) AS failing FROM kept GROUP BY ALL")
    whole = (
        "SELECT check_id, unit, failing FROM units WHERE list_contains(?, check_id) QUALIFY sum(failing) OVER"
        " (PARTITION BY check_id ORDER BY unit NULLS LAST ROWS UNBOUNDED PRECEDING) - failing < ?"
    )
    checks = ["check 0", "check 2"]
    for cap in (1, 2, 5, 40, 10_000):
        expected = sorted(con.execute(whole, [checks, cap]).fetchall(), key=str)
        assert sorted(con.execute(_listed_sql("units", checks, cap)).fetchall(), key=str) == expected
        assert expected and {c for c, _, _ in expected} == set(checks)
    assert con.execute(_listed_sql("units", [], 5)).fetchall() == []


def _recordings_store() -> duckdb.DuckDBPyConnection:
    """Recordings with a NULL record id, a bad type, a date after the extract; a scope table (scope, unit)."""
    con = duckdb.connect()
    create_schema(con)
    con.execute(
        "INSERT INTO recordings (record_id, child_id, record_type, event_date, entered_at, as_of) VALUES"
        " ('r1', 'c1', 'visit', DATE '2025-03-01', TIMESTAMP '2025-03-02 10:00', DATE '2025-03-31'),"
        " ('r2', 'c1', 'tele''pathy', DATE '2025-04-09', TIMESTAMP '2025-03-02 10:00', DATE '2025-03-31'),"
        " (NULL, 'c2', 'nonsense', DATE '2025-03-01', NULL, DATE '2025-03-31'),"
        " ('r4', 'c3', NULL, DATE '2026-01-01', TIMESTAMP '2025-03-02 10:00', DATE '2025-03-31')"
    )
    con.execute("CREATE TEMP TABLE scope_units (scope VARCHAR, unit VARCHAR)")
    return con


@pytest.mark.parametrize("units", [["r2", "r4"], ["r1", None], [None], ["r9"]])
def test_scoped_rows_are_the_rows_of_the_scope_units_null_included(units: list[str | None]) -> None:
    """CheckParams.rows matches units by equality and the NULL unit apart: the rows `IS NOT DISTINCT FROM` gives."""
    con = _recordings_store()
    con.execute("INSERT INTO scope_units SELECT 'recordings', unnest(?)", [units])
    con.execute("INSERT INTO scope_units VALUES ('contacts', NULL), ('contacts', 'r1')")  # another table's scope
    params = CheckParams(as_of=date(2025, 3, 31), scope="scope_units")
    found = con.execute(f"SELECT record_id, child_id FROM {params.rows('recordings')} ORDER BY ALL").fetchall()
    expected = con.execute(
        "SELECT record_id, child_id FROM recordings r WHERE EXISTS (SELECT 1 FROM scope_units s"
        " WHERE s.scope = 'recordings' AND s.unit IS NOT DISTINCT FROM r.record_id) ORDER BY ALL"
    ).fetchall()
    assert found == expected
    assert len(found) == len([u for u in units if u in ("r1", "r2", "r4", None)])


@pytest.mark.parametrize("scoped", [False, True])
def test_run_rows_give_the_frame_and_failing_rows_of_the_table_source(scoped: bool) -> None:
    """The frame and the failing rows per unit taken from a run's TEMP rows (frames.run_rows) are those taken from
    the table's source SQL."""
    from expectations import frames, incremental, predicates

    con = _recordings_store()
    con.execute("INSERT INTO scope_units VALUES ('recordings', 'r2'), ('recordings', NULL), ('recordings', 'r4')")
    params = CheckParams(as_of=date(2025, 3, 31), scope="scope_units" if scoped else None)
    checks = ge_checks("recordings")
    rows = frames.run_rows(con, "recordings", checks, params, "_run_rows")
    from_rows = frames.load_frame(con, "recordings", checks, params, source=rows)
    from_table = frames.load_frame(con, "recordings", checks, params)
    order = frames.frame_columns(checks)
    pd.testing.assert_frame_equal(
        from_rows.sort_values(order, ignore_index=True), from_table.sort_values(order, ignore_index=True)
    )
    assert len(from_rows) == (3 if scoped else 4)
    incremental.start_run(con)
    found = incremental.append_failing(con, rows, checks, params)
    for check in checks:
        sql = predicates.failing_rows_sql(check, params)
        assert found.get(check.check_id, 0) == con.execute(f"SELECT count(*) FROM ({sql})").fetchall()[0][0]
    per_unit = con.execute(f"SELECT check_id, unit, failing FROM {incremental.RUN_FAILING} ORDER BY ALL").fetchall()
    expected = con.execute(
        "SELECT * FROM ("
        + " UNION ALL ".join(
            f"SELECT '{c.check_id}', unit, count(*) FROM ({predicates.failing_rows_sql(c, params)}) GROUP BY ALL"
            for c in checks
        )
        + ") ORDER BY ALL"
    ).fetchall()
    assert per_unit == expected and any(failing for _, _, failing in per_unit)


def test_keeping_a_run_updates_the_touched_units_as_deleting_and_re_inserting_them_would() -> None:
    """incremental.keep brings the kept rows up to date in place (a changed count updated, a unit no longer failing
    dropped, a new one added, the NULL unit matched as a unit, a check re-run on the whole store replaced, untouched
    units left alone): the rows that deleting the touched units' kept rows and inserting the run's give."""
    from expectations import incremental

    con = duckdb.connect()
    create_schema(con)
    ge, across, whole, referrals = (
        REGISTRY[i]
        for i in (
            "contacts.ethnicity_present",
            "cross_table.ethnicity_consistent",
            "contacts.duplicates_in_extract",
            "referrals.referrals_last_12m_agrees",
        )
    )
    kept_failing = [
        (ge.check_id, "a", 1),  # untouched
        (ge.check_id, "b", 2),  # touched: the run counts 5
        (ge.check_id, "c", 1),  # touched: the run finds it passing
        (ge.check_id, None, 3),  # the NULL unit, touched: the run counts 4
        (across.check_id, "b", 7),  # touched, the same count
        (across.check_id, "c", 2),  # not touched across tables (only in contacts' scope)
        (whole.check_id, "q", 1),  # re-run on the whole store: replaced
    ]
    run_failing = [
        (ge.check_id, "b", 5),
        (ge.check_id, None, 4),
        (ge.check_id, "d", 1),  # a new failing unit
        (across.check_id, "b", 7),
        (whole.check_id, "r", 2),
    ]
    kept_checked = [(referrals.check_id, "b", 3), (referrals.check_id, "k", 2)]
    run_checked = [(referrals.check_id, "b", 4), (referrals.check_id, "n", 1)]
    scope = [("contacts", u) for u in ("b", "c", "d", None)] + [("cross_table", "b"), ("referrals", "b")]
    con.executemany(f"INSERT INTO {incremental.KEPT} VALUES (?, ?, ?)", kept_failing)
    con.executemany(f"INSERT INTO {incremental.KEPT_UNITS} VALUES (?, ?, ?)", kept_checked)
    incremental.start_run(con)
    con.executemany(f"INSERT INTO {incremental.RUN_FAILING} VALUES (?, ?, ?)", run_failing)
    con.executemany(f"INSERT INTO {incremental.RUN_CHECKED} VALUES (?, ?, ?)", run_checked)
    con.execute(f"CREATE TEMP TABLE {incremental.SCOPE} (scope VARCHAR, unit VARCHAR)")
    con.executemany(f"INSERT INTO {incremental.SCOPE} VALUES (?, ?)", scope)
    scoped = frozenset(c.check_id for c in (ge, across, referrals))

    def replaced(kept: list[tuple], run: list[tuple]) -> list[tuple]:
        scope_of = {c.check_id: c.table for c in (ge, across, referrals)}
        touched = [r for r in kept if r[0] in scoped and (scope_of[r[0]], r[1]) in scope]
        return sorted([r for r in kept if r[0] in scoped and r not in touched] + run, key=str)

    incremental.keep(con, CheckParams(as_of=date(2025, 3, 31)), [ge, across, whole, referrals], scoped)
    assert sorted(con.execute(f"SELECT * FROM {incremental.KEPT}").fetchall(), key=str) == replaced(
        kept_failing, run_failing
    )
    assert sorted(con.execute(f"SELECT * FROM {incremental.KEPT_UNITS}").fetchall(), key=str) == replaced(
        kept_checked, run_checked
    )


def test_the_consistency_checks_list_the_same_rows_from_the_copied_version_rows() -> None:
    """The listing of the consistency checks reads a TEMP copy of its children's version rows
    (sql_checks.copy_listed_versions): the same rows, in the same order, as read from the store's version tables."""
    from expectations import incremental, sql_checks

    con = duckdb.connect()
    create_schema(con)
    for i in range(30):  # children recorded differently in contacts and in referrals
        child = f"c{i:02d}"
        con.execute(
            "INSERT INTO contacts_versions (child_id, ethnicity, sex, date_of_birth, source_file, row_number, load_id)"
            " VALUES (?, 'WBRI', 'M', ?, 'list1.csv', ?, 1)",
            [child, date(2015, 1, 1 + i % 20), i],
        )
        con.execute(
            "INSERT INTO referrals_versions (child_id, ethnicity, sex, date_of_birth, source_file, row_number, load_id)"
            " VALUES (?, ?, 'F', ?, 'list3.csv', ?, 1)",
            [child, "WIRI" if i % 3 else "WBRI", date(2015, 2 if i % 2 else 1, 1 + i % 20), i],
        )
    checks = [c for c in REGISTRY.values() if c.sql is not None and c.sql.shared]
    con.execute(  # the units each check lists: every other child from c03 to c23
        "CREATE TEMP TABLE listed_units AS SELECT check_id, ? AS scope, 'c' || lpad(CAST(i AS VARCHAR), 2, '0') AS unit"
        " FROM (SELECT unnest(?) AS check_id) CROSS JOIN range(3, 25, 2) t(i)",
        [CROSS_TABLE, [c.check_id for c in checks]],
    )
    columns = ", ".join(f"{c} VARCHAR" for c in incremental._LISTED_ROWS_COLUMNS.split(", "))

    def listing(versions: str | None) -> list[tuple]:
        con.execute(f"CREATE OR REPLACE TEMP TABLE listed_rows ({columns})")
        for check in checks:
            params = CheckParams(
                as_of=date(2025, 3, 31),
                scope=f"(SELECT scope, unit FROM listed_units WHERE check_id = '{check.check_id}')",
                shared_scope="(SELECT DISTINCT scope, unit FROM listed_units)",
                listed_versions=versions,
            )
            sql_checks.insert_listed_rows(con, check, params, incremental.ORDER, 7, "listed_rows")
        sql_checks.drop_shared(con)  # the shared tables and the copies
        return con.execute("SELECT * FROM listed_rows").fetchall()

    from_store = listing(None)
    from_copies = listing(sql_checks.copy_listed_versions(con, checks, "listed_units"))
    assert from_copies == from_store and len(from_store) == 7 * len(checks) == 21
    assert sql_checks.copy_listed_versions(con, [REGISTRY["contacts.ethnicity_present"]], "listed_units") is None
