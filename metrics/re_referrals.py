"""Re-referrals: the DfE re-referral rate, re-referral after closure, and the children behind them."""

from __future__ import annotations

import duckdb
import pandas as pd

from metrics import registry
from metrics.params import LOOKBACKS, Filters, Lookback, Period, check_choice
from metrics.query import aggregate, as_of_date, check_by, filter_clause, list_frame

_LOOKBACK_COLUMN = {"12_calendar_months": "re_referral_12m", "365_days": "re_referral_365d"}


def _lookback_column(lookback: str) -> str:
    return _LOOKBACK_COLUMN[check_choice("lookback", lookback, LOOKBACKS)]


def re_referral_rate(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    filters: Filters = Filters(),
    by: str | None = None,
    lookback: Lookback = "12_calendar_months",
) -> pd.DataFrame:
    """Re-referrals ÷ referrals with the referral date in the period."""
    flag = _lookback_column(lookback)
    definition = registry.REGISTRY["re_referral_rate"]
    return aggregate(
        con,
        table="referral_facts",
        date_column="referral_date",
        period=period,
        filters=filters,
        applicable=definition.filters,
        by=check_by(by, definition.breakdowns),
        counts={"numerator": f"count(*) FILTER (WHERE {flag})", "denominator": "count(*)"},
    )


def re_referred_children(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    filters: Filters = Filters(),
    lookback: Lookback = "12_calendar_months",
) -> pd.DataFrame:
    """Each re-referral in the period with the child's previous referral and previous closure."""
    flag = _lookback_column(lookback)
    filter_sql, params = filter_clause(filters, registry.REGISTRY["re_referred_children"].filters)
    sql = (
        "SELECT child_id, referral_date, previous_referral_date, previous_closure_date, previous_closure_reason,"
        " days_since_closure, team, worker, referral_source FROM referral_facts"
        f" WHERE referral_date BETWEEN ? AND ? AND {flag}{filter_sql} ORDER BY referral_date, child_id"
    )
    frame = list_frame(
        con,
        sql,
        [period.start, period.end, *params],
        ["referral_date", "previous_referral_date", "previous_closure_date"],
    )
    frame["days_since_closure"] = frame["days_since_closure"].astype("Int64")
    return frame


def re_referral_after_closure(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    filters: Filters = Filters(),
    by: str | None = None,
    within_months: int = 12,
) -> pd.DataFrame:
    """Closures in the period followed by a referral of the child within `within_months` months."""
    months = int(within_months)
    if months <= 0:
        raise ValueError("within_months must be a positive number of months")
    as_of = as_of_date(con)
    return aggregate(
        con,
        table="closure_facts",
        date_column="closure_date",
        period=period,
        filters=filters,
        applicable=registry.REGISTRY["re_referral_after_closure"].filters,
        by=check_by(by, registry.REGISTRY["re_referral_after_closure"].breakdowns),
        counts={
            "numerator": "count(*) FILTER (WHERE next_referral_date <= CAST(closure_date + to_months(?) AS DATE))",
            "denominator": "count(*)",
            "incomplete_follow_up": "count(*) FILTER (WHERE CAST(closure_date + to_months(?) AS DATE) > ? AND ("
            "next_referral_date IS NULL OR next_referral_date > ?))",
        },
        select_params=[months, months, as_of, as_of],
    )


_BANDS_SQL = """
    CASE WHEN next_referral_date IS NULL THEN 'not re-referred'
         WHEN next_referral_date <= CAST(closure_date + INTERVAL 1 MONTH AS DATE) THEN 'within 1 month'
         WHEN next_referral_date <= CAST(closure_date + INTERVAL 3 MONTH AS DATE) THEN '1 to 3 months'
         WHEN next_referral_date <= CAST(closure_date + INTERVAL 6 MONTH AS DATE) THEN '3 to 6 months'
         WHEN next_referral_date <= CAST(closure_date + INTERVAL 12 MONTH AS DATE) THEN '6 to 12 months'
         ELSE 'over 12 months' END"""
CLOSURE_BANDS: tuple[str, ...] = (
    "within 1 month",
    "1 to 3 months",
    "3 to 6 months",
    "6 to 12 months",
    "over 12 months",
    "not re-referred",
)


def closure_to_re_referral(
    con: duckdb.DuckDBPyConnection, period: Period, filters: Filters = Filters()
) -> pd.DataFrame:
    """Closures in the period by the time until the child's next referral: band, count, share."""
    filter_sql, params = filter_clause(filters, registry.REGISTRY["closure_to_re_referral"].filters)
    sql = f"""
        WITH bands AS (SELECT * FROM (VALUES {", ".join(f"({i}, '{b}')" for i, b in enumerate(CLOSURE_BANDS))})
                       t(band_order, band)),
             counted AS (SELECT {_BANDS_SQL} AS band, count(*) AS n FROM closure_facts
                         WHERE closure_date BETWEEN ? AND ?{filter_sql} GROUP BY 1)
        SELECT bands.band, CAST(coalesce(n, 0) AS BIGINT) AS count,
               100.0 * coalesce(n, 0) / nullif(sum(coalesce(n, 0)) OVER (), 0) AS share
        FROM bands LEFT JOIN counted USING (band) ORDER BY band_order"""
    frame = con.execute(sql, [period.start, period.end, *params]).df()
    frame["share"] = frame["share"].astype("float64")
    return frame
