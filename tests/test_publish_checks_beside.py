"""The data quality checks run beside the derived tables (ingest.publish.finalise): the tables they store equal those of
the checks run after them, and a failure of either side publishes nothing."""

from __future__ import annotations

import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from expectations import incremental, runner
from ingest.merge import CHANGES, merge_loads
from ingest.publish import finalise
from store import derive, summary
from store.connection import one_commit, open_for_update, open_read, published_file, versions_dir
from store.derive import DERIVED_TABLES
from store.summary import SUMMARIES
from tests.storekit import _frame, build_store, copy_store
from tests.test_expectations_checks import valid_row

AS_OF = date(2025, 3, 31)
LATER = date(2031, 3, 31)  # beyond the calendar's last day (2030-12-31): the month's publish widens the calendar
STORED = [
    "dq_results",
    "dq_failures",
    incremental.KEPT,
    incremental.KEPT_UNITS,
    incremental.STATE,
    "dq_child_attributes",
    "dq_child_attributes_state",
    *DERIVED_TABLES,
    *SUMMARIES,
]


def _first_load() -> dict[str, list[dict[str, Any]]]:
    """Children recorded alike, one with two ethnicities, one with an invalid code, an assessment left open."""
    rows: dict[str, list[dict[str, Any]]] = {"contacts": [], "referrals": [], "assessments": [], "recordings": []}
    for child in ("a", "b", "c"):
        rows["contacts"] += [valid_row("contacts", child, i) for i in range(2)]
        rows["referrals"] += [valid_row("referrals", child, 0)]
        rows["recordings"] += [valid_row("recordings", child, 0)]
    rows["contacts"] += [valid_row("contacts", "b", 5, ethnicity="WIRI"), valid_row("contacts", "c", 6, ethnicity="X")]
    rows["assessments"] += [valid_row("assessments", "a", 0, authorised_date=None)]
    return rows


def _month() -> dict[str, list[dict[str, Any]]]:
    """A later extract: 'a' sent again with another date of birth, 'b' with a new referral, a new child 'd' with a
    contact before 1990 and an assessment open since the extract's year (its working days need the widened calendar)."""
    return {
        "contacts": [valid_row("contacts", "a", 0, date_of_birth=date(2016, 1, 1)), valid_row("contacts", "d", 0)]
        + [valid_row("contacts", "d", 1, contact_date=date(1985, 1, 1))],
        "referrals": [valid_row("referrals", "b", 3)],
        "assessments": [valid_row("assessments", "d", 0, start_date=date(2031, 1, 6), authorised_date=None)],
        "recordings": [valid_row("recordings", "d", 0)],
    }


def _add_load(con: duckdb.DuckDBPyConnection, rows: dict[str, list[dict[str, Any]]], as_of: date) -> int:
    """The versions of one load of hand-written rows, and its row in `loads` (as storekit.build_store writes them)."""
    load_id = int(con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM loads").fetchall()[0][0])
    count = sum(map(len, rows.values()))
    con.execute(
        "INSERT INTO loads (load_id, source_file, sha256, format, as_of, loaded_at, rows_read, rows_loaded,"
        " rows_rejected, rows_superseded, rows_unchanged, notices) VALUES"
        " (?, 'fixture', ?, 'fixture', ?, now(), ?, ?, 0, 0, 0, [])",
        [load_id, f"fixture-{load_id}", as_of, count, count],
    )
    for entity, items in rows.items():
        con.register("fixture_rows", _frame(entity, items, load_id, as_of))
        con.execute(f"INSERT INTO {entity}_versions BY NAME SELECT * FROM fixture_rows")
        con.unregister("fixture_rows")
    return load_id


def _checks_after(con: duckdb.DuckDBPyConnection, load_id: int) -> None:
    """The order before the checks ran beside: merge, derived tables and summaries in one commit, then the checks."""
    with one_commit(con):
        merge_loads(con, [load_id])
        derive.build_derived(con, changes=CHANGES, new_loads=[load_id])
        summary.build_summaries(con, CHANGES, [load_id])
    runner.validate_store(con, load_id, changes=CHANGES, new_loads=[load_id])


def _tables(path: Path) -> dict[str, list[tuple]]:
    con = open_read(path)
    try:
        out = {}
        for table in STORED:
            columns = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall() if r[0] != "run_at"]
            out[table] = con.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY ALL").fetchall()
        return out
    finally:
        con.close()


@pytest.fixture
def first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FRONTDOOR_DATA_DOCS", "off")
    monkeypatch.setattr(derive, "FULL_REBUILD_SHARE", 2.0)  # a tiny store: the incremental path
    return build_store(tmp_path / "first.duckdb", _first_load(), as_of=AS_OF, validate=True)


def test_checks_beside_store_what_checks_after_store(first: Path, tmp_path: Path) -> None:
    """The month published with the checks beside the derived step equals it published with them after (every dq_
    table, derived table and summary), and its checks re-ran on the touched rows only."""
    beside, after = copy_store(first, tmp_path / "beside.duckdb"), copy_store(first, tmp_path / "after.duckdb")
    with open_for_update(beside) as con:
        finalise(con, _add_load(con, _month(), LATER), new_loads=[2])
    with open_for_update(after) as con:
        _checks_after(con, _add_load(con, _month(), LATER))
    got, want = _tables(beside), _tables(after)
    for table in STORED:
        assert got[table] == want[table], f"{table}: the checks beside the derived step stored other rows"
    assert got["calendar"][-1][0] == LATER  # widened by the month, before its checks ran
    assert any(r[0] == 2 for r in got["dq_results"]) and got[incremental.STATE]  # the month's results, kept counts
    failed = {r[1] for r in got["dq_failures"]}
    assert {"contacts.contact_date_not_before_1990", "assessments.8670Q_open_over_45_days"} <= failed, failed


def _published(store: Path) -> tuple[Path, list[str], dict[str, list[tuple]]]:
    return published_file(store), sorted(p.name for p in versions_dir(store).iterdir()), _tables(store)


def _fails(*_args: Any, **_kwargs: Any) -> None:
    raise RuntimeError("failed on purpose")


@pytest.mark.parametrize("side", ["checks", "derived"])
def test_a_failure_on_either_side_publishes_nothing(
    first: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, side: str
) -> None:
    """The checks fail while the derived step runs, or the other way round: the error is raised, the store is as it
    was and the work copy is gone."""
    store = copy_store(first, tmp_path / "store.duckdb")
    before = _published(store)
    target = (runner, "validate_store") if side == "checks" else (derive, "build_derived")
    monkeypatch.setattr(*target, _fails)
    with pytest.raises(RuntimeError, match="failed on purpose"), open_for_update(store) as con:
        finalise(con, _add_load(con, _month(), LATER), new_loads=[2])
    assert _published(store) == before
    assert not [t for t in threading.enumerate() if t.name.startswith("dq-checks")]


def test_checks_that_fail_first_stop_the_derived_step_and_theirs_is_the_error(
    first: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A derived step that would run for long is interrupted when the checks fail: their error is raised, at once."""
    store = copy_store(first, tmp_path / "store.duckdb")
    before = _published(store)
    running = threading.Event()

    def long_derive(con: duckdb.DuckDBPyConnection, *_args: Any, **_kwargs: Any) -> None:
        running.set()
        con.execute("SELECT count(*) FROM range(20000000000) t WHERE t.range % 7 = 3").fetchall()  # about a minute

    def checks_fail(*_args: Any, **_kwargs: Any) -> None:
        assert running.wait(30)
        time.sleep(0.5)  # the derived step's statement is running
        _fails()

    monkeypatch.setattr(derive, "build_derived", long_derive)
    monkeypatch.setattr(runner, "validate_store", checks_fail)
    started = time.perf_counter()
    with pytest.raises(RuntimeError, match="failed on purpose"), open_for_update(store) as con:
        finalise(con, _add_load(con, _month(), LATER), new_loads=[2])
    assert time.perf_counter() - started < 20, "the derived step was not interrupted"
    assert _published(store) == before
