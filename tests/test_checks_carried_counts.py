"""A load's run takes two whole-store counts from what the previous validation kept instead of scanning for them: the
rows recording an attribute (from the kept per-child table's total) and the rows a GE check of an untouched table
checks (from the previous results); both store what a whole-store validation stores."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from expectations import incremental, runner
from expectations.checks import REGISTRY
from expectations.model import CheckParams
from store.connection import create_schema, open_for_update, open_read
from tests import test_checks_from_copies as copies
from tests import test_child_attributes as attributes
from tests.storekit import build_store, copy_store
from tests.test_expectations_checks import clean_rows

AS_OF = date(2025, 3, 31)


def _results(path: Path, load_id: int) -> dict[str, tuple]:
    con = open_read(path)
    try:
        found = con.execute(
            "SELECT check_id, element_count, unexpected_count FROM dq_results WHERE load_id = ?", [load_id]
        ).fetchall()
    finally:
        con.close()
    return {row[0]: row[1:] for row in found}


def test_rows_recording_an_attribute_are_the_stored_total_less_the_touched_childrens_stored_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The consistency checks' rows checked after a fold: 'sexless' untouched (2 ethnicities, no sex, 1 birth date
    stored), 'same' and 'mixed' touched (their stored counts replaced by the fold's), 'new' new; as a whole-store
    validation counts them."""
    monkeypatch.setenv("FRONTDOOR_DATA_DOCS", "off")
    scoped = build_store(tmp_path / "scoped.duckdb", attributes._first_load(), as_of=AS_OF, validate=True)
    touched = attributes._second_load(scoped)
    whole = copy_store(scoped, tmp_path / "whole.duckdb")
    assert set(attributes.CONSISTENCY) <= attributes._validate_touched(scoped, touched, monkeypatch)
    with open_for_update(whole) as con:
        runner.validate_store(con, 2)
    found = _results(scoped, 2)
    assert found["cross_table.ethnicity_consistent"] == (4 + 3 + 2 + 2, 5)  # same, mixed, new, sexless
    assert found["cross_table.sex_consistent"] == (4 + 3 + 2 + 0, 4)
    assert found["cross_table.date_of_birth_consistent"] == (4 + 3 + 2 + 1, 0)
    assert {i: found[i] for i in attributes.CONSISTENCY} == {i: _results(whole, 2)[i] for i in attributes.CONSISTENCY}


def test_a_ge_check_of_an_untouched_table_takes_its_rows_checked_from_the_previous_validation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Load 2 touches contacts only: the GE checks of the other tables are not counted on the store again (spied), and
    every stored result equals a whole-store validation's."""
    monkeypatch.setenv("FRONTDOOR_DATA_DOCS", "off")
    scoped = build_store(tmp_path / "scoped.duckdb", clean_rows(), as_of=AS_OF, validate=True)
    copies._second_load(scoped)
    whole = copy_store(scoped, tmp_path / "whole.duckdb")
    counted: list[str] = []
    before: list[dict[str, int]] = []
    real_counted, real_before = incremental.ge_checked, incremental.checked_before

    def spy_counted(con, params, checks):  # type: ignore[no-untyped-def]
        counted.extend(c.check_id for c in checks)
        return real_counted(con, params, checks)

    def spy_before(*args, **kwargs):  # type: ignore[no-untyped-def]
        before.append(real_before(*args, **kwargs))
        return before[-1]

    monkeypatch.setattr(incremental, "ge_checked", spy_counted)
    monkeypatch.setattr(incremental, "checked_before", spy_before)
    with open_for_update(scoped) as con:
        con.execute(
            "CREATE TEMP TABLE _changes AS SELECT * FROM (VALUES ('contacts', ?, NULL, TRUE),"
            " ('contacts', ?, NULL, TRUE)) t(entity, child_id, record_id, moved)",
            [copies.TWICE, copies.LATE],
        )
        runner.validate_store(con, 2, changes="_changes", new_loads=[2])
    monkeypatch.undo()
    monkeypatch.setenv("FRONTDOOR_DATA_DOCS", "off")
    with open_for_update(whole) as con:
        runner.validate_store(con, 2)
    assert counted and {REGISTRY[i].table for i in counted} == {"contacts"}
    assert {REGISTRY[i].table for i in before[0]} == {"referrals", "assessments", "cin_episodes", "recordings"}
    assert copies._stored(scoped) == copies._stored(whole)


def test_rows_checked_are_taken_from_the_previous_results_only_when_the_kept_rows_are_that_validations() -> None:
    """`checked_before` reads the previous validation's element counts only when every kept check's state names that
    validation's load (else the counts are worked out on the store)."""
    con = duckdb.connect()
    create_schema(con)
    check = REGISTRY["referrals.ethnicity_present"]
    con.execute(
        "INSERT INTO dq_results (load_id, run_at, table_name, check_id, expectation, severity, description, engine,"
        " success, element_count, unexpected_count, unexpected_percent) VALUES"
        " (1, now(), 'referrals', ?, 'e', 'warning', 'd', 'great_expectations', TRUE, 41, 0, 0),"
        " (2, now(), 'referrals', ?, 'e', 'warning', 'd', 'great_expectations', TRUE, 43, 0, 0)",
        [check.check_id, check.check_id],
    )
    con.execute(f"INSERT INTO {incremental.STATE} VALUES (?, 2, 'x', NULL), ('other', 2, 'y', NULL)", [check.check_id])
    params = CheckParams(as_of=AS_OF, load_id=3, previous_load_id=2)
    assert incremental.checked_before(con, [check], params) == {check.check_id: 43}
    assert incremental.checked_before(con, [], params) == {}
    assert incremental.checked_before(con, [check], CheckParams(as_of=AS_OF, load_id=3, previous_load_id=1)) == {}
    con.execute(f"UPDATE {incremental.STATE} SET load_id = 1 WHERE check_id = 'other'")
    assert incremental.checked_before(con, [check], params) == {}
