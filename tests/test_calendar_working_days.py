"""The working-day calendar: every worked example in domain.md, one-off bank holidays, the covered range."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from store.calendar import FIRST_DAY, LAST_DAY, build_calendar, working_days_between


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    build_calendar(connection)
    return connection


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2024, 3, 22), date(2024, 3, 25), 1),  # Fri -> Mon: the weekend is not counted
        (date(2024, 3, 28), date(2024, 4, 2), 1),  # Thu -> Tue over Good Friday and Easter Monday
        (date(2024, 3, 23), date(2024, 3, 25), 1),  # a Saturday start counts from the next working day
        (date(2024, 3, 25), date(2024, 3, 25), 0),  # same day
        (date(2024, 1, 2), date(2024, 3, 5), 45),  # assessment: day 45, in time
        (date(2024, 1, 2), date(2024, 3, 6), 46),  # the same, a day later: 46, late
        (date(2023, 11, 20), date(2024, 1, 25), 45),  # over Christmas, Boxing Day and New Year's Day
        (date(2024, 5, 3), date(2024, 5, 7), 1),  # recording: Fri -> Tue over the early May bank holiday
        (date(2024, 2, 28), date(2024, 3, 1), 2),  # leap day 29 Feb 2024 is an ordinary working day
        (date(2024, 3, 25), date(2024, 3, 22), -1),  # end before start: negative
    ],
)
def test_worked_examples(con: duckdb.DuckDBPyConnection, start: date, end: date, expected: int) -> None:
    assert working_days_between(con, start, end) == expected


@pytest.mark.parametrize(
    "day",
    [
        date(2011, 4, 29),
        date(2012, 6, 4),
        date(2012, 6, 5),
        date(2020, 5, 8),
        date(2022, 6, 2),
        date(2022, 6, 3),
        date(2022, 9, 19),
        date(2023, 5, 8),
    ],
)
def test_one_off_bank_holidays_are_not_working_days(con: duckdb.DuckDBPyConnection, day: date) -> None:
    row = con.execute("SELECT is_working_day, holiday FROM calendar WHERE day = ?", [day]).fetchone()
    assert row is not None and row[0] is False and row[1]


def test_moved_may_day_2020_was_a_friday_and_the_monday_worked(con: duckdb.DuckDBPyConnection) -> None:
    # 2020's early May bank holiday moved from Monday 4 May to Friday 8 May (VE Day 75).
    rows = dict(
        con.execute(
            "SELECT day, is_working_day FROM calendar WHERE day IN (?, ?)", [date(2020, 5, 4), date(2020, 5, 8)]
        ).fetchall()
    )
    assert rows == {date(2020, 5, 4): True, date(2020, 5, 8): False}


def test_calendar_covers_2005_to_2030_one_row_a_day(con: duckdb.DuckDBPyConnection) -> None:
    first, last, n, distinct = con.execute(
        "SELECT min(day), max(day), count(*), count(DISTINCT day) FROM calendar"
    ).fetchone()
    assert (first, last) == (FIRST_DAY, LAST_DAY) == (date(2005, 1, 1), date(2030, 12, 31))
    assert n == distinct == (LAST_DAY - FIRST_DAY).days + 1


def test_working_day_index_only_moves_on_working_days(con: duckdb.DuckDBPyConnection) -> None:
    bad = con.execute(
        "SELECT count(*) FROM (SELECT is_working_day, working_day_index - lag(working_day_index, 1, 0) OVER (ORDER BY day)"
        " AS step FROM calendar) WHERE step <> CAST(is_working_day AS INTEGER)"
    ).fetchone()[0]
    assert bad == 0


def test_weekends_are_never_working_days(con: duckdb.DuckDBPyConnection) -> None:
    assert con.execute("SELECT count(*) FROM calendar WHERE isodow(day) >= 6 AND is_working_day").fetchone()[0] == 0


def test_outside_the_calendar_is_none(con: duckdb.DuckDBPyConnection) -> None:
    assert working_days_between(con, date(2004, 12, 31), date(2005, 1, 4)) is None


def test_the_calendar_covers_every_date_the_store_holds_and_the_as_of() -> None:
    """No horizon: an assessment started in 2003 and an extract dated 2032 are inside the calendar."""
    from store.connection import create_schema

    store = duckdb.connect()
    create_schema(store)
    store.execute("INSERT INTO assessments (child_id, start_date) VALUES ('c1', DATE '2003-06-02')")
    store.execute("INSERT INTO loads (load_id, source_file, as_of) VALUES (1, 'x.xml', DATE '2032-03-31')")
    build_calendar(store)
    first, last = store.execute("SELECT min(day), max(day) FROM calendar").fetchall()[0]
    assert (first, last) == (date(2003, 6, 2), date(2032, 3, 31))
    # 2 June 2003 (Mon) to 9 June 2003 (Mon): 5 working days; Good Friday 2032 is 26 March
    assert working_days_between(store, date(2003, 6, 2), date(2003, 6, 9)) == 5
    assert store.execute("SELECT is_working_day FROM calendar WHERE day = DATE '2032-03-26'").fetchall()[0][0] is False


def test_an_empty_store_still_gets_2005_to_2030() -> None:
    from store.connection import create_schema

    store = duckdb.connect()
    create_schema(store)
    build_calendar(store)
    assert store.execute("SELECT min(day), max(day) FROM calendar").fetchall()[0] == (FIRST_DAY, LAST_DAY)


def test_working_day_index_does_not_depend_on_the_span() -> None:
    """Derived tables keep indexes: a calendar widened to 2003 gives every later day the index it had."""
    narrow, wide = duckdb.connect(), duckdb.connect()
    build_calendar(narrow)
    build_calendar(wide, date(2003, 1, 1), date(2031, 12, 31))
    sql = "SELECT day, working_day_index FROM calendar WHERE day BETWEEN DATE '2005-01-01' AND DATE '2030-12-31' ORDER BY day"
    assert narrow.execute(sql).fetchall() == wide.execute(sql).fetchall()


def test_a_calendar_already_spanning_the_store_is_kept_and_rebuilt_when_the_span_grows() -> None:
    """A publish rebuilds the calendar only when the store's span changes: same days, same rows as a rebuild."""
    from store.connection import create_schema

    store, fresh = duckdb.connect(), duckdb.connect()
    for c in (store, fresh):
        create_schema(c)
    build_calendar(store)
    store.execute("UPDATE calendar SET holiday = 'kept' WHERE day = DATE '2010-01-04'")  # a marker a rebuild would drop
    build_calendar(store)
    assert store.execute("SELECT holiday FROM calendar WHERE day = DATE '2010-01-04'").fetchall()[0][0] == "kept"
    for c in (store, fresh):
        c.execute("INSERT INTO assessments (child_id, start_date) VALUES ('c1', DATE '2003-06-02')")
        build_calendar(c)
    sql = "SELECT * FROM calendar ORDER BY day"
    assert store.execute(sql).fetchall() == fresh.execute(sql).fetchall()
    assert store.execute("SELECT min(day) FROM calendar").fetchall()[0][0] == date(2003, 6, 2)
