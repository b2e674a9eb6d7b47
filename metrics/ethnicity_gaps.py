"""Ethnicity gaps in service: each ethnic group against the rest, with Wilson intervals and the small-number rules."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from metrics import registry
from metrics.ethnicity import ethnic_makeup
from metrics.params import (
    CONFIDENCE,
    DEFAULT_LA_CODE,
    DEFAULT_LIMIT_WD,
    ETHNICITY_READABLE_SHARE,
    MIN_DENOMINATOR,
    Filters,
    Period,
)
from metrics.query import filter_clause

# measure -> (fact table, date column, numerator condition, denominator condition); labels are the registry's
GAP_MEASURES: dict[str, tuple[str, str, str, str]] = {
    "re_referral_rate": ("referral_facts", "referral_date", "re_referral_12m", "true"),
    "assessment_timeliness": (
        "assessment_facts",
        "authorised_date",
        "wd_start_to_auth <= ?",
        "wd_start_to_auth IS NOT NULL",
    ),
    "child_seen_rate": (
        "assessment_facts",
        "authorised_date",
        "child_seen",
        "child_seen IS NOT NULL",
    ),
}


def wilson_interval(
    successes: np.ndarray, n: np.ndarray, confidence: float = CONFIDENCE
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for x of n, as proportions (NaN where n is 0)."""
    from scipy.special import ndtri  # the normal quantile scipy.stats' norm.ppf calls; scipy.stats itself costs ~1.4 s
    # of CPU to import, and every process that draws the ethnicity page would pay it

    x = np.asarray(successes, dtype="float64")
    size = np.asarray(n, dtype="float64")
    z = float(ndtri(1 - (1 - confidence) / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / size
        centre = (p + z * z / (2 * size)) / (1 + z * z / size)
        half = z * np.sqrt(p * (1 - p) / size + z * z / (4 * size * size)) / (1 + z * z / size)
    return np.where(size > 0, centre - half, np.nan), np.where(size > 0, centre + half, np.nan)


def newcombe_difference(
    x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray, confidence: float = CONFIDENCE
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Difference p1 - p2 with Newcombe's hybrid Wilson score interval (method 10), as proportions."""
    l1, u1 = wilson_interval(x1, n1, confidence)
    l2, u2 = wilson_interval(x2, n2, confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = (
            np.asarray(x1, "float64") / np.asarray(n1, "float64"),
            np.asarray(x2, "float64") / np.asarray(n2, "float64"),
        )
    d = p1 - p2
    return d, d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def _counts(con: duckdb.DuckDBPyConnection, period: Period, filters: Filters, limit_wd: int) -> pd.DataFrame:
    parts, params = [], []
    for code, (table, date_column, numerator, denominator) in GAP_MEASURES.items():
        filter_sql, filter_params = filter_clause(filters, registry.REGISTRY[code].filters)
        uses_limit = "?" in numerator
        parts.append(
            f"SELECT '{code}' AS measure, ethnicity_group,"
            f" count(*) FILTER (WHERE ({denominator}) AND ({numerator})) AS numerator,"
            f" count(*) FILTER (WHERE {denominator}) AS denominator"
            f" FROM {table} WHERE {date_column} BETWEEN ? AND ? AND ethnicity_category = 'known'{filter_sql}"
            " GROUP BY ethnicity_group"
        )
        params += ([int(limit_wd)] if uses_limit else []) + [period.start, period.end, *filter_params]
    sql = (
        f"WITH g AS ({' UNION ALL '.join(parts)}) SELECT measure, ethnicity_group, CAST(numerator AS BIGINT) AS"
        " numerator, CAST(denominator AS BIGINT) AS denominator,"
        " CAST(sum(numerator) OVER (PARTITION BY measure) - numerator AS BIGINT) AS rest_numerator,"
        " CAST(sum(denominator) OVER (PARTITION BY measure) - denominator AS BIGINT) AS rest_denominator"
        " FROM g ORDER BY measure, ethnicity_group"
    )
    return con.execute(sql, params).df()


def ethnicity_known_share(con: duckdb.DuckDBPyConnection, period: Period, filters: Filters = Filters()) -> float:
    """Percentage of referrals in the period with a known ethnicity code (NaN when there are none)."""
    filter_sql, params = filter_clause(filters, registry.REGISTRY["re_referral_rate"].filters)
    row = con.execute(
        "SELECT 100.0 * count(*) FILTER (WHERE ethnicity_category = 'known') / nullif(count(*), 0) FROM referral_facts"
        f" WHERE referral_date BETWEEN ? AND ?{filter_sql}",
        [period.start, period.end, *params],
    ).fetchone()
    return float(row[0]) if row and row[0] is not None else float("nan")


def _verdict(frame: pd.DataFrame, min_denominator: int, readable: bool) -> np.ndarray:
    small = (frame["denominator"] < min_denominator) | (frame["rest_denominator"] < min_denominator)
    verdict = np.where(
        frame["diff_lower"] > 0,
        "higher than the rest",
        np.where(frame["diff_upper"] < 0, "lower than the rest", "no clear difference"),
    )
    verdict = np.where(small, f"too few to compare (under {min_denominator})", verdict)
    return np.where(readable, verdict, "not read: ethnicity too incomplete")


def ethnicity_gaps(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    filters: Filters = Filters(),
    limit_wd: int = DEFAULT_LIMIT_WD,
    min_denominator: int = MIN_DENOMINATOR,
    readable_share: float = ETHNICITY_READABLE_SHARE,
    confidence: float = CONFIDENCE,
) -> pd.DataFrame:
    """Per measure and known ethnic group: the group's rate and the rest's, each with a Wilson interval,
    the difference with Newcombe's interval, and a verdict that respects the small-number rule and
    whether ethnicity is complete enough (`known_share` >= `readable_share`) for a gap to be read."""
    frame = _counts(con, period, filters, limit_wd)
    known = ethnicity_known_share(con, period, filters)
    readable = bool(known >= readable_share)
    labels = {code: registry.REGISTRY[code].label_for(limit_wd=limit_wd) for code in GAP_MEASURES}
    frame.insert(1, "label", frame["measure"].map(labels))
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["rate"] = 100.0 * frame["numerator"] / frame["denominator"].replace(0, np.nan)
        frame["rest_rate"] = 100.0 * frame["rest_numerator"] / frame["rest_denominator"].replace(0, np.nan)
    lower, upper = wilson_interval(frame["numerator"], frame["denominator"], confidence)
    rest_lower, rest_upper = wilson_interval(frame["rest_numerator"], frame["rest_denominator"], confidence)
    diff, diff_lower, diff_upper = newcombe_difference(
        frame["numerator"], frame["denominator"], frame["rest_numerator"], frame["rest_denominator"], confidence
    )
    frame = frame.assign(
        rate_lower=100 * lower,
        rate_upper=100 * upper,
        rest_lower=100 * rest_lower,
        rest_upper=100 * rest_upper,
        difference=100 * diff,
        diff_lower=100 * diff_lower,
        diff_upper=100 * diff_upper,
    )
    frame["verdict"] = _verdict(frame, min_denominator, readable)
    frame["known_share"] = known
    frame["readable"] = readable
    return frame


def ethnicity_representation(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    filters: Filters = Filters(),
    la_code: str = DEFAULT_LA_CODE,
    population_file: Path | None = None,
    min_denominator: int = MIN_DENOMINATOR,
    confidence: float = CONFIDENCE,
) -> pd.DataFrame:
    """Each known group's share of referred children (Wilson interval) against its share of the child population
    (NaN without the council's population file): 'over-represented' when the population share is below the interval."""
    makeup = ethnic_makeup(con, period, filters, la_code=la_code, population_file=population_file)
    known = makeup[makeup["ethnicity_group"] != "Not known"].copy()
    total = known["referred_children"].sum()
    lower, upper = wilson_interval(known["referred_children"], np.full(len(known), total), confidence)
    known["share_lower"], known["share_upper"] = 100 * lower, 100 * upper
    pop = known["population_share"]
    known["verdict"] = np.where(
        pop.isna(),
        "no population figures",
        np.where(
            known["referred_children"] < min_denominator,
            f"too few to compare (under {min_denominator})",
            np.where(
                pop < known["share_lower"],
                "over-represented",
                np.where(pop > known["share_upper"], "under-represented", "in line with the population"),
            ),
        ),
    )
    return known.reset_index(drop=True)
