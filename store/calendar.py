"""The working-day calendar (England & Wales bank holidays) as a DuckDB table, covering every date the store holds.

`calendar(day DATE, is_working_day BOOLEAN, working_day_index INTEGER, holiday VARCHAR)` has one
row per day. `working_day_index` counts the working days from 2005-01-01 up to and including `day`
(negative before 2005), whatever span the table has, so the number of working days w with
a < w <= b is `idx(b) - idx(a)`: the same day is 0, Friday to Monday is 1, and a weekend or
bank-holiday start needs no special case. Indexes kept in derived tables stay valid when the span grows.

It spans at least 2005–2030 and is widened to every event date in the canonical tables, every
load's as-of and today, so no date the metrics or checks meet falls outside it (dates before 1900
or after 2099 are typing errors, reported by the checks, and do not stretch it further).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

from store.events import EVENT_DATE_COLUMNS
from store.sql import store_tables

FIRST_DAY = date(2005, 1, 1)
LAST_DAY = date(2030, 12, 31)
EARLIEST, LATEST = date(1900, 1, 1), date(2099, 12, 31)  # the calendar is never widened beyond these


@lru_cache(maxsize=8)
def _bank_holidays(first_year: int, last_year: int) -> pd.DataFrame:
    """England & Wales bank holidays (one-off days included) from the `holidays` library (read-only: it is shared).

    pandas and holidays are imported here: a publish whose calendar is kept needs neither (a load's fixed cost).
    """
    import holidays
    import pandas as pd

    table = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    frame = pd.DataFrame({"day": list(table.keys()), "holiday": list(table.values())})
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    return frame.sort_values("day", ignore_index=True)


COLUMNS = ["day", "is_working_day", "working_day_index", "holiday"]


def store_span(con: duckdb.DuckDBPyConnection, tables: Collection[str]) -> tuple[date, date]:
    """FIRST_DAY..LAST_DAY widened to every event date of the canonical tables, every load's as-of and today.

    `tables` names the store's tables that exist (event-date tables and ``loads`` among them are read).
    """
    lo, hi = con.execute(_span_sql(tables)).fetchall()[0]
    return _bounded(lo, hi)


def _span_sql(tables: Collection[str]) -> str:
    """One row: the earliest and latest of every event date of `tables`, every load's as-of and today."""
    parts = [
        f"SELECT min({c}) AS lo, max({c}) AS hi FROM {t}"
        for t in tables
        if t in EVENT_DATE_COLUMNS
        for c in EVENT_DATE_COLUMNS[t]
    ]
    parts += ["SELECT min(as_of), max(as_of) FROM loads"] if "loads" in tables else []
    parts.insert(0, "SELECT current_date AS lo, current_date AS hi")
    return f"SELECT min(lo), max(hi) FROM ({' UNION ALL '.join(parts)})"


def _bounded(lo: date | None, hi: date | None) -> tuple[date, date]:
    return max(EARLIEST, min(FIRST_DAY, lo or FIRST_DAY)), min(LATEST, max(LAST_DAY, hi or LAST_DAY))


def _span_if_not_built(con: duckdb.DuckDBPyConnection, table: str, tables: Collection[str]) -> tuple[date, date] | None:
    """The store's span (`store_span`), or None when `table` is already the calendar of exactly those days (a rebuild
    would give the same rows): its columns are the calendar's and it holds one row per day of the span. One query."""
    if (
        table not in tables
        or [d[0] for d in con.execute(f"SELECT * FROM {table} LIMIT 0").description or []] != COLUMNS
    ):
        return store_span(con, tables)
    lo, hi, first, last, days = con.execute(
        f"SELECT * FROM ({_span_sql(tables)}), (SELECT min(day), max(day), count(*) FROM {table})"
    ).fetchall()[0]
    span = _bounded(lo, hi)
    return None if (first, last, days) == (*span, (span[1] - span[0]).days + 1) else span


def build_calendar(
    con: duckdb.DuckDBPyConnection,
    first: date | None = None,
    last: date | None = None,
    table: str = "calendar",
    temporary: bool = False,
    tables: Collection[str] | None = None,
) -> None:
    """(Re)create the calendar table from `first` to `last` (by default the store's span, see `store_span`).

    For the store's span, a calendar that already spans exactly those days is kept as it is (its
    rows are what a rebuild would give): it is rebuilt only when the span grows or shrinks. `tables`
    names the store's tables when the caller has looked already (else the catalogue is read).
    """
    if first is None or last is None:
        present = store_tables(con) if tables is None else tables
        if temporary:
            first, last = store_span(con, present)
        else:
            span = _span_if_not_built(con, table, present)
            if span is None:
                return
            first, last = span
    con.register("_calendar_rows", _calendar_rows(first, last))
    try:
        con.execute(
            f"CREATE OR REPLACE {'TEMP ' if temporary else ''}TABLE {table} AS SELECT * FROM _calendar_rows ORDER BY day"
        )
    finally:
        con.unregister("_calendar_rows")


def _calendar_rows(first: date, last: date) -> pa.Table:
    """The calendar's rows from `first` to `last` (on to FIRST_DAY when `last` is before it), never before EARLIEST.

    The bank holidays do not change while a process runs, so neither do the rows: within EARLIEST..LATEST a span is
    a slice of the whole calendar, counted once per process (~0.1 s, as much as one span of a few decades), so a
    store whose span grows, a check's calendar of a few weeks or a test's new store counts nothing again. The Arrow
    table is immutable; each caller gets its own DuckDB table.
    """
    end = max(last, FIRST_DAY)  # the count runs to FIRST_DAY whatever the span (see _counted_rows)
    if end > LATEST:
        return _counted_rows(first, last)
    start = max(first, EARLIEST)
    return _counted_rows(EARLIEST, LATEST).slice((start - EARLIEST).days, max((end - start).days + 1, 0))


@lru_cache(maxsize=4)
def _counted_rows(first: date, last: date) -> pa.Table:
    """The calendar's rows from `first` to `last`, counted in DuckDB from EARLIEST (one row per day, in order)."""
    with duckdb.connect() as con:
        con.register("bank_holidays_frame", _bank_holidays(EARLIEST.year, LATEST.year))
        return con.sql(
            """
            WITH days AS (
                SELECT CAST(d AS DATE) AS day
                FROM generate_series(CAST(? AS DATE), CAST(? AS DATE), INTERVAL 1 DAY) AS t(d)
            ), flagged AS (
                SELECT days.day,
                       (isodow(days.day) <= 5 AND h.day IS NULL) AS is_working_day,
                       h.holiday
                FROM days LEFT JOIN (SELECT day, string_agg(holiday, '; ') AS holiday
                                     FROM bank_holidays_frame GROUP BY day) h USING (day)
            ), counted AS (
                SELECT day, is_working_day, holiday,
                       sum(CAST(is_working_day AS INTEGER)) OVER (ORDER BY day) AS since_earliest
                FROM flagged
            )
            SELECT day, is_working_day,
                   CAST(since_earliest - (SELECT since_earliest FROM counted WHERE day = CAST(? AS DATE) - 1)
                        AS INTEGER) AS working_day_index,
                   holiday
            FROM counted WHERE day >= CAST(? AS DATE) ORDER BY day
            """,
            params=[EARLIEST, max(last, FIRST_DAY), FIRST_DAY, first],
        ).to_arrow_table()


def working_days_between(con: duckdb.DuckDBPyConnection, start: date, end: date) -> int | None:
    """Working days w with start < w <= end (negative when end is before start; None outside the calendar)."""
    row = con.execute(
        "SELECT (SELECT working_day_index FROM calendar WHERE day = ?) - "
        "(SELECT working_day_index FROM calendar WHERE day = ?)",
        [end, start],
    ).fetchone()
    return None if row is None or row[0] is None else int(row[0])
