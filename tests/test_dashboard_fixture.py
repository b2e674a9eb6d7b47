"""The dashboard's fixture store: hand-written rows whose headline figures are worked out by hand below."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from storekit import build_store

AS_OF = date(2025, 3, 31)
PERIOD = (date(2024, 4, 1), date(2025, 3, 31))
NORTH, SOUTH = "Team North", "Team South"

# Re-referrals in Apr 2024 – Mar 2025: 10 referrals (C01–C10), 3 re-referrals -> 30.0%.
# Team North: C01, C02, C03, C05, C06 -> 2 of 5 = 40.0%; Team South: C04, C07–C10 -> 1 of 5 = 20.0%.
EXPECTED = {
    "re_referrals": "30.0%",
    "re_referrals_north": "40.0%",
    "re_referrals_south": "20.0%",
    "assessments": "75.0%",
    "assessments_north": "100.0%",
    "conversion": "33.3%",
}


def _referral(child: str, day: date, team: str, worker: str, ethnicity: str | None = "WBRI", **extra: Any) -> dict:
    return {
        "child_id": child,
        "referral_date": day,
        "referral_source": extra.pop("source", "6"),
        "nfa": False,
        "team": team,
        "worker": worker,
        "sex": "F",
        "ethnicity": ethnicity,
        "date_of_birth": date(2015, 1, 1),
        **extra,
    }


def fixture_rows() -> dict[str, list[dict[str, Any]]]:
    """Referrals, assessments, episodes, contacts and recordings with known headline figures."""
    referrals = [
        # History before the period (the look-back reaches back 12 months).
        _referral("C01", date(2023, 9, 1), NORTH, "Worker A"),
        _referral("C02", date(2023, 6, 16), NORTH, "Worker A"),
        _referral("C03", date(2023, 6, 30), NORTH, "Worker B"),
        _referral("C04", date(2024, 2, 1), SOUTH, "Worker C"),
        # The period.
        _referral("C01", date(2024, 5, 10), NORTH, "Worker A"),  # 8 months after 2023-09-01: re-referral
        _referral("C02", date(2024, 6, 15), NORTH, "Worker A"),  # 2023-06-16 is within 12 months: re-referral
        _referral("C03", date(2024, 7, 1), NORTH, "Worker B"),  # 2023-06-30 is 12 months and a day: not
        _referral("C04", date(2024, 8, 1), SOUTH, "Worker C"),  # 6 months after 2024-02-01: re-referral
        _referral("C05", date(2024, 9, 2), NORTH, "Worker B", ethnicity="REFU"),
        _referral("C06", date(2024, 10, 7), NORTH, "Worker A", ethnicity=None),
        _referral("C07", date(2024, 11, 4), SOUTH, "Worker C"),
        _referral("C08", date(2024, 12, 2), SOUTH, "Worker D", source="2A"),
        _referral("C09", date(2025, 1, 6), SOUTH, "Worker D", source="2A"),
        _referral("C10", date(2025, 2, 3), SOUTH, "Worker C", source="3A"),
    ]
    assessment = lambda child, start, end, team, worker: {  # noqa: E731
        "child_id": child,
        "start_date": start,
        "authorised_date": end,
        "child_seen": True,
        "requires_support": True,
        "disabled": False,
        "team": team,
        "worker": worker,
        "sex": "F",
        "ethnicity": "WBRI",
    }
    assessments = [
        assessment("C01", date(2024, 5, 13), date(2024, 5, 24), NORTH, "Worker A"),  # 9 working days: in time
        assessment("C02", date(2024, 6, 17), date(2024, 7, 5), NORTH, "Worker A"),  # 14: in time
        assessment("C07", date(2024, 11, 5), date(2024, 12, 3), SOUTH, "Worker C"),  # 20: in time
        assessment("C04", date(2024, 8, 2), date(2024, 12, 20), SOUTH, "Worker C"),  # about 100: late
        assessment("C09", date(2025, 1, 7), None, SOUTH, "Worker D"),  # open, overdue at as-of
    ]
    episodes = [
        {
            "child_id": "C01",
            "start_date": date(2023, 9, 1),
            "closure_date": date(2023, 12, 1),
            "closure_reason": "RC8",
            "primary_need": "N1",
            "team": NORTH,
            "worker": "Worker A",
        },
        {
            "child_id": "C04",
            "start_date": date(2024, 2, 1),
            "closure_date": date(2024, 4, 30),
            "closure_reason": "RC7",
            "primary_need": "N4",
            "team": SOUTH,
            "worker": "Worker C",
        },
        {
            "child_id": "C07",
            "start_date": date(2024, 11, 4),
            "closure_date": date(2025, 1, 31),
            "closure_reason": "RC8",
            "primary_need": "N5",
            "team": SOUTH,
            "worker": "Worker C",
        },
    ]

    def contact(child: str, day: date, source: str = "6") -> dict:
        return {"child_id": child, "contact_date": day, "contact_source": source, "sex": "F", "ethnicity": "WBRI"}

    # Contacts: 6 in the period, 2 followed by a referral within 30 days -> 33.3%; C12 contacted twice.
    contacts = [
        contact("C01", date(2024, 5, 5)),
        contact("C04", date(2024, 7, 20)),
        contact("C11", date(2024, 9, 1), "2A"),
        contact("C12", date(2024, 10, 1)),
        contact("C12", date(2024, 11, 1)),
        contact("C13", date(2024, 12, 2), "3A"),
    ]
    record = lambda rid, child, event, entered, team="Team North", worker="Worker A": {  # noqa: E731
        "record_id": rid,
        "child_id": child,
        "record_type": "case_note",
        "event_date": event,
        "entered_at": entered,
        "team": team,
        "worker": worker,
        "child_views_recorded": True,
    }
    recordings = [
        record("R1", "C01", date(2024, 5, 13), datetime(2024, 5, 14, 10)),
        record("R2", "C02", date(2024, 6, 17), datetime(2024, 6, 18, 10)),
        record("R3", "C07", date(2024, 11, 5), datetime(2024, 11, 6, 10), SOUTH, "Worker C"),
        record("R4", "C04", date(2024, 8, 2), datetime(2024, 9, 20, 10), SOUTH, "Worker C"),
        record("R5", "C09", date(2025, 3, 31), None, SOUTH, "Worker D"),
    ]
    return {
        "referrals": referrals,
        "assessments": assessments,
        "cin_episodes": episodes,
        "contacts": contacts,
        "recordings": recordings,
    }


def build_dashboard_store(
    path: Path, rows: dict[str, list[dict[str, Any]]] | None = None, validate: bool = False
) -> Path:
    """The fixture store at `path` (all rows unless `rows` is given), with the data quality checks run if asked."""
    return build_store(path, rows=fixture_rows() if rows is None else rows, as_of=AS_OF, validate=validate)


@pytest.fixture(scope="module")
def fixture_store(dashboard_store: Path) -> Path:
    return dashboard_store  # built by build_dashboard_store once for the run (conftest.py)


def _rate(function: Any, store: Path, **kwargs: Any) -> str:
    from metrics.params import Period
    from store.connection import open_read

    con = open_read(store)
    try:
        row = function(con, Period(*PERIOD), **kwargs).iloc[0]
    finally:
        con.close()
    return f"{row['rate']:.1f}%"


def test_fixture_re_referral_rate_is_what_the_comments_say(fixture_store: Path) -> None:
    from metrics.params import Filters
    from metrics.re_referrals import re_referral_rate

    assert _rate(re_referral_rate, fixture_store) == EXPECTED["re_referrals"]
    assert _rate(re_referral_rate, fixture_store, filters=Filters(team=NORTH)) == EXPECTED["re_referrals_north"]
    assert _rate(re_referral_rate, fixture_store, filters=Filters(team=SOUTH)) == EXPECTED["re_referrals_south"]


def test_fixture_assessment_timeliness_is_what_the_comments_say(fixture_store: Path) -> None:
    from metrics.params import Filters
    from metrics.timeliness import assessment_timeliness

    assert _rate(assessment_timeliness, fixture_store) == EXPECTED["assessments"]
    assert _rate(assessment_timeliness, fixture_store, filters=Filters(team=NORTH)) == EXPECTED["assessments_north"]
