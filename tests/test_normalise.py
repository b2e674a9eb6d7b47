"""The shared normalisation SQL: dates, date-times, child ids and yes/no as councils write them."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from ingest.normalise import heading_key, install_macros


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    install_macros(connection)
    return connection


@pytest.mark.parametrize("text, expected", [
    ("2024-03-15", date(2024, 3, 15)),
    ("15/03/2024", date(2024, 3, 15)),  # DD/MM/YYYY, never MM/DD
    ("1/3/2024", date(2024, 3, 1)),
    ("45366", date(2024, 3, 15)),  # Excel serial
    ("45366.0", date(2024, 3, 15)),
    ("15.03.2024", date(2024, 3, 15)),
    ("15 Mar 2024", date(2024, 3, 15)),
    ("29/02/2024", date(2024, 2, 29)),  # leap day
    ("31/02/2024", None),  # no such day: not guessed
    (" #N/A ", None),
    ("garbage", None),
])
def test_dates(con: duckdb.DuckDBPyConnection, text: str, expected: date | None) -> None:
    assert con.execute("SELECT fd_date(?)", [text]).fetchone()[0] == expected


@pytest.mark.parametrize("text, expected", [
    ("2024-05-03 09:15", datetime(2024, 5, 3, 9, 15)),
    ("2024-05-03T09:15:10", datetime(2024, 5, 3, 9, 15, 10)),
    ("2024-05-03 10:00 PM", datetime(2024, 5, 3, 22, 0)),  # a 12-hour clock, not a time zone
    ("03/05/2024 10:00", datetime(2024, 5, 3, 10, 0)),
    ("2024-05-03", datetime(2024, 5, 3)),
    ("2024-05-03 (BC)", None),  # trailing words are not read as a time zone or era
    ("2024-05-03 25:00", None),
])
def test_date_times(con: duckdb.DuckDBPyConnection, text: str, expected: datetime | None) -> None:
    assert con.execute("SELECT fd_timestamp(?)", [text]).fetchone()[0] == expected


def test_child_ids_and_booleans(con: duckdb.DuckDBPyConnection) -> None:
    ids = con.execute("SELECT fd_child_id(x) FROM (VALUES ('1005'), ('1005.0'), (' 1005\u00a0'), ('001005')) t(x)").fetchall()
    assert [r[0] for r in ids] == ["1005", "1005", "1005", "001005"]  # leading zeros are part of the id
    flags = con.execute("SELECT fd_bool(x) FROM (VALUES ('a) Yes'), ('N'), ('b) No'), ('maybe')) t(x)").fetchall()
    assert [r[0] for r in flags] == [True, False, False, None]


def test_heading_key_matches_the_spellings_seen() -> None:
    assert heading_key("Date\u00a0of_referral ") == heading_key("DATE OF REFERRAL") == "date of referral"
    assert heading_key("LA children\u2019s social care support?") == "la childrens social care support"
