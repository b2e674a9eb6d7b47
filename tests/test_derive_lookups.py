"""The derived tables' lookups (ethnicity category and group by join, age and age band) against their definitions."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from store.codes import AGE_BAND_UNKNOWN, AGE_BANDS, ETHNICITY_GROUPS, ETHNICITY_NAMES, ETHNICITY_NOT_KNOWN
from store.derive import (
    NOT_KNOWN_GROUP,
    _age_band_sql,
    _age_sql,
    _category_sql,
    _group_sql,
    build_ethnicity_codes,
)
from store.sql import ethnicity_category_sql

# every code, its lower case, padded and unknown look-alikes, blanks and NULL
RECORDED = [*ETHNICITY_NAMES, *(c.lower() for c in ETHNICITY_NAMES), " WBRI", "WBRI ", "XXXX", "", "   ", None]


def _category(code: str | None) -> str:
    if code is None or not code.strip():
        return "missing"
    if code in ETHNICITY_GROUPS:
        return "known"
    return code if code in ETHNICITY_NOT_KNOWN else "invalid"


@pytest.fixture()
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    build_ethnicity_codes(connection)
    connection.execute("CREATE TABLE recorded (ethnicity VARCHAR)")
    connection.executemany("INSERT INTO recorded VALUES (?)", [[code] for code in RECORDED])
    return connection


def test_category_and_group_by_join_match_the_code_lists_and_the_shared_category_sql(con) -> None:
    """Every code, NULL, blank and unknown code: the join gives the category store.sql gives and the group the
    code list gives ('Not known' for REFU, NOBT and anything else)."""
    rows = con.execute(
        f"SELECT r.ethnicity, {_category_sql('r.ethnicity', 'c')}, {ethnicity_category_sql('r.ethnicity')},"
        f" {_group_sql('c')} FROM recorded r LEFT JOIN ethnicity_codes c ON c.code = r.ethnicity"
    ).fetchall()
    assert len(rows) == len(RECORDED)
    for code, by_join, shared, group in rows:
        assert by_join == shared == _category(code), code
        assert group == ETHNICITY_GROUPS.get(code or "", NOT_KNOWN_GROUP), code


def test_a_publish_keeps_the_code_table_only_when_it_holds_exactly_the_code_lists(con) -> None:
    before = con.execute("SELECT * FROM ethnicity_codes ORDER BY code").fetchall()
    con.execute("UPDATE ethnicity_codes SET ethnicity_group = 'Changed' WHERE code = 'WBRI'")
    build_ethnicity_codes(con, present={"ethnicity_codes"})  # a stale table is replaced
    assert con.execute("SELECT * FROM ethnicity_codes ORDER BY code").fetchall() == before
    build_ethnicity_codes(con, present={"ethnicity_codes"})  # an up-to-date one is kept, same rows
    assert con.execute("SELECT * FROM ethnicity_codes ORDER BY code").fetchall() == before


def _band(age: float | None) -> str:
    if age is None:
        return AGE_BAND_UNKNOWN
    for label, lower, upper in AGE_BANDS:
        if (lower is None or age >= lower) and (upper is None or age < upper):
            return label
    return AGE_BAND_UNKNOWN


def test_age_and_band_follow_the_date_of_birth_then_the_recorded_age() -> None:
    """Birthdays on, before and after the day, unborn, leap days, no date of birth (the recorded age rounded
    down) and nothing known: the SQL gives the age in whole years and the band of store.codes.AGE_BANDS."""
    cases = [  # (date of birth, day, recorded age, expected age)
        (date(2010, 5, 1), date(2024, 5, 1), None, 14),
        (date(2010, 5, 2), date(2024, 5, 1), None, 13),
        (date(2010, 4, 30), date(2024, 5, 1), None, 14),
        (date(2024, 6, 1), date(2024, 5, 1), 3.0, -1),
        (date(2008, 2, 29), date(2024, 2, 28), None, 15),
        (date(2008, 2, 29), date(2024, 2, 29), None, 16),
        (date(2024, 5, 1), date(2024, 5, 1), None, 0),
        (None, date(2024, 5, 1), 4.9, 4),
        (None, date(2024, 5, 1), -0.5, -1),
        (None, date(2024, 5, 1), 17.0, 17),
        (None, date(2024, 5, 1), None, None),
    ]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER, dob DATE, d DATE, age_years DOUBLE)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", [[i, *c[:3]] for i, c in enumerate(cases)])
    got = con.execute(
        f"SELECT age, {_age_band_sql('age')} FROM (SELECT i, {_age_sql('dob', 'd', 'age_years')} AS age FROM t)"
        " ORDER BY i"
    ).fetchall()
    assert [a for a, _ in got] == [c[3] for c in cases]
    assert [b for _, b in got] == [_band(c[3]) for c in cases]
    every_age = con.execute(f"SELECT a, {_age_band_sql('a')} FROM range(-3, 25) t(a)").fetchall()
    assert every_age == [(a, _band(a)) for a in range(-3, 25)]


def _second_load(path, rows: dict[str, list[dict]], as_of: date) -> None:
    """Publish `rows` as a new load the way the loaders do: only what it touched is merged and re-derived."""
    from ingest.publish import finalise
    from store.connection import open_for_update
    from store.schema import ENTITIES
    from tests.storekit import _frame

    with open_for_update(path) as con:
        load_id = con.execute("SELECT max(load_id) + 1 FROM loads").fetchone()[0]
        con.execute(
            "INSERT INTO loads (load_id, source_file, sha256, format, as_of, loaded_at, rows_read, rows_loaded,"
            " rows_rejected, rows_superseded, rows_unchanged, notices) VALUES"
            " (?, 'second', 'second', 'fixture', ?, now(), 1, 1, 0, 0, 0, [])",
            [load_id, as_of],
        )
        for entity, items in rows.items():
            con.register("second_rows", _frame(entity, items, load_id, as_of))
            con.execute(f"INSERT INTO {ENTITIES[entity].versions_table} BY NAME SELECT * FROM second_rows")
            con.unregister("second_rows")
        finalise(con, load_id, validate=False, new_loads=[load_id])


@pytest.mark.parametrize("others", [0, 6], ids=["most children touched", "a few touched"])
def test_a_publish_adds_the_new_versions_codes_to_each_childs_list_as_a_rebuild_does(
    tmp_path, monkeypatch, others: int
) -> None:
    """A later extract replaces a child's referral with another code (the old version stays in the versions), brings
    a new child, a new code for one child and a code it holds already for another: the children's lists after the publish (grown by the new versions, for all children or
    for the touched ones) are a full rebuild's."""
    import shutil

    from store import derive
    from store.connection import open_read
    from store.derive import build_derived
    from tests.storekit import build_store

    grown = []
    every_version = derive._codes_sql
    monkeypatch.setattr(
        derive,
        "_codes_sql",
        lambda con, src, scope, new_loads: (
            grown.append((scope, new_loads)) or every_version(con, src, scope, new_loads)
        ),
    )

    day = date(2024, 5, 1)
    path = build_store(
        tmp_path / "store.duckdb",
        {
            "referrals": [
                {"child_id": "A", "referral_date": day, "ethnicity": "WBRI"},
                {"child_id": "B", "referral_date": day, "ethnicity": "NOBT"},
                {"child_id": "C", "referral_date": day, "ethnicity": "APKN"},
                {"child_id": "C", "referral_date": date(2024, 4, 1), "ethnicity": "WBRI"},
                *({"child_id": f"O{i}", "referral_date": day, "ethnicity": "BAFR"} for i in range(others)),
            ]
        },
        as_of=date(2024, 5, 31),
    )
    _second_load(
        path,
        {
            "referrals": [
                {"child_id": "A", "referral_date": day, "ethnicity": "WIRI"},  # replaces A's WBRI
                {"child_id": "D", "referral_date": day, "ethnicity": "XXXX"},  # a new child, an invalid code
                {"child_id": "B", "referral_date": date(2024, 6, 1), "ethnicity": "AIND"},  # a new code, sorted first
                {"child_id": "C", "referral_date": date(2024, 6, 1), "ethnicity": "APKN"},  # a code C's list holds
            ]
        },
        as_of=date(2024, 6, 30),
    )
    scope = None if others == 0 else derive.Scope("_derive_attributed")  # the children whose events changed
    assert grown[-1] == (scope, [2])  # the second publish grew the lists, all of them or the touched children's
    con = open_read(path)
    published = con.execute("SELECT child_id, ethnicities_recorded FROM children ORDER BY child_id").fetchall()
    con.close()
    others_rows = [(f"O{i}", ["BAFR"]) for i in range(others)]
    assert published == [
        ("A", ["WBRI", "WIRI"]),
        ("B", ["AIND", "NOBT"]),
        ("C", ["APKN", "WBRI"]),  # kept as it was: it holds every code the new versions bring
        ("D", ["XXXX"]),
        *others_rows,
    ]
    rebuilt_path = tmp_path / "rebuilt.duckdb"
    shutil.copyfile(path.resolve(), rebuilt_path)
    rebuilt = duckdb.connect(str(rebuilt_path))
    build_derived(rebuilt)  # every version read again
    assert rebuilt.execute("SELECT child_id, ethnicities_recorded FROM children ORDER BY child_id").fetchall() == (
        published
    )
