"""The derived tables: grain, the child's attributes, previous referral and closure, linked referrals."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from store.connection import open_read
from store.derive import DERIVED_TABLES
from tests.storekit import build_store

D = date

ROWS = {
    "referrals": [
        dict(child_id="1", referral_date=D(2023, 1, 10), ethnicity="NOBT", sex="F", date_of_birth=D(2015, 6, 1)),
        dict(child_id="1", referral_date=D(2023, 9, 1), ethnicity="WBRI", sex="F", date_of_birth=D(2015, 6, 1)),
        dict(child_id="1", referral_date=D(2024, 2, 1), ethnicity="NOBT", sex="F"),  # later NOBT: child stays WBRI
        dict(child_id="2", referral_date=D(2024, 3, 1), nfa=True, date_of_birth=D(2024, 5, 1)),  # unborn
        dict(child_id="2", referral_date=D(2024, 3, 1), nfa=True),  # same-day duplicate: one referral
        dict(child_id="2", referral_date=D(2024, 8, 1), date_of_birth=D(2024, 5, 1)),  # after the NFA referral
    ],
    "cin_episodes": [
        # closed on the day of child 1's next referral: a closure may fall on it (rule 8820)
        dict(child_id="1", start_date=D(2023, 1, 10), closure_date=D(2023, 9, 1), closure_reason="RC7", disabled=True),
        # child 1's Sep 2023 episode, started and closed the same day as its referral: not its own previous closure
        dict(child_id="1", start_date=D(2023, 9, 1), closure_date=D(2023, 9, 1), closure_reason="RC8"),
    ],
    "assessments": [
        dict(child_id="1", start_date=D(2024, 2, 5), authorised_date=D(2024, 2, 9)),  # linked to 1 Feb referral
        dict(child_id="1", start_date=D(2023, 9, 4), referral_date=D(2023, 1, 10)),  # census date wins
    ],
    "recordings": [dict(record_id="x", child_id="9", event_date=D(2024, 1, 5), entered_at=datetime(2024, 1, 8, 9))],
    "contacts": [dict(child_id="1", contact_date=D(2023, 8, 31), contact_source="6")],
}


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    path = tmp_path_factory.mktemp("derive") / "store.duckdb"
    build_store(path, ROWS)
    return open_read(path)


def test_every_derived_table_exists(con: duckdb.DuckDBPyConnection) -> None:
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert set(DERIVED_TABLES) <= tables


def test_children_latest_attributes(con: duckdb.DuckDBPyConnection) -> None:
    rows = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT child_id, ethnicity, ethnicities_recorded, sex, date_of_birth, disabled, first_seen, last_seen"
            " FROM children"
        ).fetchall()
    }
    assert set(rows) == {"1", "2", "9"}  # one row per child, recordings included
    ethnicity, recorded, sex, dob, disabled, first, last = rows["1"]
    assert ethnicity == "WBRI" and recorded == ["NOBT", "WBRI"]
    assert (sex, dob, disabled) == ("F", D(2015, 6, 1), True)
    assert (first, last) == (D(2023, 1, 10), D(2024, 2, 9))
    assert rows["2"][0] is None and rows["2"][1] == []  # no ethnicity anywhere


def test_referral_facts(con: duckdb.DuckDBPyConnection) -> None:
    facts = con.execute(
        "SELECT child_id, referral_date, previous_referral_date, re_referral_12m, previous_closure_date,"
        " previous_closure_reason, age_band FROM referral_facts ORDER BY child_id, referral_date"
    ).fetchall()
    assert facts == [
        ("1", D(2023, 1, 10), None, False, None, None, "5 to 9"),
        # episode closed 1 Sep 2023, the day of this referral: it is the previous closure
        ("1", D(2023, 9, 1), D(2023, 1, 10), True, D(2023, 9, 1), "RC7", "5 to 9"),
        # latest closure before 1 Feb 2024 is the Sep 2023 episode closed the day it started
        ("1", D(2024, 2, 1), D(2023, 9, 1), True, D(2023, 9, 1), "RC8", "5 to 9"),
        ("2", D(2024, 3, 1), None, False, None, None, "Unborn"),  # duplicate collapsed; not its own closure
        ("2", D(2024, 8, 1), D(2024, 3, 1), True, D(2024, 3, 1), "NFA", "Under 1"),
    ]


def test_closure_facts(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        "SELECT child_id, closure_date, closure_reason, closure_kind, next_referral_date,"
        " days_to_next_referral FROM closure_facts ORDER BY child_id, closure_date, closure_reason"
    ).fetchall()
    assert rows == [
        ("1", D(2023, 9, 1), "RC7", "episode", D(2023, 9, 1), 0),  # followed the same day
        ("1", D(2023, 9, 1), "RC8", "episode", D(2024, 2, 1), 153),  # its own referral is not its successor
        ("2", D(2024, 3, 1), "NFA", "nfa_referral", D(2024, 8, 1), 153),
    ]


def test_assessment_facts_link_referrals_and_count_working_days(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        "SELECT start_date, referral_date, wd_start_to_auth, wd_referral_to_auth FROM assessment_facts"
        " ORDER BY start_date"
    ).fetchall()
    assert rows == [
        (D(2023, 9, 4), D(2023, 1, 10), None, None),  # open; the census referral date wins over 1 Sep 2023
        (D(2024, 2, 5), D(2024, 2, 1), 4, 6),  # Mon 5 -> Fri 9 Feb = 4; Thu 1 -> Fri 9 Feb = 6
    ]


def test_recording_and_contact_facts(con: duckdb.DuckDBPyConnection) -> None:
    assert con.execute("SELECT delay_wd FROM recording_facts").fetchall() == [(1,)]  # Fri 5 -> Mon 8 Jan
    assert con.execute("SELECT next_referral_date, days_to_referral FROM contact_facts").fetchall() == [
        (D(2023, 9, 1), 1)
    ]


def test_grain_one_row_per_key(con: duckdb.DuckDBPyConnection) -> None:
    for table, key in (
        ("referral_facts", "child_id, referral_date"),
        ("assessment_facts", "child_id, start_date"),
        ("recording_facts", "record_id"),
        ("children", "child_id"),
    ):
        dupes = con.execute(f"SELECT count(*) FROM (SELECT {key} FROM {table} GROUP BY ALL HAVING count(*) > 1)")
        assert dupes.fetchone()[0] == 0, table


def test_rows_of_one_day_and_one_extract_that_disagree_give_one_answer_whatever_holds_which(tmp_path) -> None:
    """A contact and a referral of one child on one day in one extract, recording different sexes and
    ethnicities: the child's attributes do not depend on which record holds which value (no arbitrary pick)."""
    a, b = {"sex": "M", "ethnicity": "WBRI"}, {"sex": "F", "ethnicity": "ABAN"}
    seen = set()
    for i, (first, second) in enumerate([(a, b), (b, a)]):
        rows = {
            "contacts": [{"child_id": "T1", "contact_date": date(2024, 5, 1), "contact_source": "1A", **first}],
            "referrals": [{"child_id": "T1", "referral_date": date(2024, 5, 1), "referral_source": "1A", **second}],
        }
        con = open_read(build_store(tmp_path / f"s{i}.duckdb", rows))
        seen.add(con.execute("SELECT sex, ethnicity FROM children WHERE child_id = 'T1'").fetchone())
        con.close()
    assert len(seen) == 1, seen


def test_a_publish_rebuilds_only_the_scopes_whose_inputs_changed(tmp_path) -> None:
    """Changes to contacts alone leave the recording facts as they are; to a recording alone, the event facts."""
    from store.derive import Scope, _plan, build_derived

    path = tmp_path / "store.duckdb"
    build_store(path, ROWS)
    con = duckdb.connect(str(path.resolve()))
    con.execute("CREATE TEMP TABLE changes (entity VARCHAR, child_id VARCHAR, record_id VARCHAR)")
    assert _plan(con, None) == {"children": None, "events": None, "records": None}  # no changes table: all in full
    con.execute("INSERT INTO changes VALUES ('contacts', '1', NULL)")
    assert _plan(con, "changes") == {"children": Scope("_derive_children"), "events": Scope("_derive_events")}
    con.execute("DELETE FROM changes")
    con.execute("INSERT INTO changes VALUES ('recordings', '9', 'x')")  # the store's only record: in full
    assert _plan(con, "changes") == {"children": Scope("_derive_children"), "records": None}
    con.execute("DELETE FROM changes")
    con.execute("INSERT INTO changes VALUES ('contacts', '1', NULL), ('contacts', '2', NULL)")  # most of 3 children
    assert _plan(con, "changes") == {"children": None, "events": None}
    before = con.execute("SELECT * FROM recording_facts ORDER BY ALL").fetchall()
    build_derived(con, "changes")
    assert con.execute("SELECT * FROM recording_facts ORDER BY ALL").fetchall() == before


def test_a_referral_after_two_closures_of_one_day_names_one_previous_closure_whatever_order_they_arrive(
    tmp_path,
) -> None:
    """Two overlapping episodes of a child closed on one day (messy, but sent): the next referral's previous
    closure is the later-started episode's, in whichever order the store holds them (no arbitrary ASOF pick)."""
    early = {
        "child_id": "T2",
        "start_date": date(2023, 1, 2),
        "closure_date": date(2023, 6, 1),
        "closure_reason": "RC1",
    }
    late = {"child_id": "T2", "start_date": date(2023, 2, 1), "closure_date": date(2023, 6, 1), "closure_reason": "RC4"}
    seen = set()
    for i, episodes in enumerate([[early, late], [late, early]]):
        rows = {
            "referrals": [{"child_id": "T2", "referral_date": date(2023, 9, 1)}],
            "cin_episodes": episodes,
        }
        con = open_read(build_store(tmp_path / f"s{i}.duckdb", rows))
        seen.add(
            con.execute(
                "SELECT previous_closure_date, previous_closure_reason, days_since_closure FROM referral_facts"
            ).fetchone()
        )
        con.close()
    assert seen == {(date(2023, 6, 1), "RC4", 92)}
