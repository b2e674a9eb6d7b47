"""Incomplete periods: from which date a measure's figures are not yet due at the as-of date, and marking those months."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd

from metrics.params import DEFAULT_FOLLOW_UP_MONTHS, DEFAULT_LIMIT_WD, DEFAULT_TARGET_WD
from metrics.query import as_of_date

# Why a measure's recent months are provisional, in words (for captions); measures not listed never are.
REASONS: dict[str, str] = {
    "recording_timeliness": "events whose write-up target had not elapsed at the as-of date",
    "assessment_timeliness": "assessments authorised within the 45-working-day limit of the as-of date "
    "(slower ones from those months are still open)",
    "re_referral_after_closure": "closures with less than the follow-up window before the as-of date",
}


def _working_days_before(con: duckdb.DuckDBPyConnection, day: date, working_days: int) -> date:
    """The latest date whose working-day index is at least `working_days` below `day`'s."""
    row = con.execute(
        "SELECT max(day) FROM calendar WHERE working_day_index <= "
        "(SELECT working_day_index FROM calendar WHERE day = ?) - ?",
        [day, int(working_days)],
    ).fetchone()
    if row is None or row[0] is None:
        return day - timedelta(days=int(working_days) * 7 // 5 + 1)
    return row[0]


def provisional_from(
    con: duckdb.DuckDBPyConnection,
    code: str,
    as_of: date | None = None,
    *,
    target_wd: int = DEFAULT_TARGET_WD,
    limit_wd: int = DEFAULT_LIMIT_WD,
    within_months: int = DEFAULT_FOLLOW_UP_MONTHS,
) -> date | None:
    """The first date whose figures for `code` are not yet complete at the as-of date (None: never provisional).

    Recording timeliness: events less than `target_wd` working days before the as-of date. Assessment
    timeliness: authorisations within `limit_wd` working days of it. Re-referral after closure:
    closures less than `within_months` calendar months before it.
    """
    day = as_of_date(con, as_of)
    if code == "recording_timeliness":
        return _working_days_before(con, day, target_wd) + timedelta(days=1)
    if code == "assessment_timeliness":
        return _working_days_before(con, day, limit_wd) + timedelta(days=1)
    if code == "re_referral_after_closure":
        row = con.execute("SELECT CAST(CAST(? AS DATE) - to_months(?) AS DATE)", [day, int(within_months)]).fetchone()
        return row[0] + timedelta(days=1) if row else None
    return None


def mark_provisional(monthly: pd.DataFrame, start: date | None) -> pd.DataFrame:
    """A monthly frame with `provisional` True for months that end on or after `start`."""
    out = monthly.copy()
    if start is None or out.empty:
        out["provisional"] = False
        return out
    month_end = (pd.to_datetime(out["month"]) + pd.offsets.MonthEnd(0)).dt.date
    out["provisional"] = [bool(end >= start) for end in month_end]
    return out
