"""The publish-time summaries (store/summary.py): built at every publish, never stale, and the same answers without them."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from storekit import build_store
from test_dashboard_fixture import AS_OF, build_dashboard_store

from metrics.coverage import coverage_by_month, data_span, filter_options, history_warnings, plausible_span
from metrics.ethnicity import count_ethnicity_inconsistent_children, ethnicity_inconsistent_children
from metrics.params import Period
from store.connection import open_read
from store.summary import BUILT, SUMMARIES, is_fresh, relation

PERIOD = Period(date(2024, 4, 1), date(2025, 3, 31))


def _answers(con: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    """Every answer the summaries serve, frames as lists of rows (so that == compares their values)."""
    frames = (coverage_by_month(con), plausible_span(con), ethnicity_inconsistent_children(con))
    return (
        filter_options(con),
        data_span(con),
        history_warnings(con, PERIOD),
        count_ethnicity_inconsistent_children(con),
        *([f.columns.tolist(), f.astype(object).where(f.notna(), None).values.tolist()] for f in frames),
    )


def _without_summaries(store: Path, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """A copy of the published store with its summaries dropped, as a store published by an older build."""
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(store.resolve(), copy)
    con = duckdb.connect(str(copy))
    for table in [*SUMMARIES, BUILT]:
        con.execute(f"DROP TABLE {table}")
    return con


@pytest.fixture(scope="module")
def fixture_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_dashboard_store(tmp_path_factory.mktemp("summaries") / "store.duckdb")


def test_each_summary_holds_its_full_computation(fixture_store: Path) -> None:
    with open_read(fixture_store) as con:
        assert is_fresh(con)
        for table, (_, sql) in SUMMARIES.items():
            assert relation(con, table) == table
            stored = sorted(con.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
            assert stored == sorted(con.execute(sql).fetchall(), key=repr), table
        staff = con.execute("SELECT count(*) FROM summary_staff").fetchone()
        assert staff is not None and staff[0] >= 2  # the fixture's teams and workers


def test_the_metrics_answer_the_same_with_or_without_the_summaries(fixture_store: Path, tmp_path: Path) -> None:
    with open_read(fixture_store) as con:
        from_summaries = _answers(con)
    with _without_summaries(fixture_store, tmp_path) as con:
        assert not is_fresh(con)
        assert relation(con, "summary_staff").startswith("(SELECT")
        assert _answers(con) == from_summaries
    options, spans, *_ = from_summaries
    assert options["team"] == ["Team North", "Team South"]
    assert options["worker:Team North"] == sorted(options["worker:Team North"]) and options["worker:Team North"]
    assert spans["referrals"]["rows"] > 0 and spans["referrals"]["latest"] <= AS_OF


def test_a_load_published_without_rebuilding_them_is_read_from_the_facts(fixture_store: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(fixture_store.resolve(), copy)
    with duckdb.connect(str(copy)) as con:  # a later load by a build that keeps no summaries: Team South gone
        con.execute(
            "INSERT INTO loads (load_id, source_file, sha256, format, as_of, loaded_at, rows_read, rows_loaded,"
            " rows_rejected, rows_superseded, rows_unchanged, notices)"
            " SELECT max(load_id) + 1, 'older-build', 'x', 'fixture', max(as_of), now(), 0, 0, 0, 0, 0, [] FROM loads"
        )
        for table in ("referral_facts", "assessment_facts", "recording_facts", "closure_facts"):
            con.execute(f"DELETE FROM {table} WHERE team = 'Team South'")
        assert not is_fresh(con)  # built for an earlier load: never read
        stale_present = _answers(con)
        for table in [*SUMMARIES, BUILT]:
            con.execute(f"DROP TABLE {table}")
        assert _answers(con) == stale_present
    assert stale_present[0]["team"] == ["Team North"]


def test_every_publish_rebuilds_them(tmp_path: Path) -> None:
    store = tmp_path / "store.duckdb"
    referral = {
        "child_id": "A1",
        "referral_date": date(2024, 5, 1),
        "referral_source": "6",
        "nfa": False,
        "team": "Team East",
        "worker": "Worker E",
        "sex": "F",
        "ethnicity": "WBRI",
        "date_of_birth": date(2015, 1, 1),
    }
    build_store(store, {"referrals": [referral]}, as_of=AS_OF)
    with open_read(store) as con:
        assert filter_options(con)["team"] == ["Team East"]
    later = {**referral, "child_id": "B2", "referral_date": date(2025, 2, 3), "team": "Team West", "worker": "W"}
    build_store(store, {"referrals": [later]}, as_of=AS_OF)
    with open_read(store) as con:
        assert is_fresh(con)
        options = filter_options(con)
        assert options["team"] == ["Team East", "Team West"] and options["worker:Team West"] == ["W"]
        assert data_span(con)["referrals"] == {"earliest": date(2024, 5, 1), "latest": date(2025, 2, 3), "rows": 2}


def _list3(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    """An Annex A List 3 CSV: (child, ethnicity, referral date dd/mm/yyyy, team) per row."""
    lines = [
        "Child Unique ID,Gender,Ethnicity,Date of Birth,Date of Referral,Referral Source,Referral NFA?,"
        "Allocated Team,Allocated Worker"
    ]
    lines += [f"{child},F,{eth},01/01/2015,{day},3A,No,{team},Worker 1" for child, eth, day, team in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_loads_update_them_for_the_children_they_touch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest.pipeline import load_files
    from store import summary

    incremental: list[bool] = []
    check = summary._built_for_load_before
    monkeypatch.setattr(summary, "_built_for_load_before", lambda *a: incremental.append(check(*a)) or incremental[-1])

    store = tmp_path / "store.duckdb"
    first = [
        ("X1", "WBRI", "01/05/2024", "Team A"),
        ("Y2", "WBRI", "02/05/2024", "Team A"),
        ("Y2", "APKN", "03/06/2024", "Team A"),
        ("Z3", "WBRI", "04/05/2024", "Team A"),
    ]
    later = [("X1", "APKN", "05/01/2025", "Team B"), ("Z3", "WBRI", "06/01/2025", "Team B")]
    for n, rows in enumerate((first, later)):
        summaries = load_files([_list3(tmp_path / f"list3_{n}.csv", rows)], store=store, validate=False)
        assert all(s.status == "loaded" for s in summaries), [s.error for s in summaries]
    # the first load built them in full without asking (a new store: no derived tables yet, so no
    # `derived_built`), the second rebuilt only its children's rows
    assert incremental == [True]
    with open_read(store) as con:
        assert is_fresh(con)
        for table, (_, sql) in SUMMARIES.items():
            stored = sorted(con.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
            assert stored == sorted(con.execute(sql).fetchall(), key=repr), table
        conflicts = con.execute("SELECT child_id FROM summary_ethnicity_conflicts ORDER BY 1").fetchall()
        assert conflicts == [("X1",), ("Y2",)]  # X1 by the later load, Y2 kept from the first
        assert filter_options(con)["team"] == ["Team A", "Team B"]


def test_conflicting_ethnicities_count_only_known_codes(tmp_path: Path) -> None:
    """Two known codes make a conflict; a known code beside REFU, NOBT, a blank or an invalid code does not (the
    summary filters each child's list of codes in place: the same children as unnesting and joining the codes)."""
    day = date(2024, 5, 1)
    codes = {"K2": ["WBRI", "WIRI"], "K1": ["WBRI", "REFU", "NOBT", "XXXX", ""], "N0": ["REFU", "NOBT"], "K3": ["APKN"]}
    rows = [
        {"child_id": child, "referral_date": date(2024, 5, 1 + i), "ethnicity": code}
        for child, listed in codes.items()
        for i, code in enumerate(listed)
    ]
    store = build_store(tmp_path / "store.duckdb", {"referrals": rows}, as_of=day)
    with open_read(store) as con:
        assert con.execute("SELECT child_id FROM summary_ethnicity_conflicts").fetchall() == [("K2",)]
        unnested = con.execute(
            "SELECT child_id FROM (SELECT child_id, unnest(ethnicities_recorded) AS code FROM children)"
            " JOIN ethnicity_codes USING (code) WHERE category = 'known' GROUP BY child_id HAVING count(DISTINCT code) > 1"
        ).fetchall()
        assert unnested == [("K2",)]
        listed = dict(con.execute("SELECT child_id, ethnicities_recorded FROM children").fetchall())
        assert listed["K1"] == ["NOBT", "REFU", "WBRI", "XXXX"]  # each code once, the blank left out
