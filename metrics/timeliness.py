"""Timeliness: assessments within 45 working days (both clocks), open overdue assessments, recording delays."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from metrics import registry
from metrics.params import CLOCKS, DEFAULT_LIMIT_WD, DEFAULT_TARGET_WD, Clock, Filters, Period, check_choice
from metrics.query import aggregate, as_of_date, check_by, filter_clause, list_frame

_CLOCK_COLUMN = {"start": "wd_start_to_auth", "referral": "wd_referral_to_auth"}
DURATION_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("same day", 0, 0),
    ("1-10", 1, 10),
    ("11-20", 11, 20),
    ("21-30", 21, 30),
    ("31-40", 31, 40),
    ("41-45", 41, 45),
    ("46-50", 46, 50),
    ("51-60", 51, 60),
    ("61+", 61, None),
)


def _clock_column(clock: str) -> str:
    return _CLOCK_COLUMN[check_choice("clock", clock, CLOCKS)]


def assessment_timeliness(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    filters: Filters = Filters(),
    by: str | None = None,
    clock: Clock = "start",
    limit_wd: int = DEFAULT_LIMIT_WD,
) -> pd.DataFrame:
    """Assessments authorised in the period within `limit_wd` working days on the chosen clock."""
    duration = _clock_column(clock)
    definition = registry.REGISTRY["assessment_timeliness"]
    return aggregate(
        con,
        table="assessment_facts",
        date_column="authorised_date",
        period=period,
        filters=filters,
        applicable=definition.filters,
        by=check_by(by, definition.breakdowns),
        counts={"numerator": f"count(*) FILTER (WHERE {duration} <= ?)", "denominator": f"count({duration})"},
        quantiles={"median_wd": (duration, 0.5)},
        select_params=[int(limit_wd)],
    )


def assessment_duration_bands(
    con: duckdb.DuckDBPyConnection, period: Period, filters: Filters = Filters(), clock: Clock = "start"
) -> pd.DataFrame:
    """Assessments authorised in the period by duration in the DfE working-day bands: band, count, share."""
    duration = _clock_column(clock)
    filter_sql, params = filter_clause(filters, registry.REGISTRY["assessment_duration_bands"].filters)
    values = ", ".join(
        f"({i}, '{b}', {lo}, {hi if hi is not None else 'NULL'})" for i, (b, lo, hi) in enumerate(DURATION_BANDS)
    )
    sql = f"""
        WITH bands AS (SELECT * FROM (VALUES {values}) t(band_order, band, low, high)),
             durations AS (SELECT {duration} AS wd FROM assessment_facts
                           WHERE authorised_date BETWEEN ? AND ? AND {duration} IS NOT NULL{filter_sql}),
             counted AS (SELECT band_order, count(wd) AS n FROM bands
                         LEFT JOIN durations ON wd >= low AND (high IS NULL OR wd <= high) GROUP BY band_order)
        SELECT band, CAST(n AS BIGINT) AS count, 100.0 * n / nullif(sum(n) OVER (), 0) AS share
        FROM bands JOIN counted USING (band_order) ORDER BY band_order"""
    frame = con.execute(sql, [period.start, period.end, *params]).df()
    frame["share"] = frame["share"].astype("float64")
    return frame


def _overdue_sql(
    con: duckdb.DuckDBPyConnection, as_of: date | None, filters: Filters, limit_wd: int, columns: str
) -> tuple[str, list[object]]:
    """SELECT `columns` of assessments open at the as-of date for more than `limit_wd` working days."""
    day = as_of_date(con, as_of)
    filter_sql, params = filter_clause(filters, registry.REGISTRY["open_assessments_overdue"].filters)
    sql = f"""
        SELECT {columns} FROM (
            SELECT *, (SELECT working_day_index FROM calendar WHERE day = ?) - start_wdi AS working_days_open
            FROM assessment_facts
            WHERE start_date <= ? AND (authorised_date IS NULL OR authorised_date > ?){filter_sql})
        WHERE working_days_open > ?"""
    return sql, [day, day, day, *params, int(limit_wd)]


def open_assessments_overdue(
    con: duckdb.DuckDBPyConnection,
    as_of: date | None = None,
    filters: Filters = Filters(),
    limit_wd: int = DEFAULT_LIMIT_WD,
) -> pd.DataFrame:
    """Assessments open at the as-of date for more than `limit_wd` working days, longest first."""
    sql, params = _overdue_sql(
        con, as_of, filters, limit_wd, "child_id, start_date, working_days_open, team, worker, referral_date"
    )
    frame = list_frame(con, sql + " ORDER BY working_days_open DESC, child_id", params, ["start_date", "referral_date"])
    frame["working_days_open"] = frame["working_days_open"].astype("int64")
    return frame


def count_open_assessments_overdue(
    con: duckdb.DuckDBPyConnection,
    as_of: date | None = None,
    filters: Filters = Filters(),
    limit_wd: int = DEFAULT_LIMIT_WD,
) -> int:
    """How many assessments `open_assessments_overdue` would list (without fetching the list)."""
    sql, params = _overdue_sql(con, as_of, filters, limit_wd, "count(*)")
    row = con.execute(sql, params).fetchone()
    return int(row[0]) if row else 0


def recording_timeliness(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    filters: Filters = Filters(),
    by: str | None = None,
    target_wd: int = DEFAULT_TARGET_WD,
) -> pd.DataFrame:
    """Recordings of events in the period written up within `target_wd` working days, with median and p90 delay."""
    definition = registry.REGISTRY["recording_timeliness"]
    return aggregate(
        con,
        table="recording_facts",
        date_column="event_date",
        period=period,
        filters=filters,
        applicable=definition.filters,
        by=check_by(by, definition.breakdowns),
        counts={
            "numerator": "count(*) FILTER (WHERE delay_wd <= ?)",
            "denominator": "count(*)",
            "written_up": "count(entered_date)",
            "not_written_up": "count(*) FILTER (WHERE entered_date IS NULL)",
        },
        quantiles={"median_delay_wd": ("delay_wd", 0.5), "p90_delay_wd": ("delay_wd", 0.9)},
        select_params=[int(target_wd)],
    )


def _backlog_sql(con: duckdb.DuckDBPyConnection, as_of: date | None, filters: Filters, select: str) -> tuple[str, list]:
    """The backlog's SELECT (with `select` as its columns) and parameters: one definition for the list and its count."""
    day = as_of_date(con, as_of)
    filter_sql, params = filter_clause(filters, registry.REGISTRY["recording_backlog"].filters)
    sql = f"""
        SELECT {select}
        FROM recording_facts
        WHERE event_date <= ? AND (entered_date IS NULL OR entered_date > ?){filter_sql}"""
    return sql, [day, day, *params]


def recording_backlog(
    con: duckdb.DuckDBPyConnection, as_of: date | None = None, filters: Filters = Filters()
) -> pd.DataFrame:
    """Events on or before the as-of date not written up by then, longest waiting first."""
    day = as_of_date(con, as_of)
    columns = (
        "child_id, record_id, record_type, event_date,"
        " (SELECT working_day_index FROM calendar WHERE day = ?) - event_wdi AS working_days_waiting, team, worker"
    )
    sql, params = _backlog_sql(con, day, filters, columns)
    sql += " ORDER BY working_days_waiting DESC, event_date, record_id"
    frame = list_frame(con, sql, [day, *params], ["event_date"])
    frame["working_days_waiting"] = frame["working_days_waiting"].astype("Int64")
    return frame


def count_recording_backlog(
    con: duckdb.DuckDBPyConnection, as_of: date | None = None, filters: Filters = Filters()
) -> int:
    """How many events `recording_backlog` would list (without fetching the list)."""
    sql, params = _backlog_sql(con, as_of, filters, "count(*)")
    row = con.execute(sql, params).fetchone()
    return int(row[0]) if row else 0
