"""The consistency checks' per-child table kept in the store (dq_child_attributes): built by a whole-store validation,
folded with a load's new version rows, and what it stores equals a whole-store validation's."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from expectations import incremental, runner, sql_checks
from expectations.checks import REGISTRY
from expectations.model import CheckParams
from store.connection import open_for_update, open_read
from tests.storekit import build_store, copy_store, stored_check_results
from tests.test_expectations_checks import valid_row

AS_OF = date(2025, 3, 31)
CONSISTENCY = sorted(c.check_id for c in REGISTRY.values() if sql_checks.reads_child_attributes(c))
COLUMNS = ("child_id", *sql_checks.ATTRIBUTE_COLUMNS)


def _first_load() -> dict[str, list[dict[str, Any]]]:
    """Three children: 'same' recorded alike everywhere, 'mixed' with two ethnicities, 'sexless' with no sex recorded
    (U) and an expected date of birth on one row (neither compared)."""
    rows: dict[str, list[dict[str, Any]]] = {t: [] for t in ("contacts", "referrals")}
    rows["contacts"] += [valid_row("contacts", "same", i) for i in range(2)]
    rows["referrals"] += [valid_row("referrals", "same", 0)]
    rows["contacts"] += [valid_row("contacts", "mixed", 0), valid_row("contacts", "mixed", 1, ethnicity="WIRI")]
    rows["contacts"] += [valid_row("contacts", "sexless", 0, sex="U")]
    rows["referrals"] += [valid_row("referrals", "sexless", 0, sex="U", flags=["date_of_birth_expected"])]
    return rows


def _stored_attributes(path: Path) -> dict[str, tuple]:
    con = open_read(path)
    try:
        found = con.execute(f"SELECT {', '.join(COLUMNS)} FROM {sql_checks.CHILD_ATTRIBUTES}").fetchall()
    finally:
        con.close()
    return {row[0]: row[1:] for row in found}


def test_a_whole_store_validation_keeps_each_childs_attributes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Per child, the lowest and highest value of each attribute over its version rows and the rows recording one;
    the state names the latest load and the SQL it was built with."""
    monkeypatch.setenv("FRONTDOOR_DATA_DOCS", "off")
    path = build_store(tmp_path / "s.duckdb", _first_load(), as_of=AS_OF, validate=True)
    born = "2015-06-01"
    assert _stored_attributes(path) == {
        "same": ("WBRI", "WBRI", 3, "F", "F", 3, born, born, 3),
        "mixed": ("WBRI", "WIRI", 2, "F", "F", 2, born, born, 2),
        "sexless": ("WBRI", "WBRI", 2, None, None, 0, born, born, 1),
    }
    con = open_read(path)
    try:
        state = con.execute(f"SELECT * FROM {sql_checks.CHILD_ATTRIBUTES_STATE}").fetchall()
        assert state == [(1, sql_checks.child_attributes_definition(CheckParams(as_of=AS_OF)))]
        assert sql_checks.child_attributes_current(con, CheckParams(as_of=AS_OF, previous_load_id=1))
        assert not sql_checks.child_attributes_current(con, CheckParams(as_of=AS_OF, previous_load_id=0))
    finally:
        con.close()


def _second_load(path: Path) -> list[str]:
    """Load 2, by hand: 'same' recorded as male once, 'mixed' once more as WBRI, a new child 'new' (two ethnicities);
    'sexless' untouched. The touched children."""
    added = {
        "same": valid_row("contacts", "same", 5, sex="M"),
        "mixed": valid_row("contacts", "mixed", 6),
        "new": valid_row("contacts", "new", 0, ethnicity="WIRI"),
    }
    with open_for_update(path) as con:
        con.execute(
            "INSERT INTO loads (load_id, source_file, sha256, format, as_of, loaded_at, rows_read, rows_loaded,"
            " rows_rejected, rows_superseded, rows_unchanged, notices)"
            " VALUES (2, 'second', 'second', 'fixture', ?, now(), 4, 4, 0, 0, 0, [])",
            [AS_OF],
        )
        rows = [{"child_id": child, **row} for child, row in added.items()]
        rows.append({"child_id": "new", **valid_row("referrals", "new", 0)})
        for row in rows:
            table = "referrals" if "referral_date" in row else "contacts"
            columns = [*row, "source_file", "row_number", "as_of", "load_id"]
            values = [*row.values(), "second", len(columns), AS_OF, 2]
            for target in (table, f"{table}_versions"):
                con.execute(
                    f"INSERT INTO {target} ({', '.join(columns)}) VALUES ({', '.join('?' * len(values))})", values
                )
    return [*added]


def _stored(path: Path) -> dict[str, list[tuple]]:
    return stored_check_results(path, attributes=True)


def _validate_touched(path: Path, touched: list[str], monkeypatch: pytest.MonkeyPatch) -> frozenset[str]:
    """Validate load 2 as a load does (its touched children noted); the checks re-run on the touched rows."""
    carried: list[frozenset[str]] = []
    real = incremental.carried_checks

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        carried.append(real(*args, **kwargs))
        return carried[-1]

    monkeypatch.setattr(incremental, "carried_checks", spy)
    with open_for_update(path) as con:
        con.execute("CREATE TEMP TABLE _changes (entity VARCHAR, child_id VARCHAR, record_id VARCHAR, moved BOOLEAN)")
        for child in touched:
            con.execute("INSERT INTO _changes VALUES ('contacts', ?, NULL, TRUE)", [child])
        con.execute("INSERT INTO _changes VALUES ('referrals', 'new', NULL, TRUE)")
        runner.validate_store(con, 2, changes="_changes", new_loads=[2])
    monkeypatch.undo()
    return carried[0]


def test_a_loads_run_folds_its_new_version_rows_and_stores_a_whole_store_runs_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Incremental == full: the consistency checks re-run on the touched children from the kept table and their new
    version rows store what a whole-store validation stores, the kept table included."""
    monkeypatch.setenv("FRONTDOOR_DATA_DOCS", "off")
    scoped = build_store(tmp_path / "scoped.duckdb", _first_load(), as_of=AS_OF, validate=True)
    touched = _second_load(scoped)
    whole = copy_store(scoped, tmp_path / "whole.duckdb")
    assert set(CONSISTENCY) <= _validate_touched(scoped, touched, monkeypatch)
    with open_for_update(whole) as con:
        runner.validate_store(con, 2)
    assert _stored(scoped) == _stored(whole)
    born = "2015-06-01"
    attributes = _stored_attributes(scoped)
    assert attributes["same"] == ("WBRI", "WBRI", 4, "F", "M", 4, born, born, 4)
    assert attributes["mixed"] == ("WBRI", "WIRI", 3, "F", "F", 3, born, born, 3)
    assert attributes["new"] == ("WBRI", "WIRI", 2, "F", "F", 2, born, born, 2)
    con = open_read(scoped)
    failing = dict(con.execute("SELECT check_id, unexpected_count FROM dq_results WHERE load_id = 2").fetchall())
    con.close()
    assert failing["cross_table.ethnicity_consistent"] == 5  # 'mixed' 3 rows, 'new' 2
    assert failing["cross_table.sex_consistent"] == 4  # 'same'


def test_a_kept_table_out_of_date_is_rebuilt_on_the_whole_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a state naming the previous validation (a store made by an older build, or by one that did not keep
    it), the consistency checks are not folded but re-run on the whole store, which rebuilds the table."""
    monkeypatch.setenv("FRONTDOOR_DATA_DOCS", "off")
    scoped = build_store(tmp_path / "scoped.duckdb", _first_load(), as_of=AS_OF, validate=True)
    with open_for_update(scoped) as con:
        con.execute(f"DELETE FROM {sql_checks.CHILD_ATTRIBUTES_STATE}")
        con.execute(f"UPDATE {sql_checks.CHILD_ATTRIBUTES} SET ethnicity_n = 99")  # stale: must not be read
    touched = _second_load(scoped)
    whole = copy_store(scoped, tmp_path / "whole.duckdb")
    carried = _validate_touched(scoped, touched, monkeypatch)
    assert not set(CONSISTENCY) & carried and "contacts.key_unique" in carried
    with open_for_update(whole) as con:
        runner.validate_store(con, 2)
    assert _stored(scoped) == _stored(whole)
    assert _stored_attributes(scoped)["sexless"][2] == 2
