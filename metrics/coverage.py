"""What the store covers: the default period, data spans, loads, monthly coverage, filter choices and history warnings."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb
import pandas as pd

from metrics.params import Period
from store.codes import AGE_BAND_UNKNOWN, AGE_BANDS, ETHNICITY_GROUPS
from store.derive import NOT_KNOWN_GROUP
from store.events import EVENT_DATE_COLUMNS as _SPAN_COLUMNS
from store.events import PRIMARY_DATE
from store.summary import relation

PLAUSIBLE_FROM = date(1990, 1, 1)  # as the data-quality checks: earlier event dates are errors


def _latest_data_date(con: duckdb.DuckDBPyConnection) -> date | None:
    row = con.execute(
        "SELECT coalesce((SELECT max(as_of) FROM loads), (SELECT max(referral_date) FROM referrals))"
    ).fetchone()
    return row[0] if row else None


def default_period(con: duckdb.DuckDBPyConnection) -> Period:
    """The last 12 complete calendar months up to the latest data (the latest extract as-of date)."""
    latest = _latest_data_date(con) or date.today()
    month_end = (latest.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    end = latest if latest == month_end else latest.replace(day=1) - timedelta(days=1)
    start_month = end.month - 11
    start = date(end.year + (start_month - 1) // 12, (start_month - 1) % 12 + 1, 1)
    return Period(start, end)


def data_span(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """For each canonical table: earliest and latest event date, and its number of rows."""
    primary = [f"{table}.{column}" for table, column in PRIMARY_DATE.items()]
    found = {
        table: (earliest, latest, rows)
        for table, earliest, latest, rows in con.execute(
            "SELECT table_name, min(day), max(day), sum(rows) FILTER (WHERE list_contains(?, table_name || '.' ||"
            f" column_name)) FROM {relation(con, 'summary_event_days')} GROUP BY table_name",
            [primary],
        ).fetchall()
    }
    spans: dict[str, dict[str, Any]] = {}
    for table in _SPAN_COLUMNS:
        earliest, latest, rows = found.get(table, (None, None, 0))
        spans[table] = {"earliest": earliest, "latest": latest, "rows": int(rows or 0)}
    return spans


def history_warnings(con: duckdb.DuckDBPyConnection, period: Period) -> list[str]:
    """Plain-English warnings about what the store lacks for this period."""
    spans = data_span(con)
    warnings: list[str] = []
    referrals = spans["referrals"]
    if referrals["rows"] == 0:
        warnings.append("No referrals are loaded: re-referral and ethnicity measures are empty.")
    else:
        row = con.execute("SELECT CAST(CAST(? AS DATE) - INTERVAL 12 MONTH AS DATE)", [period.start]).fetchone()
        needed = row[0] if row else period.start
        if referrals["earliest"] > needed:
            warnings.append(
                f"Referrals are loaded from {referrals['earliest']:%d %b %Y}, less than 12 months before the period "
                f"starts ({period.start:%d %b %Y}): re-referrals early in the period are undercounted."
            )
    latest = _latest_data_date(con)
    if latest is not None and period.end > latest:
        warnings.append(f"The period ends after the latest data ({latest:%d %b %Y}): recent months are incomplete.")
    for table, what in (
        ("recordings", "recording timeliness"),
        ("assessments", "assessment timeliness"),
        ("contacts", "front-door contact measures"),
    ):
        if spans[table]["rows"] == 0:
            warnings.append(f"No {table} are loaded: {what} is empty.")
    return warnings


def loads(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The `loads` table, newest first."""
    return con.execute("SELECT * FROM loads ORDER BY load_id DESC").df()


def coverage_by_month(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Rows per canonical table per month of its primary event date: table, month, rows.

    Only plausible dates count: from 1990 to the latest as-of date loaded. Rows dated outside that
    window are data-quality faults (the checks list them), not months of coverage.
    """
    primary = [f"{table}.{column}" for table, column in PRIMARY_DATE.items()]
    frame = con.execute(
        f"""SELECT table_name AS "table", CAST(date_trunc('month', day) AS DATE) AS month, sum(rows) AS rows
            FROM {relation(con, "summary_event_days")}
            WHERE list_contains(?, table_name || '.' || column_name)
              AND day BETWEEN DATE '{PLAUSIBLE_FROM.isoformat()}' AND (SELECT max(as_of) FROM loads)
            GROUP BY ALL ORDER BY "table", month""",
        [primary],
    ).df()
    frame["month"] = pd.to_datetime(frame["month"]).dt.date
    frame["rows"] = frame["rows"].astype("int64")
    return frame


def filter_options(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Choices for each filter: team, worker, referral_source, ethnicity_group, age_band, and 'worker:<team>'."""
    staff = relation(con, "summary_staff")  # the (team, worker) pairs of the facts, kept at publish
    by_team = con.execute(
        f"SELECT team, list(worker) FILTER (WHERE worker IS NOT NULL) FROM {staff} WHERE team IS NOT NULL GROUP BY team"
    ).fetchall()
    workers = con.execute(f"SELECT DISTINCT worker FROM {staff} WHERE worker IS NOT NULL").fetchall()
    sources = con.execute(f"SELECT source FROM {relation(con, 'summary_sources')}").fetchall()
    options: dict[str, list[str]] = {
        "team": sorted(str(team) for team, _ in by_team),
        "worker": sorted(str(worker) for (worker,) in workers),
        "referral_source": sorted(str(source) for (source,) in sources),
        "ethnicity_group": sorted(set(ETHNICITY_GROUPS.values())) + [NOT_KNOWN_GROUP],
        "age_band": [label for label, _, _ in AGE_BANDS] + [AGE_BAND_UNKNOWN],
    }
    for team, team_workers in sorted((str(t), w) for t, w in by_team):
        if team_workers:
            options[f"worker:{team}"] = sorted(str(w) for w in team_workers)
    return options


def plausible_span(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per list: earliest and latest plausible event date, rows, and how many dates are impossible.

    A date is impossible before PLAUSIBLE_FROM or after the latest extract's as-of date (an event
    cannot be recorded before it happens): such dates are counted and their years named, never
    taken as the start or end of the span.
    """
    latest = _latest_data_date(con) or date.today()
    sql = f"""
        WITH judged AS (SELECT table_name AS list, day AS d, rows,
                               day IS NOT NULL AND (day < ? OR day > ?) AS impossible
                        FROM {relation(con, "summary_event_days")})
        SELECT list,
               min(d) FILTER (WHERE NOT impossible) AS earliest,
               max(d) FILTER (WHERE NOT impossible) AS latest,
               CAST(coalesce(sum(rows) FILTER (WHERE impossible), 0) AS BIGINT) AS impossible_dates,
               string_agg(DISTINCT CAST(year(d) AS VARCHAR), ', ' ORDER BY CAST(year(d) AS VARCHAR))
                   FILTER (WHERE impossible) AS impossible_years
        FROM judged GROUP BY list"""
    frame = con.execute(sql, [PLAUSIBLE_FROM, latest]).df()
    rows = {table: span["rows"] for table, span in data_span(con).items()}
    frame["rows"] = frame["list"].map(rows).astype("int64")
    frame = frame.set_index("list").reindex(list(_SPAN_COLUMNS)).reset_index()
    frame["impossible_dates"] = frame["impossible_dates"].fillna(0).astype("int64")
    for column in ("earliest", "latest"):
        frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame[["list", "earliest", "latest", "rows", "impossible_dates", "impossible_years"]]
