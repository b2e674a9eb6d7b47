"""Assessment and recording timeliness on hand-written rows; each row says why it counts or not."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from metrics.params import Filters, Period
from metrics.timeliness import (
    assessment_duration_bands,
    assessment_timeliness,
    count_open_assessments_overdue,
    open_assessments_overdue,
    recording_backlog,
    recording_timeliness,
)
from store.connection import open_read
from tests.storekit import build_store

D = date
PERIOD = Period(D(2024, 1, 1), D(2024, 3, 31))
AS_OF = D(2024, 4, 30)

REFERRALS = [
    dict(child_id="1", referral_date=D(2023, 12, 20), team="East", referral_source="6"),  # child 1's referral
    dict(child_id="3", referral_date=D(2023, 11, 20), team="West", referral_source="2A"),  # child 3's referral
]
ASSESSMENTS = [
    # 1: started Tue 2 Jan, authorised Tue 5 Mar 2024 = day 45 -> in time; from referral (20 Dec 2023) 53 -> late
    dict(
        child_id="1",
        start_date=D(2024, 1, 2),
        authorised_date=D(2024, 3, 5),
        team="East",
        worker="Ann",
        child_seen=True,
    ),
    # 2: the same start, authorised Wed 6 Mar = day 46 -> late; no referral at all -> not on the referral clock
    dict(
        child_id="2",
        start_date=D(2024, 1, 2),
        authorised_date=D(2024, 3, 6),
        team="East",
        worker="Bob",
        child_seen=False,
    ),
    # 3: Mon 20 Nov 2023 -> Thu 25 Jan 2024 over Christmas = 45 -> in time; the CIN census gave its referral
    dict(
        child_id="3",
        start_date=D(2023, 11, 20),
        authorised_date=D(2024, 1, 25),
        referral_date=D(2023, 11, 20),
        team="West",
        worker="Cat",
    ),
    # 4: a Saturday start authorised the Monday after = 1 working day -> in time
    dict(child_id="4", start_date=D(2024, 3, 23), authorised_date=D(2024, 3, 25), team="West", worker="Cat"),
    # 5: same-day assessment = 0 working days -> in time, band 'same day'
    dict(child_id="5", start_date=D(2024, 2, 29), authorised_date=D(2024, 2, 29), team="West", worker="Cat"),
    # 6: authorised in April -> outside the period
    dict(child_id="6", start_date=D(2024, 2, 1), authorised_date=D(2024, 4, 2), team="East", worker="Ann"),
    # 7: open since 2 Jan 2024: 83 working days at 30 Apr -> overdue
    dict(child_id="7", start_date=D(2024, 1, 2), team="East", worker="Ann"),
    # 8: open since 2 Apr 2024: 20 working days -> open, not overdue
    dict(child_id="8", start_date=D(2024, 4, 2), team="West", worker="Cat"),
    # 9: started Fri 23 Feb: exactly 45 working days at 30 Apr -> not yet overdue
    dict(child_id="9", start_date=D(2024, 2, 23), team="West", worker="Cat"),
]
RECORDINGS = [
    # event Fri 3 May entered Tue 7 May (Mon 6 May bank holiday) = 1 -> within 5 (event outside PERIOD)
    dict(
        record_id="r0",
        child_id="1",
        record_type="visit",
        event_date=D(2024, 5, 3),
        entered_at=datetime(2024, 5, 7, 9, 0),
        team="East",
        worker="Ann",
    ),
    # Mon 4 Mar -> Mon 11 Mar = 5 working days -> within target 5
    dict(
        record_id="r1",
        child_id="1",
        record_type="visit",
        event_date=D(2024, 3, 4),
        entered_at=datetime(2024, 3, 11, 17, 30),
        team="East",
        worker="Ann",
        child_views_recorded=True,
    ),
    # Mon 4 Mar -> Tue 12 Mar = 6 -> late
    dict(
        record_id="r2",
        child_id="1",
        record_type="case_note",
        event_date=D(2024, 3, 4),
        entered_at=datetime(2024, 3, 12, 8, 0),
        team="East",
        worker="Bob",
    ),
    # same day = 0 -> within target
    dict(
        record_id="r3",
        child_id="2",
        record_type="case_note",
        event_date=D(2024, 1, 10),
        entered_at=datetime(2024, 1, 10, 12, 0),
        team="West",
        worker="Cat",
    ),
    # Thu 28 Mar -> Tue 2 Apr over Easter = 1 -> within target
    dict(
        record_id="r4",
        child_id="2",
        record_type="visit",
        event_date=D(2024, 3, 28),
        entered_at=datetime(2024, 4, 2, 10, 0),
        team="West",
        worker="Cat",
    ),
    # not written up -> in the denominator, not within target; in the backlog
    dict(record_id="r5", child_id="3", record_type="visit", event_date=D(2024, 3, 29), team="West", worker="Cat"),
]


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    path = tmp_path_factory.mktemp("timeliness") / "store.duckdb"
    build_store(path, {"referrals": REFERRALS, "assessments": ASSESSMENTS, "recordings": RECORDINGS}, as_of=AS_OF)
    return open_read(path)


def test_day_45_in_time_day_46_late(con: duckdb.DuckDBPyConnection) -> None:
    row = assessment_timeliness(con, PERIOD).iloc[0]
    # authorised Jan-Mar: 1 (45), 2 (46), 3 (45), 4 (1), 5 (0) -> 4 of 5 in time
    assert (row["numerator"], row["denominator"]) == (4, 5)
    assert row["rate"] == pytest.approx(80.0)
    assert row["median_wd"] == 45.0
    assert assessment_timeliness(con, PERIOD, limit_wd=46).iloc[0]["numerator"] == 5


def test_referral_clock(con: duckdb.DuckDBPyConnection) -> None:
    row = assessment_timeliness(con, PERIOD, clock="referral").iloc[0]
    # 1: 20 Dec -> 5 Mar = 53 late; 3: 20 Nov -> 25 Jan = 45 in time; 2, 4, 5 have no referral
    assert (row["numerator"], row["denominator"]) == (1, 2)


def test_by_worker(con: duckdb.DuckDBPyConnection) -> None:
    frame = assessment_timeliness(con, PERIOD, by="worker").set_index("worker")
    assert frame.loc["Ann", ["numerator", "denominator"]].tolist() == [1, 1]
    assert frame.loc["Bob", ["numerator", "denominator"]].tolist() == [0, 1]
    assert frame.loc["Cat", ["numerator", "denominator"]].tolist() == [3, 3]
    assert assessment_timeliness(con, PERIOD, Filters(team="East")).iloc[0]["denominator"] == 2


def test_duration_bands(con: duckdb.DuckDBPyConnection) -> None:
    bands = assessment_duration_bands(con, PERIOD).set_index("band")["count"].to_dict()
    assert bands == {
        "same day": 1,
        "1-10": 1,
        "11-20": 0,
        "21-30": 0,
        "31-40": 0,
        "41-45": 2,
        "46-50": 1,
        "51-60": 0,
        "61+": 0,
    }


def test_open_assessments_overdue(con: duckdb.DuckDBPyConnection) -> None:
    frame = open_assessments_overdue(con, as_of=AS_OF)
    assert frame.columns[:5].tolist() == ["child_id", "start_date", "working_days_open", "team", "worker"]
    # 7 is open 83 working days; 8 (20) and 9 (45, the limit itself) are not overdue
    assert frame["child_id"].tolist() == ["7"]
    assert frame.iloc[0]["working_days_open"] == 83
    # default as-of = the load's as-of date (30 Apr 2024)
    assert open_assessments_overdue(con)["child_id"].tolist() == ["7"]
    # on 1 May child 9 reaches 46 -> overdue
    assert sorted(open_assessments_overdue(con, as_of=D(2024, 5, 1))["child_id"]) == ["7", "9"]
    # at 1 Mar 2024, 6 (authorised 2 Apr) was still open but only 20 days in
    assert open_assessments_overdue(con, as_of=D(2024, 3, 1)).empty
    assert count_open_assessments_overdue(con, as_of=D(2024, 5, 1)) == 2
    assert count_open_assessments_overdue(con, as_of=D(2024, 5, 1), filters=Filters(team="East")) == 1


def test_recording_timeliness(con: duckdb.DuckDBPyConnection) -> None:
    row = recording_timeliness(con, PERIOD).iloc[0]
    # events Jan-Mar: r1 (5), r2 (6), r3 (0), r4 (1), r5 (not written up)
    assert (row["numerator"], row["denominator"]) == (3, 5)
    assert (row["written_up"], row["not_written_up"]) == (4, 1)
    assert row["median_delay_wd"] == pytest.approx(3.0)  # median of 0, 1, 5, 6
    assert row["p90_delay_wd"] == pytest.approx(5.7)  # linear interpolation
    assert recording_timeliness(con, PERIOD, target_wd=6).iloc[0]["numerator"] == 4


def test_recording_by_type_and_worker(con: duckdb.DuckDBPyConnection) -> None:
    by_type = recording_timeliness(con, PERIOD, by="record_type").set_index("record_type")
    assert by_type.loc["visit", ["numerator", "denominator"]].tolist() == [2, 3]
    assert by_type.loc["case_note", ["numerator", "denominator"]].tolist() == [1, 2]
    by_worker = recording_timeliness(con, PERIOD, by="worker").set_index("worker")
    assert by_worker.loc["Bob", "numerator"] == 0


def test_recording_delay_over_a_bank_holiday(con: duckdb.DuckDBPyConnection) -> None:
    may = recording_timeliness(con, Period(D(2024, 5, 1), D(2024, 5, 31))).iloc[0]
    assert may["median_delay_wd"] == 1.0 and may["numerator"] == 1


def test_recording_backlog(con: duckdb.DuckDBPyConnection) -> None:
    frame = recording_backlog(con, as_of=AS_OF)
    assert frame["record_id"].tolist() == ["r5"]
    assert frame.iloc[0]["working_days_waiting"] == 21  # Fri 29 Mar -> Tue 30 Apr, Easter Monday excluded
    # on 8 Mar, r1 and r2 (event 4 Mar) were not yet written up either
    assert sorted(recording_backlog(con, as_of=D(2024, 3, 8))["record_id"]) == ["r1", "r2"]


def test_empty_period(con: duckdb.DuckDBPyConnection) -> None:
    empty = Period(D(2019, 1, 1), D(2019, 1, 31))
    row = assessment_timeliness(con, empty).iloc[0]
    assert row["denominator"] == 0 and row["rate"] != row["rate"]
    rec = recording_timeliness(con, empty).iloc[0]
    assert rec["denominator"] == 0 and rec["median_delay_wd"] != rec["median_delay_wd"]
    assert assessment_duration_bands(con, empty)["count"].sum() == 0


def test_backlog_count_is_the_length_of_the_backlog_list(con: duckdb.DuckDBPyConnection) -> None:
    """The count the page shows before the list is opened is the list's own length, with and without filters."""
    from metrics.timeliness import count_recording_backlog

    assert count_recording_backlog(con, as_of=D(2024, 3, 8)) == 2  # r1 and r2, as test_recording_backlog lists them
    for day in (AS_OF, D(2024, 3, 8)):
        for filters in (Filters(), Filters(team="East"), Filters(worker="nobody")):
            listed = recording_backlog(con, as_of=day, filters=filters)
            assert count_recording_backlog(con, as_of=day, filters=filters) == len(listed)
