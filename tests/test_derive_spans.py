"""A publish widens the recordings' spans of children whose recordings were only added to, reads again those whose
bound may have moved, and gives the `children` and `recording_spans` a full rebuild gives."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from store import derive
from store.connection import open_read
from store.derive import build_derived
from tests.storekit import build_store
from tests.test_derive_lookups import _second_load

D = date


def _recording(record_id: str, child_id: str, day: date) -> dict:
    return {"record_id": record_id, "child_id": child_id, "event_date": day, "entered_at": datetime(2024, 7, 1, 9)}


FIRST = {
    "recordings": [
        _recording("r1", "A", D(2024, 1, 5)),  # A's earliest recording: moved later by the second load
        _recording("r2", "A", D(2024, 2, 10)),
        _recording("r3", "A", D(2024, 3, 15)),
        _recording("r4", "B", D(2024, 1, 20)),
        _recording("r5", "C", D(2024, 2, 1)),
        _recording("r6", "C", D(2024, 2, 20)),  # inside C's span: moved to B by the second load
        _recording("r7", "C", D(2024, 3, 1)),
        _recording("r8", "E", D(2024, 5, 1)),  # E's only record: moved to the new child G
    ],
    "referrals": [
        {"child_id": "A", "referral_date": D(2024, 2, 1), "sex": "F"},
        {"child_id": "F", "referral_date": D(2024, 4, 1), "sex": "M"},
    ],
}
SECOND = {
    "recordings": [
        _recording("r1", "A", D(2024, 2, 15)),
        _recording("r6", "B", D(2024, 2, 20)),
        _recording("r8", "G", D(2024, 5, 1)),
        _recording("r9", "C", D(2024, 6, 1)),  # added: widens C
        _recording("r10", "H", D(2024, 6, 2)),  # added: a new child
    ]
}


def _table(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


def test_spans_widened_or_read_again_equal_a_full_rebuild(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(derive, "FULL_REBUILD_SHARE", 2.0)  # a tiny store: force the incremental path
    read_again: list[str] = []
    unsettled = derive.unsettled_spans

    def spy(con: duckdb.DuckDBPyConnection, changed: derive.Scope, recorded: str) -> derive.Scope:
        found = unsettled(con, changed, recorded)
        read_again.extend(r[0] for r in con.execute(f"SELECT child_id FROM {found.table}").fetchall())
        return found

    monkeypatch.setattr(derive, "unsettled_spans", spy)
    path = build_store(tmp_path / "store.duckdb", FIRST, as_of=D(2024, 6, 30))
    _second_load(path, SECOND, as_of=D(2024, 7, 31))
    # A's earliest recording and E's only one left them: read again; C lost a date inside its span, B and C gained
    assert sorted(read_again) == ["A", "E"]
    con = open_read(path)
    assert _table(con, "recording_spans") == [
        ("A", D(2024, 2, 10), D(2024, 3, 15)),
        ("B", D(2024, 1, 20), D(2024, 2, 20)),
        ("C", D(2024, 2, 1), D(2024, 6, 1)),
        ("G", D(2024, 5, 1), D(2024, 5, 1)),
        ("H", D(2024, 6, 2), D(2024, 6, 2)),
    ]
    spans = con.execute("SELECT child_id, sex, first_seen, last_seen FROM children ORDER BY child_id").fetchall()
    assert spans == [
        ("A", "F", D(2024, 2, 1), D(2024, 3, 15)),  # the referral is earlier than A's recordings now
        ("B", None, D(2024, 1, 20), D(2024, 2, 20)),
        ("C", None, D(2024, 2, 1), D(2024, 6, 1)),
        ("F", "M", D(2024, 4, 1), D(2024, 4, 1)),
        ("G", None, D(2024, 5, 1), D(2024, 5, 1)),
        ("H", None, D(2024, 6, 2), D(2024, 6, 2)),
    ]
    published = {t: _table(con, t) for t in ("children", "recording_spans")}
    con.close()
    rebuilt_path = tmp_path / "rebuilt.duckdb"
    shutil.copyfile(path.resolve(), rebuilt_path)
    rebuilt = duckdb.connect(str(rebuilt_path))
    build_derived(rebuilt)  # every recording read again
    assert {t: _table(rebuilt, t) for t in published} == published


def test_a_store_without_spans_gets_them_at_its_next_publish(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store derived before `recording_spans` existed: the next publish builds them in full, the rest incrementally."""
    monkeypatch.setattr(derive, "FULL_REBUILD_SHARE", 2.0)
    path = build_store(tmp_path / "store.duckdb", FIRST, as_of=D(2024, 6, 30))
    con = duckdb.connect(str(path.resolve()))
    con.execute("DROP TABLE recording_spans")
    assert derive._plan(con, None) == {"children": None, "events": None, "records": None}
    con.execute("CREATE TEMP TABLE changes (entity VARCHAR, child_id VARCHAR, record_id VARCHAR)")
    con.execute("INSERT INTO changes VALUES ('recordings', 'C', 'r7')")
    assert derive._plan(con, "changes")["children"] == derive.Scope("_derive_children")  # not everything again
    con.close()
    _second_load(path, SECOND, as_of=D(2024, 7, 31))
    con = open_read(path)
    assert _table(con, "recording_spans")[2] == ("C", D(2024, 2, 1), D(2024, 6, 1))
    assert len(_table(con, "recording_spans")) == 5


WIDENED_FIRST = {
    "recordings": [
        _recording("k1", "K", D(2024, 1, 10)),
        _recording("k2", "K", D(2024, 3, 10)),
        _recording("l1", "L", D(2024, 2, 1)),
        _recording("l2", "L", D(2024, 4, 1)),
    ],
    "referrals": [
        {"child_id": "K", "referral_date": D(2024, 2, 1), "sex": "F", "ethnicity": "WBRI"},
        {"child_id": "N", "referral_date": D(2024, 2, 5), "sex": "M", "ethnicity": "APKN"},
    ],
}
WIDENED_SECOND = {
    "recordings": [
        _recording("k3", "K", D(2023, 12, 1)),  # earlier than K's span and its referral: first seen moves
        _recording("k4", "K", D(2024, 5, 1)),  # later: last seen moves
        _recording("l3", "L", D(2024, 3, 1)),  # inside L's span: nothing moves
        _recording("m1", "M", D(2024, 6, 1)),  # a child new to the store, recordings alone
    ],
    "referrals": [{"child_id": "N", "referral_date": D(2024, 6, 5), "sex": "M", "ethnicity": "WIRI"}],
}


def test_recordings_alone_widen_spans_in_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Children touched by recordings alone keep their rows, the span's two dates updated where they grow (no
    delete and insert: a commit would rewrite every row group thinned by deletes); the result is a full rebuild's."""
    monkeypatch.setattr(derive, "FULL_REBUILD_SHARE", 2.0)
    cleared: list[tuple[str, str | None]] = []
    widened: list[tuple[str, list[str]]] = []
    clear, widen = derive._clear, derive._widen_in_place

    def spy_clear(con: duckdb.DuckDBPyConnection, table: str, scope: derive.Scope | None) -> None:
        cleared.append((table, None if scope is None else scope.table))
        clear(con, table, scope)

    def spy_widen(con: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, str], spans: str) -> None:
        grows = (
            f"SELECT t.child_id FROM {table} t JOIN {spans} w USING (child_id) WHERE w.first_recorded < t.{columns[0]}"
            f" OR w.last_recorded > t.{columns[1]} ORDER BY 1"
        )
        widened.append((table, [r[0] for r in con.execute(grows).fetchall()]))
        widen(con, table, columns, spans)

    path = build_store(tmp_path / "store.duckdb", WIDENED_FIRST, as_of=D(2024, 6, 30))
    monkeypatch.setattr(derive, "_clear", spy_clear)
    monkeypatch.setattr(derive, "_widen_in_place", spy_widen)
    _second_load(path, WIDENED_SECOND, as_of=D(2024, 7, 31))
    assert ("recording_spans", ["K"]) in widened and ("children", ["K"]) in widened  # L's span did not grow
    assert ("children", "_derive_attributed") in cleared  # only N's row is deleted and written again
    assert not [c for c in cleared if c[0] in ("children", "recording_spans") and c[1] == "_derive_children"]
    con = open_read(path)
    rows = con.execute(
        "SELECT child_id, sex, ethnicity, ethnicities_recorded, first_seen, last_seen FROM children ORDER BY 1"
    ).fetchall()
    assert rows == [
        ("K", "F", "WBRI", ["WBRI"], D(2023, 12, 1), D(2024, 5, 1)),
        ("L", None, None, [], D(2024, 2, 1), D(2024, 4, 1)),
        ("M", None, None, [], D(2024, 6, 1), D(2024, 6, 1)),
        ("N", "M", "WIRI", ["APKN", "WIRI"], D(2024, 2, 5), D(2024, 6, 5)),
    ]
    assert _table(con, "recording_spans")[0] == ("K", D(2023, 12, 1), D(2024, 5, 1))
    published = {t: _table(con, t) for t in ("children", "recording_spans", "children_keys")}
    con.close()
    rebuilt_path = tmp_path / "rebuilt.duckdb"
    shutil.copyfile(path.resolve(), rebuilt_path)
    rebuilt = duckdb.connect(str(rebuilt_path))
    build_derived(rebuilt)
    assert {t: _table(rebuilt, t) for t in published} == published
