"""Of a child a load only added rows to, a publish rewrites only the event fact rows after the child's bounds
(store.derive._fact_bounds): after each of a sequence of loads every event fact table equals a full rebuild."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from store import derive
from store.connection import open_read
from store.derive import build_derived
from tests.storekit import build_store
from tests.test_derive_lookups import _second_load

D = date
FACTS = ("contact_facts", "closure_facts", "referral_facts", "assessment_facts")
DOB = D(2015, 1, 1)


def _child(child_id: str, ethnicity: str = "WBRI") -> dict[str, Any]:
    return {"child_id": child_id, "sex": "F", "ethnicity": ethnicity, "date_of_birth": DOB}


def _contact(child_id: str, day: date | None, source: str = "1A", ethnicity: str = "WBRI") -> dict[str, Any]:
    return {**_child(child_id, ethnicity), "contact_date": day, "contact_source": source}


def _referral(child_id: str, day: date | None, nfa: bool = False, worker: str = "W1", source: str = "1A") -> dict:
    return {**_child(child_id), "referral_date": day, "nfa": nfa, "worker": worker, "referral_source": source}


def _episode(child_id: str, start: date | None, closed: date | None, reason: str | None = "RC1") -> dict[str, Any]:
    return {**_child(child_id), "start_date": start, "closure_date": closed, "closure_reason": reason}


def _assessment(child_id: str, start: date | None, authorised: date, referral: date | None = None) -> dict[str, Any]:
    return {**_child(child_id), "start_date": start, "authorised_date": authorised, "referral_date": referral}


FIRST: dict[str, list[dict[str, Any]]] = {
    "contacts": [
        _contact("A", D(2024, 1, 5)),
        _contact("A", D(2024, 3, 1)),
        _contact("B", D(2024, 2, 1)),
        _contact("C", D(2024, 2, 10)),
        _contact("I", D(2024, 2, 1)),
        _contact("I", D(2024, 1, 20)),
        _contact("J", None),  # a NULL date: always rewritten
        _contact("J", D(2024, 1, 3)),
        _contact("M", D(2024, 1, 3)),
    ],
    "referrals": [
        _referral("A", D(2024, 1, 10)),
        _referral("C", D(2024, 1, 1)),
        _referral("C", D(2024, 3, 1), nfa=True),
        _referral("E", D(2024, 1, 1)),
        _referral("E", D(2024, 6, 1)),
        _referral("F", D(2024, 1, 1)),
        _referral("F", D(2024, 3, 1), nfa=True),  # an NFA closure until an episode starts on its day
        _referral("G", D(2024, 1, 1)),
        _referral("H", D(2024, 1, 1)),
        _referral("I", D(2024, 1, 1)),
        _referral("I", D(2024, 2, 1)),
        _referral("J", D(2024, 1, 1)),
        _referral("K", D(2024, 1, 1)),
        _referral("K", D(2024, 3, 1)),
        _referral("L", D(2024, 1, 1)),
        _referral("M", D(2024, 1, 1)),
        _referral("P", D(2024, 1, 1)),
    ],
    "cin_episodes": [
        _episode("E", D(2024, 1, 1), D(2024, 1, 20)),
        _episode("P", D(2024, 1, 15), D(2024, 2, 1)),  # matches after T, before D: its next referral is new
        _episode("I", D(2024, 1, 1), D(2024, 2, 1)),  # closed on the day of a referral (rule 8820)
        _episode("I", D(2024, 1, 2), D(2024, 2, 1)),  # two closures sharing a match date
    ],
    "assessments": [
        _assessment("H", D(2024, 3, 1), D(2024, 3, 20), referral=D(2024, 4, 1)),  # a census date not yet a referral
        _assessment("H", D(2024, 2, 1), D(2024, 2, 20)),
        _assessment("C", D(2024, 2, 20), D(2024, 3, 5)),
        _assessment("C", None, D(2024, 3, 9), referral=D(2024, 2, 15)),  # a NULL start: always rewritten
        _assessment("B", D(2024, 3, 1), D(2024, 3, 9)),  # no referral links to it, before B's new one or after
        _assessment("B", D(2024, 1, 1), D(2024, 1, 9), referral=D(2024, 4, 1)),  # linked to B's coming referral
    ],
}
LOADS: list[dict[str, list[dict[str, Any]]]] = [
    {
        "contacts": [
            _contact("A", D(2024, 5, 1)),  # a new contact after an old referral
            _contact("I", D(2024, 2, 1), source="2B"),  # same day as a contact and a referral of I
            _contact("J", D(2024, 4, 1)),
            _contact("M", D(2024, 4, 1), ethnicity="APKN"),  # M's ethnicity changes: M is rewritten whole
            _contact("N", D(2024, 4, 1)),  # a child new to the store
        ],
        "referrals": [
            _referral("B", D(2024, 4, 1)),  # a new referral without an earlier one
            _referral("C", D(2024, 2, 15), source="2A"),  # a new referral between two earlier ones
            _referral("H", D(2024, 4, 1), source="3A"),  # the assessment's census referral arrives
            _referral("L", D(2024, 1, 1), worker="W2"),  # a replaced row: L is rewritten whole
            _referral("P", D(2024, 3, 1)),
            _referral("N", D(2024, 4, 2)),
        ],
        "cin_episodes": [
            _episode("E", D(2024, 2, 1), D(2024, 3, 1)),  # a new closure between referrals
            _episode("F", D(2024, 3, 1), D(2024, 4, 1)),  # an episode the NFA referral now has
            _episode("G", D(2024, 2, 1), None),  # an open episode alone: G is rewritten whole
        ],
    },
    {
        "contacts": [
            _contact("A", D(2024, 7, 1)),
            _contact("A", D(2024, 6, 30)),
            _contact("G", D(2024, 7, 1)),
            _contact("C", D(2024, 2, 16)),
            _contact("K", D(2024, 7, 1)),
        ],
        "referrals": [
            _referral("A", D(2024, 6, 30)),  # a referral on a contact's day
            _referral("K", None),  # new rows with NULL dates: K is rewritten whole
            _referral("E", D(2024, 7, 1), nfa=True),
        ],
        "cin_episodes": [
            _episode("G", D(2024, 6, 1), D(2024, 6, 20)),
            _episode("C", D(2024, 3, 1), D(2024, 3, 10)),  # a closed episode hides the NFA referral of its day
            _episode("K", None, D(2024, 1, 5)),  # it matches on its closure, before K's later dates
        ],
        "assessments": [
            _assessment("H", D(2024, 4, 2), D(2024, 4, 30)),
            _assessment("C", D(2024, 2, 18), D(2024, 2, 28)),
        ],
    },
    {
        "referrals": [_referral("E", D(2024, 7, 1), nfa=True)],  # sent again as it was: kept whole
        "contacts": [_contact("I", D(2024, 2, 1), source="3C"), _contact("N", D(2024, 8, 1))],
    },
]


def _table(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


def _facts_after_each_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[dict, dict, dict]]:
    """Per load: the published fact tables, a full rebuild's, and the bounds the publish used (child -> (D, T))."""
    monkeypatch.setattr(derive, "FULL_REBUILD_SHARE", 2.0)  # a tiny store: force the incremental path
    bounds: dict[str, tuple] = {}
    narrow = derive._narrow_facts

    def spy(con: duckdb.DuckDBPyConnection, changes: str | None, plan: dict, new_loads: list[int] | None) -> dict:
        narrowed = narrow(con, changes, plan, new_loads)
        scope = narrowed.get("events")
        if scope is not None and scope.bounds is not None:
            rows = con.execute(f"SELECT child_id, first_new_date, last_referral_before FROM {scope.bounds}")
            bounds.update({child: (d, t) for child, d, t in rows.fetchall()})
        return narrowed

    monkeypatch.setattr(derive, "_narrow_facts", spy)
    path = build_store(tmp_path / "store.duckdb", FIRST, as_of=D(2024, 3, 31))
    results = []
    for i, rows in enumerate(LOADS):
        bounds.clear()
        _second_load(path, rows, as_of=D(2024, 7 + i, 28))
        con = open_read(path)
        published = {t: _table(con, t) for t in FACTS}
        con.close()
        rebuilt_path = tmp_path / f"rebuilt{i}.duckdb"
        shutil.copyfile(path.resolve(), rebuilt_path)
        rebuilt = duckdb.connect(str(rebuilt_path))
        build_derived(rebuilt)
        results.append((published, {t: _table(rebuilt, t) for t in FACTS}, dict(bounds)))
        rebuilt.close()
    return results


def test_rows_kept_before_the_bounds_and_rewritten_after_equal_a_full_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = _facts_after_each_load(tmp_path, monkeypatch)
    for published, rebuilt, _ in results:
        for table in FACTS:
            assert published[table] == rebuilt[table], table
    first = results[0][2]
    assert first["A"] == (D(2024, 5, 1), D(2024, 1, 10))
    assert first["B"] == (D(2024, 4, 1), None)  # no referral before D: every contact and closure rewritten
    assert first["C"] == (D(2024, 2, 15), D(2024, 1, 1))
    assert first["E"] == (D(2024, 2, 1), D(2024, 1, 1))
    assert first["F"] == (D(2024, 3, 1), D(2024, 1, 1))
    assert first["H"] == (D(2024, 4, 1), D(2024, 1, 1))
    assert first["I"] == (D(2024, 2, 1), D(2024, 1, 1))  # T strictly before D: the referral of D's day is not T
    assert first["J"] == (D(2024, 4, 1), D(2024, 1, 1))
    assert first["P"] == (D(2024, 3, 1), D(2024, 1, 1))
    for whole in ("G", "L", "M", "N"):  # an open episode alone, a replaced row, new attributes, new to the store
        assert first[whole] == (None, None), whole
    second = results[1][2]
    assert second["K"] == (None, None)  # a NULL date among the new rows
    assert second["A"] == (D(2024, 6, 30), D(2024, 1, 10))
    assert second["G"] == (D(2024, 6, 1), D(2024, 1, 1))
    assert "E" not in results[2][2]  # sent again as it was: E's facts are kept


def test_the_sequence_reaches_the_cases_it_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rows the sequence is written to exercise are there after the last load."""
    published = _facts_after_each_load(tmp_path, monkeypatch)[-1][0]
    contacts = {(r[0], r[1], r[3]): r for r in published["contact_facts"]}
    assert contacts[("C", D(2024, 2, 10), "1A")][11] == D(2024, 2, 15)  # its next referral is the new one
    closures = {(r[0], r[1], r[4]): r for r in published["closure_facts"]}
    assert ("F", D(2024, 3, 1), "nfa_referral") not in closures
    assert ("C", D(2024, 3, 1), "nfa_referral") not in closures
    assert closures[("P", D(2024, 2, 1), "episode")][12] == D(2024, 3, 1)
    assessments = {(r[0], r[1]): r for r in published["assessment_facts"]}
    assert assessments[("H", D(2024, 3, 1))][5:7] == (D(2024, 4, 1), "3A")
    assert assessments[("B", D(2024, 3, 1))][5:7] == (None, "Not recorded")
    assert assessments[("C", None)][5:7] == (D(2024, 2, 15), "2A")
    assert assessments[("B", D(2024, 1, 1))][5:7] == (D(2024, 4, 1), "1A")
