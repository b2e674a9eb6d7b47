"""A load's key checks counted from the GE side's copy of the touched rows store what a whole-store run stores."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import pytest

from expectations import incremental, runner
from expectations.checks import REGISTRY
from expectations.model import CheckParams
from store.connection import open_for_update, open_read
from tests.storekit import build_store, copy_store, stored_check_results
from tests.test_expectations_checks import clean_rows

AS_OF = date(2025, 3, 31)
TWICE = "clean-1"  # one of its contacts is stored twice in the second load: contacts.key_unique fails on both rows
LATE = "born-late"  # a contact of a new child born after the extract in the second load


def test_rows_read_the_copy_of_the_touched_rows_when_given() -> None:
    """`CheckParams.rows` reads a table's copy (`copied`) in a scoped run, the scope's join otherwise; the whole store
    without a scope; a check's definition does not depend on the copy."""
    con = duckdb.connect()
    con.execute("CREATE TABLE contacts AS SELECT * FROM (VALUES ('a', 1), ('b', 2)) t(child_id, n)")
    con.execute("CREATE TABLE referrals AS SELECT * FROM contacts")
    con.execute("CREATE TABLE s AS SELECT 'contacts' AS scope, 'a' AS unit UNION ALL SELECT 'referrals', 'a'")
    con.execute("CREATE TABLE copy_of_contacts AS SELECT * FROM contacts WHERE n = 2")  # not what the scope finds
    params = CheckParams(as_of=AS_OF, scope="s", copied=(("contacts", "copy_of_contacts"),))

    def found(p: CheckParams, table: str) -> list[int]:
        return sorted(n for (n,) in con.execute(f"SELECT n FROM {p.rows(table)}").fetchall())

    assert found(params, "contacts") == [2]
    assert found(params, "referrals") == [1]
    assert found(replace(params, scope=None), "contacts") == [1, 2]
    check = REGISTRY["contacts.key_unique"]
    assert incremental.definition(check, params) == incremental.definition(check, replace(params, copied=()))


def _second_load(path: Path) -> None:
    """Load 2, by hand: a contact of TWICE stored twice (with its version, of load 2 as a load writes it), a new
    contact of another child with a date of birth after its extract (a Great Expectations failure), both children
    noted as touched."""
    with open_for_update(path) as con:
        con.execute(
            "INSERT INTO loads (load_id, source_file, sha256, format, as_of, loaded_at, rows_read, rows_loaded,"
            " rows_rejected, rows_superseded, rows_unchanged, notices)"
            " VALUES (2, 'second', 'second', 'fixture', ?, now(), 2, 2, 0, 0, 0, [])",
            [AS_OF],
        )
        for table in ("contacts", "contacts_versions"):
            first = f"FROM {table} WHERE child_id = ? ORDER BY contact_date LIMIT 1"
            again = " REPLACE (2 AS load_id)" if table.endswith("_versions") else ""
            con.execute(f"INSERT INTO {table} SELECT *{again} {first}", [TWICE])
            con.execute(
                f"INSERT INTO {table} SELECT * REPLACE (? AS child_id, ? AS date_of_birth, 2 AS load_id) {first}",
                [LATE, date(2026, 6, 1), TWICE],
            )


def _stored(path: Path) -> dict[str, list[tuple]]:
    return stored_check_results(path, load_id=2)


def test_key_checks_counted_from_the_copy_store_a_whole_store_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Incremental == full: the touched contacts' key check, counted beside GE from its copy of the touched rows, and
    every other stored result equal those of a validation of the whole store."""
    monkeypatch.setenv("FRONTDOOR_DATA_DOCS", "off")
    scoped = build_store(tmp_path / "scoped.duckdb", clean_rows(), as_of=AS_OF, validate=True)
    _second_load(scoped)
    whole = copy_store(scoped, tmp_path / "whole.duckdb")
    moved: list[dict] = []
    real = runner.counted_from_copies

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        moved.append(real(*args, **kwargs))
        return moved[-1]

    monkeypatch.setattr(runner, "counted_from_copies", spy)
    with open_for_update(scoped) as con:
        con.execute(
            "CREATE TEMP TABLE _changes AS SELECT * FROM (VALUES ('contacts', ?, NULL, TRUE),"
            " ('contacts', ?, NULL, TRUE)) t(entity, child_id, record_id, moved)",
            [TWICE, LATE],
        )
        runner.validate_store(con, 2, changes="_changes", new_loads=[2])
    with open_for_update(whole) as con:
        runner.validate_store(con, 2)
    assert "contacts.key_unique" in {c.check_id for c in moved[0].get("contacts", [])}
    assert _stored(scoped) == _stored(whole)
    con = open_read(whole)
    failing = dict(con.execute("SELECT check_id, unexpected_count FROM dq_results WHERE load_id = 2").fetchall())
    con.close()
    assert failing["contacts.key_unique"] == 2
    assert failing["contacts.date_of_birth_not_after_extract"] == 1
