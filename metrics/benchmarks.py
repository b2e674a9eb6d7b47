"""Published benchmarks: re-referral rates of England, the region, the statistical neighbours and the LA, by year."""

from __future__ import annotations

import duckdb
import pandas as pd

from metrics.params import DEFAULT_LA_CODE, Period
from store.connection import PROJECT_ROOT

REFERENCE_DIR = PROJECT_ROOT / "data" / "reference"
C1_FILE = REFERENCE_DIR / "dfe_c1_referrals_rereferrals_2013_2025.csv"
NEIGHBOURS_FILE = REFERENCE_DIR / "dfe_statistical_neighbours_2025.csv"
POPULATION_0_17_FILE = REFERENCE_DIR / "ons_population_0_17_2012_2024.csv"

_SQL = """
WITH c1 AS (
    SELECT CAST(time_period AS INTEGER) AS year, geographic_level, region_name, old_la_code, la_name,
           TRY_CAST(referral_count AS DOUBLE) AS referrals, TRY_CAST(rereferral_count AS DOUBLE) AS re_referrals,
           TRY_CAST(rereferral_percent AS DOUBLE) AS rate
    FROM read_csv($c1, all_varchar = true, header = true)
), la AS (
    SELECT any_value(la_name) AS la_name, any_value(region_name) AS region_name
    FROM c1 WHERE geographic_level = 'Local authority' AND old_la_code = $la
), neighbours AS (
    SELECT unnest([SN_1, SN_2, SN_3, SN_4, SN_5, SN_6, SN_7, SN_8, SN_9, SN_10]) AS old_la_code
    FROM read_csv($sn, all_varchar = true, header = true) WHERE old_la_code = $la
), rows AS (
    SELECT year, 'England' AS area, 0 AS area_order, rate, referrals, re_referrals
    FROM c1 WHERE geographic_level = 'National'
    UNION ALL
    SELECT year, c1.region_name, 1, rate, referrals, re_referrals
    FROM c1 JOIN la ON c1.region_name = la.region_name WHERE geographic_level = 'Regional'
    UNION ALL
    SELECT year, 'Statistical neighbours', 2, avg(rate), sum(referrals), sum(re_referrals)
    FROM c1 WHERE geographic_level = 'Local authority' AND old_la_code IN (SELECT old_la_code FROM neighbours)
    GROUP BY year
    UNION ALL
    SELECT year, c1.la_name, 3, rate, referrals, re_referrals
    FROM c1 WHERE geographic_level = 'Local authority' AND old_la_code = $la
)
SELECT year, area, rate, referrals, re_referrals FROM rows ORDER BY year, area_order
"""


def re_referral_benchmarks(la_code: str = DEFAULT_LA_CODE) -> pd.DataFrame:
    """Published re-referral rates by year (ending 31 March): England, the LA's region, its neighbours, the LA."""
    with duckdb.connect() as con:
        frame = con.execute(_SQL, {"c1": str(C1_FILE), "sn": str(NEIGHBOURS_FILE), "la": str(la_code)}).df()
    for column in ("rate", "referrals", "re_referrals"):
        frame[column] = frame[column].astype("float64")
    frame["year"] = frame["year"].astype("int64")
    return frame


def referrals_per_10000(con: duckdb.DuckDBPyConnection, period: Period, la_code: str = DEFAULT_LA_CODE) -> pd.DataFrame:
    """Referrals in the period per 10,000 children aged 0-17 (ONS estimate for the latest year up to the period's end)."""
    sql = """
        WITH population AS (
            SELECT CAST(time_period AS INTEGER) AS population_year, TRY_CAST(population_estimate AS DOUBLE) AS children
            FROM read_csv(?, all_varchar = true, header = true)
            WHERE geographic_level = 'Local authority' AND old_la_code = ? AND CAST(time_period AS INTEGER) <= ?
            ORDER BY population_year DESC LIMIT 1
        ), referred AS (SELECT count(*) AS referrals FROM referral_facts WHERE referral_date BETWEEN ? AND ?)
        SELECT CAST(referrals AS BIGINT) AS referrals, children, population_year,
               10000.0 * referrals / nullif(children, 0) AS rate_per_10000
        FROM referred LEFT JOIN population ON true"""
    params = [str(POPULATION_0_17_FILE), str(la_code), period.end.year, period.start, period.end]
    frame = con.execute(sql, params).df()
    for column in ("children", "rate_per_10000"):
        frame[column] = frame[column].astype("float64")
    return frame
