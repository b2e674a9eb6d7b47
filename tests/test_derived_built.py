"""A store whose derived tables were built with other definitions is rebuilt in full at its next publish, once;
one built with these definitions is re-derived only where a load touched it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from store import derive, derived_built
from store.connection import open_read
from tests.storekit import build_store
from tests.test_derive_lookups import _second_load

D = date
FIRST = {
    "referrals": [
        {"child_id": "A", "referral_date": D(2024, 2, 1), "sex": "F", "ethnicity": "WBRI"},
        {"child_id": "B", "referral_date": D(2024, 3, 1), "sex": "M", "ethnicity": "APKN"},
    ]
}
LATER = {"referrals": [{"child_id": "A", "referral_date": D(2024, 5, 1), "sex": "F", "ethnicity": "WBRI"}]}


def _stale(path: Path, fingerprint: str | None) -> None:
    """Make B's `children` row an answer other definitions gave (B is a child the later load does not touch) and
    set the store's fingerprint (None: a store derived before fingerprints were kept)."""
    con = duckdb.connect(str(path.resolve()))
    con.execute("UPDATE children SET sex = 'U' WHERE child_id = 'B'")
    con.execute(f"DROP TABLE {derived_built.BUILT}")
    if fingerprint is not None:
        con.execute(f"CREATE TABLE {derived_built.BUILT} AS SELECT '{fingerprint}' AS fingerprint")
    con.close()


def _sex_of_b_and_fingerprint(path: Path) -> tuple[str, list[tuple]]:
    with open_read(path) as con:
        sex = con.execute("SELECT sex FROM children WHERE child_id = 'B'").fetchone()[0]
        return sex, con.execute(f"SELECT fingerprint FROM {derived_built.BUILT}").fetchall()


@pytest.mark.parametrize("fingerprint", ["0" * 64, None], ids=["other definitions", "no fingerprint"])
def test_a_store_built_with_other_definitions_is_rebuilt_in_full_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fingerprint: str | None
) -> None:
    monkeypatch.setattr(derive, "FULL_REBUILD_SHARE", 2.0)  # a tiny store: the incremental path unless told
    path = build_store(tmp_path / "store.duckdb", FIRST, as_of=D(2024, 3, 31))
    with open_read(path) as con:
        assert con.execute(f"SELECT * FROM {derived_built.BUILT}").fetchall() == [(derived_built.fingerprint(),)]
    _stale(path, fingerprint)
    _second_load(path, LATER, as_of=D(2024, 5, 31))  # touches A only
    assert _sex_of_b_and_fingerprint(path) == ("M", [(derived_built.fingerprint(),)])  # B rebuilt too


def test_a_store_built_with_these_definitions_is_re_derived_only_where_a_load_touched_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same stale row under the current fingerprint stays: the fingerprint alone decides the full rebuild."""
    monkeypatch.setattr(derive, "FULL_REBUILD_SHARE", 2.0)
    path = build_store(tmp_path / "store.duckdb", FIRST, as_of=D(2024, 3, 31))
    _stale(path, derived_built.fingerprint())
    _second_load(path, LATER, as_of=D(2024, 5, 31))
    assert _sex_of_b_and_fingerprint(path) == ("U", [(derived_built.fingerprint(),)])


def test_the_fingerprint_covers_every_module_that_defines_a_derived_table_or_summary() -> None:
    """A module the derive or summary step imports from the store package is in the fingerprint."""
    import ast

    store = Path(__file__).resolve().parent.parent / "store"
    imported = {"store.derive", "store.summary"}
    for module in ("derive", "summary"):
        tree = ast.parse((store / f"{module}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("store."):
                imported.add(node.module)
    imported -= {"store.connection"}  # transactions, not definitions
    assert imported <= set(derived_built.DEFINING_MODULES), sorted(imported - set(derived_built.DEFINING_MODULES))
