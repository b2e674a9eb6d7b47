"""A publish rewrites the event facts of only the children whose facts can have changed: a referral sent again as it
was leaves its child's facts as they are, unless the child's attributes moved; the tables equal a full rebuild."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from store import derive
from store.connection import open_read
from store.derive import build_derived
from store.summary import build_summaries
from tests.storekit import build_store
from tests.test_derive_lookups import _second_load

D = date
FACTS = ("referral_facts", "assessment_facts", "contact_facts", "closure_facts")


def _referral(child_id: str, day: date, ethnicity: str = "WBRI", worker: str = "W1") -> dict:
    return {"child_id": child_id, "referral_date": day, "sex": "F", "ethnicity": ethnicity, "worker": worker}


FIRST = {
    "referrals": [
        _referral("A", D(2024, 2, 1)),  # sent again as it was: A's facts are kept
        _referral("B", D(2024, 2, 2)),  # sent again as it was, while B's contact moves B's ethnicity
        _referral("C", D(2024, 2, 3)),  # sent again with another worker: C's facts are rewritten
        _referral("E", D(2024, 2, 4)),  # not in the second load
    ],
    "contacts": [{"child_id": "B", "contact_date": D(2024, 1, 10), "contact_source": "1A", "ethnicity": "WBRI"}],
}
SECOND = {
    "referrals": [
        _referral("A", D(2024, 2, 1)),
        _referral("B", D(2024, 2, 2)),
        _referral("C", D(2024, 2, 3), worker="W2"),
    ],
    "contacts": [{"child_id": "B", "contact_date": D(2024, 3, 1), "contact_source": "1A", "ethnicity": "APKN"}],
}


def _table(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


def test_the_merge_says_which_childrens_rows_kept_their_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    moved: list[tuple] = []
    rewritten: list[str] = []
    narrow = derive._narrow_facts

    def spy(con: duckdb.DuckDBPyConnection, changes: str | None, plan: dict, new_loads: list[int] | None) -> dict:
        narrowed = narrow(con, changes, plan, new_loads)
        if changes is not None:  # the first load is a full build
            moved.extend(con.execute(f"SELECT entity, child_id, moved FROM {changes} ORDER BY ALL").fetchall())
            rewritten.extend(r[0] for r in con.execute(f"SELECT child_id FROM {narrowed['events'].table}").fetchall())
        return narrowed

    monkeypatch.setattr(derive, "_narrow_facts", spy)
    monkeypatch.setattr(derive, "FULL_REBUILD_SHARE", 2.0)  # a tiny store: force the incremental path
    path = build_store(tmp_path / "store.duckdb", FIRST, as_of=D(2024, 6, 30))
    _second_load(path, SECOND, as_of=D(2024, 7, 31))
    assert moved == [
        ("contacts", "B", True),  # a new key
        ("referrals", "A", False),
        ("referrals", "B", False),
        ("referrals", "C", True),  # the worker changed
    ]
    assert sorted(rewritten) == ["B", "C"]  # B's ethnicity moved with its new contact; A's facts are kept


def test_facts_kept_or_rewritten_equal_a_full_rebuild(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(derive, "FULL_REBUILD_SHARE", 2.0)
    path = build_store(tmp_path / "store.duckdb", FIRST, as_of=D(2024, 6, 30))
    _second_load(path, SECOND, as_of=D(2024, 7, 31))
    con = open_read(path)
    assert con.execute("SELECT worker FROM referral_facts WHERE child_id = 'C'").fetchall() == [("W2",)]
    assert con.execute("SELECT child_ethnicity FROM referral_facts WHERE child_id = 'B'").fetchall() == [("APKN",)]
    published = {t: _table(con, t) for t in (*FACTS, "children", "summary_ethnicity_conflicts")}
    con.close()
    rebuilt_path = tmp_path / "rebuilt.duckdb"
    shutil.copyfile(path.resolve(), rebuilt_path)
    rebuilt = duckdb.connect(str(rebuilt_path))
    build_derived(rebuilt)
    build_summaries(rebuilt)
    assert {t: _table(rebuilt, t) for t in published} == published
    assert published["summary_ethnicity_conflicts"] == [("B",)]  # WBRI and APKN: B's list grew by the new contact


def test_changes_without_moved_rewrite_every_event_childs_facts(tmp_path: Path) -> None:
    """A table of changes that does not say what moved (older callers, tests) keeps the whole events scope."""
    path = build_store(tmp_path / "store.duckdb", FIRST, as_of=D(2024, 6, 30))
    con = duckdb.connect(str(path.resolve()))
    con.execute("CREATE TEMP TABLE changes (entity VARCHAR, child_id VARCHAR, record_id VARCHAR)")
    plan = {"children": derive.Scope("_derive_children"), "events": derive.Scope("_derive_events")}
    assert derive._narrow_facts(con, "changes", plan) is plan
    con.close()


def test_the_event_facts_read_no_other_column_of_children(tmp_path: Path) -> None:
    """`_FACT_ATTRIBUTES` names every column of `children` the event facts read: a fact builder that read another would
    keep a stale fact for a child whose other attributes moved, so each builder is run against a `children` of those
    columns alone and must bind."""
    path = build_store(tmp_path / "store.duckdb", FIRST, as_of=D(2024, 6, 30))
    con = duckdb.connect(str(path.resolve()))
    con.execute(
        f"CREATE OR REPLACE TABLE children AS SELECT child_id, {', '.join(derive._FACT_ATTRIBUTES)} FROM children"
    )
    for build in (
        derive.build_closure_facts,
        derive.build_referral_facts,
        derive.build_assessment_facts,
        derive.build_contact_facts,
    ):
        build(con, None)
    assert con.execute("SELECT count(*) FROM referral_facts").fetchone() == (4,)
    con.close()
