"""The narrowed events scope's rows of referrals, episodes and children are copied once per publish for the event
fact builders (store.derive.copy_rows): the builders read the copies, every event fact table still equals a full
rebuild after each of a sequence of loads, and no copy outlives the publish."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from store import derive
from store.derive import Scope
from tests.test_derive_fact_bounds import FACTS, _facts_after_each_load


def test_sources_read_a_scope_s_copies_and_the_other_tables_by_the_scope() -> None:
    sources = derive._sources(Scope("_derive_facts", copied=("referrals", "children")))
    assert sources["referrals"] == "_derive_facts_referrals"
    assert sources["children"] == "_derive_facts_children"
    assert sources["contacts"] == "(SELECT * FROM contacts WHERE child_id IN (SELECT child_id FROM _derive_facts))"
    assert derive._sources(Scope("_derive_facts"))["referrals"].startswith("(SELECT * FROM referrals WHERE")


def test_copies_hold_the_scope_s_rows_and_the_facts_equal_a_full_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    held: list[tuple[str, list[tuple], list[tuple]]] = []
    copy_rows = derive.copy_rows

    def spy(con: duckdb.DuckDBPyConnection, scope: Scope) -> Scope:
        made = copy_rows(con, scope)
        for table, columns in derive._COPIED.items():
            wanted = f"SELECT {', '.join(columns)} FROM {table} WHERE {scope.where} ORDER BY ALL"
            copy = con.execute(f"SELECT * FROM {made.copy(table)} ORDER BY ALL").fetchall()
            held.append((table, copy, con.execute(wanted).fetchall()))
        return made

    monkeypatch.setattr(derive, "copy_rows", spy)
    results = _facts_after_each_load(tmp_path, monkeypatch)
    for published, rebuilt, _ in results:
        for table in FACTS:
            assert published[table] == rebuilt[table], table
    assert {table for table, _, _ in held} == set(derive._COPIED)
    for table, copy, wanted in held:
        assert copy == wanted, table
    assert any(table == "referrals" and copy for table, copy, _ in held)


def test_no_copy_outlives_the_publish(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    left: list[list[tuple]] = []
    build_derived = derive.build_derived

    def spy(con: duckdb.DuckDBPyConnection, *args: Any, **kwargs: Any) -> None:
        build_derived(con, *args, **kwargs)
        left.append(con.execute("SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '_derive%'").fetchall())

    monkeypatch.setattr(derive, "build_derived", spy)
    _facts_after_each_load(tmp_path, monkeypatch)
    assert left and all(tables == [] for tables in left)
