"""Front-door and practice metrics on hand-written rows; each row says why it counts or not."""

from __future__ import annotations

import math
from datetime import date

import duckdb
import pytest

from metrics.front_door import contact_conversion, contacts_per_child, repeat_contacts
from metrics.params import Filters, Period
from metrics.practice import child_seen_rate, child_views_rate
from store.connection import open_read
from tests.storekit import build_store

D = date
PERIOD = Period(D(2024, 1, 1), D(2024, 12, 31))

CONTACTS = [
    dict(child_id="1", contact_date=D(2023, 2, 1), contact_source="6"),  # before period; makes Jan 2024 a repeat
    dict(child_id="1", contact_date=D(2024, 1, 31), contact_source="6"),  # repeat (within 12 months); referral +30d
    dict(child_id="1", contact_date=D(2024, 1, 31), contact_source="2A"),  # same day, other source: same as above
    dict(child_id="2", contact_date=D(2024, 3, 1), contact_source="2A"),  # first contact; referral 31 days later
    dict(child_id="3", contact_date=D(2024, 4, 1), contact_source="6"),  # referral the same day -> converted
    dict(child_id="3", contact_date=D(2025, 4, 1), contact_source="6"),  # exactly 12 months later (outside period)
]
REFERRALS = [
    dict(child_id="1", referral_date=D(2024, 3, 1)),  # 30 days after child 1's contact (2024 leap: Jan 31 + 30)
    dict(child_id="2", referral_date=D(2024, 4, 1)),  # 31 days after child 2's contact -> not within 30
    dict(child_id="3", referral_date=D(2024, 4, 1)),  # same day as child 3's contact
]
ASSESSMENTS = [
    dict(child_id="1", start_date=D(2024, 3, 1), authorised_date=D(2024, 3, 20), child_seen=True, team="East"),  # seen
    dict(child_id="2", start_date=D(2024, 4, 1), authorised_date=D(2024, 4, 20), child_seen=False, team="East"),  # not
    dict(child_id="3", start_date=D(2024, 4, 1), authorised_date=D(2024, 4, 22), team="West"),  # not recorded
    dict(child_id="4", start_date=D(2024, 4, 1), child_seen=True, team="West"),  # open: not in the denominator
]
RECORDINGS = [
    dict(record_id="a", child_id="1", event_date=D(2024, 3, 2), child_views_recorded=True, worker="Ann"),  # views
    dict(record_id="b", child_id="1", event_date=D(2024, 3, 3), child_views_recorded=False, worker="Ann"),  # none
    dict(record_id="c", child_id="2", event_date=D(2024, 3, 4), worker="Bob"),  # extract does not say: left out
]


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    path = tmp_path_factory.mktemp("front_door") / "store.duckdb"
    build_store(
        path,
        {"contacts": CONTACTS, "referrals": REFERRALS, "assessments": ASSESSMENTS, "recordings": RECORDINGS},
        as_of=D(2025, 4, 30),
    )
    return open_read(path)


def test_contacts_per_child(con: duckdb.DuckDBPyConnection) -> None:
    row = contacts_per_child(con, PERIOD).iloc[0]
    assert (row["contacts"], row["children"]) == (4, 3)  # contacts in 2024 about children 1, 1, 2, 3
    assert row["contacts_per_child"] == pytest.approx(4 / 3)
    by_source = contacts_per_child(con, PERIOD, by="contact_source").set_index("contact_source")
    assert by_source.loc["2A", "contacts"] == 2 and by_source.loc["6", "children"] == 2


def test_contact_conversion_within_30_days(con: duckdb.DuckDBPyConnection) -> None:
    row = contact_conversion(con, PERIOD).iloc[0]
    # child 1's two contacts (30 days) and child 3's (same day) convert; child 2's (31 days) does not
    assert (row["numerator"], row["denominator"]) == (3, 4)
    assert contact_conversion(con, PERIOD, within_days=31).iloc[0]["numerator"] == 4
    # the referral_source filter selects the contact source
    assert contact_conversion(con, PERIOD, Filters(referral_source="2A")).iloc[0]["denominator"] == 2


def test_repeat_contacts(con: duckdb.DuckDBPyConnection) -> None:
    row = repeat_contacts(con, PERIOD).iloc[0]
    # child 1's two same-day contacts each follow the Feb 2023 contact; 2 and 3 are first contacts
    assert (row["numerator"], row["denominator"]) == (2, 4)
    later = repeat_contacts(con, Period(D(2025, 1, 1), D(2025, 12, 31))).iloc[0]
    assert (later["numerator"], later["denominator"]) == (1, 1)  # exactly 12 months after: a repeat


def test_child_seen(con: duckdb.DuckDBPyConnection) -> None:
    # "Child seen" not recorded is not "no": left out of the rate by default, counted beside it.
    row = child_seen_rate(con, PERIOD).iloc[0]
    assert (row["numerator"], row["denominator"], row["not_recorded"]) == (1, 2, 1)
    assert row["rate"] == 50.0 and not row["mostly_not_recorded"]
    by_team = child_seen_rate(con, PERIOD, by="team").set_index("team")
    assert by_team.loc["East", "rate"] == 50.0
    # West's only assessment has no answer: marked, never drawn as 0%.
    assert bool(by_team.loc["West", "mostly_not_recorded"]) and math.isnan(by_team.loc["West", "rate"])
    # The old reading stays available by name.
    old = child_seen_rate(con, PERIOD, unknowns="as_no").iloc[0]
    assert (old["numerator"], old["denominator"]) == (1, 3)


def test_child_views(con: duckdb.DuckDBPyConnection) -> None:
    row = child_views_rate(con, PERIOD).iloc[0]
    assert (row["numerator"], row["denominator"], row["not_stated"]) == (1, 2, 1)
    bob = child_views_rate(con, PERIOD, Filters(worker="Bob")).iloc[0]
    assert bob["denominator"] == 0 and math.isnan(bob["rate"])  # nothing stated: no rate
