"""The working-day calendar (England & Wales bank holidays, 2005–2030) as a DuckDB table.

`calendar(day DATE, is_working_day BOOLEAN, working_day_index INTEGER, holiday VARCHAR)` has one
row per day. `working_day_index` counts the working days on or before `day`, so the number of
working days w with a < w <= b is `idx(b) - idx(a)`: the same day is 0, Friday to Monday is 1,
and a weekend or bank-holiday start needs no special case.
"""

from __future__ import annotations

from datetime import date

import duckdb
import holidays
import pandas as pd

FIRST_DAY = date(2005, 1, 1)
LAST_DAY = date(2030, 12, 31)


def bank_holidays(first_year: int = FIRST_DAY.year, last_year: int = LAST_DAY.year) -> pd.DataFrame:
    """England & Wales bank holidays (one-off days included) from the `holidays` library."""
    table = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    frame = pd.DataFrame({"day": list(table.keys()), "holiday": list(table.values())})
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    return frame.sort_values("day", ignore_index=True)


def build_calendar(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create the `calendar` table covering FIRST_DAY to LAST_DAY."""
    con.register("bank_holidays_frame", bank_holidays())
    con.execute(
        """
        CREATE OR REPLACE TABLE calendar AS
        WITH days AS (
            SELECT CAST(d AS DATE) AS day
            FROM generate_series(CAST(? AS DATE), CAST(? AS DATE), INTERVAL 1 DAY) AS t(d)
        ), flagged AS (
            SELECT days.day,
                   (isodow(days.day) <= 5 AND h.day IS NULL) AS is_working_day,
                   h.holiday
            FROM days LEFT JOIN (SELECT day, string_agg(holiday, '; ') AS holiday
                                 FROM bank_holidays_frame GROUP BY day) h USING (day)
        )
        SELECT day, is_working_day,
               CAST(sum(CAST(is_working_day AS INTEGER)) OVER (ORDER BY day) AS INTEGER) AS working_day_index,
               holiday
        FROM flagged ORDER BY day
        """,
        [FIRST_DAY, LAST_DAY],
    )
    con.unregister("bank_holidays_frame")


def working_days_between(con: duckdb.DuckDBPyConnection, start: date, end: date) -> int | None:
    """Working days w with start < w <= end (negative when end is before start; None outside the calendar)."""
    row = con.execute(
        "SELECT (SELECT working_day_index FROM calendar WHERE day = ?) - "
        "(SELECT working_day_index FROM calendar WHERE day = ?)",
        [end, start],
    ).fetchone()
    return None if row is None or row[0] is None else int(row[0])
