"""The headline report: the thirteen figures the command line prints and the dashboard's front page shows."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import duckdb

from metrics.ethnicity import ethnicity_completeness
from metrics.params import DEFAULT_LIMIT_WD, DEFAULT_TARGET_WD, Clock, Filters, Lookback, Period
from metrics.re_referrals import re_referral_rate
from metrics.timeliness import assessment_timeliness, count_open_assessments_overdue, recording_timeliness

HEADLINE_KEYS: tuple[str, ...] = (
    "referrals",
    "re_referrals",
    "re_referral_rate",
    "assessments_completed",
    "assessments_within_45_wd",
    "assessment_timeliness_rate",
    "open_assessments_overdue",
    "recordings",
    "recorded_within_target",
    "recording_timeliness_rate",
    "median_recording_delay_wd",
    "referrals_ethnicity_known",
    "ethnicity_completeness_rate",
)


def _number(value: Any) -> float | None:
    """A float, or None for NaN / NULL (nothing to divide by)."""
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def headline_report(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    filters: Filters = Filters(),
    lookback: Lookback = "12_calendar_months",
    clock: Clock = "start",
    limit_wd: int = DEFAULT_LIMIT_WD,
    target_wd: int = DEFAULT_TARGET_WD,
    as_of: date | None = None,
) -> dict[str, int | float | None]:
    """The 13 headline figures for a period (rates as unrounded percentages, None when undefined)."""
    re_ref = re_referral_rate(con, period, filters, lookback=lookback).iloc[0]
    assess = assessment_timeliness(con, period, filters, clock=clock, limit_wd=limit_wd).iloc[0]
    overdue = count_open_assessments_overdue(con, as_of=as_of, filters=filters, limit_wd=limit_wd)
    record = recording_timeliness(con, period, filters, target_wd=target_wd).iloc[0]
    ethnic = ethnicity_completeness(con, period, filters).iloc[0]
    values = (
        int(re_ref["denominator"]),
        int(re_ref["numerator"]),
        _number(re_ref["rate"]),
        int(assess["denominator"]),
        int(assess["numerator"]),
        _number(assess["rate"]),
        overdue,
        int(record["denominator"]),
        int(record["numerator"]),
        _number(record["rate"]),
        _number(record["median_delay_wd"]),
        int(ethnic["numerator"]),
        _number(ethnic["rate"]),
    )
    return dict(zip(HEADLINE_KEYS, values, strict=True))
