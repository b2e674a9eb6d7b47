"""Ethnicity recording: completeness by list, inconsistent children, and the ethnic make-up of referrals."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from metrics import registry
from metrics.params import DEFAULT_LA_CODE, Filters, Period, check_choice
from metrics.query import aggregate, check_by, filter_clause, list_frame
from store.connection import PROJECT_ROOT
from store.summary import relation

POPULATION_FILE = PROJECT_ROOT / "data" / "reference" / "local_child_population_by_ethnicity.csv"
LEVELS: tuple[str, ...] = ("referral", "child", "contact", "assessment")

# level -> (fact table, date column, filter name -> column, breakdowns, category column, distinct-children?);
# None: the filters the registry lists, each on the column of its name.
_LEVELS: dict[str, tuple[str, str, dict[str, str] | None, tuple[str, ...], str, bool]] = {
    "referral": (
        "referral_facts",
        "referral_date",
        None,
        ("month", "team", "worker", "referral_source", "age_band"),
        "ethnicity_category",
        False,
    ),
    "child": (
        "referral_facts",
        "referral_date",
        None,
        ("month", "team", "worker", "referral_source", "age_band"),
        "child_ethnicity_category",
        True,
    ),
    "contact": (
        "contact_facts",
        "contact_date",
        {
            "referral_source": "contact_source",
            "ethnicity_group": "ethnicity_group",
            "age_band": "age_band",
            "disabled": "disabled",
        },
        ("month", "contact_source", "age_band"),
        "ethnicity_category",
        False,
    ),
    "assessment": (
        "assessment_facts",
        "start_date",
        None,
        ("month", "team", "worker", "referral_source", "age_band"),
        "ethnicity_category",
        False,
    ),
}


def _completeness_counts(category: str, distinct: bool) -> dict[str, str]:
    unit = "DISTINCT child_id" if distinct else "*"

    def count(condition: str) -> str:
        return f"count({unit}) FILTER (WHERE {condition})"

    return {
        "numerator": count(f"{category} = 'known'"),
        "denominator": f"count({unit})",
        "refused": count(f"{category} = 'REFU'"),
        "not_obtained": count(f"{category} = 'NOBT'"),
        "missing": count(f"{category} = 'missing'"),
        "invalid": count(f"{category} = 'invalid'"),
        "unborn": count("age_band = 'Unborn'"),
        "known_excluding_unborn": count(f"{category} = 'known' AND age_band IS DISTINCT FROM 'Unborn'"),
    }


def ethnicity_completeness(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    filters: Filters = Filters(),
    by: str | None = None,
    level: str = "referral",
) -> pd.DataFrame:
    """Share of records (or children) in the period with one of the 18 known ethnicity codes."""
    table, date_column, columns, breakdowns, category, distinct = _LEVELS[check_choice("level", level, LEVELS)]
    applicable = columns or {f: f for f in registry.REGISTRY["ethnicity_completeness"].filters}
    frame = aggregate(
        con,
        table=table,
        date_column=date_column,
        period=period,
        filters=filters,
        applicable=applicable,
        by=check_by(by, breakdowns),
        counts=_completeness_counts(category, distinct),
        extras={
            "rate_excluding_unborn": (
                f"100.0 * {_completeness_counts(category, distinct)['known_excluding_unborn']}"
                f" / nullif(count({'DISTINCT child_id' if distinct else '*'}) FILTER (WHERE age_band IS DISTINCT FROM"
                " 'Unborn'), 0)"
            )
        },
    )
    return frame.drop(columns=["known_excluding_unborn"])


def _inconsistent_children_sql(con: duckdb.DuckDBPyConnection, filter_sql: str) -> str:
    """CTE `kept`: children recorded with more than one known ethnicity code, after the filters.

    Those children are kept at publish (store/summary.py); a store without that summary works them out here.
    """
    return f"""
        WITH known_codes AS (
            SELECT child_id FROM {relation(con, "summary_ethnicity_conflicts")}
        ), candidates AS (
            SELECT c.child_id, c.ethnicities_recorded,
                   coalesce(ec.ethnicity_group, 'Not known') AS ethnicity_group, c.disabled
            FROM children c JOIN known_codes USING (child_id) LEFT JOIN ethnicity_codes ec ON ec.code = c.ethnicity
        ), kept AS (SELECT * FROM candidates WHERE true{filter_sql})"""


def ethnicity_inconsistent_children(
    con: duckdb.DuckDBPyConnection, filters: Filters = Filters(), limit: int | None = None
) -> pd.DataFrame:
    """Children recorded with more than one known ethnicity code across their records (the first `limit`)."""
    filter_sql, params = filter_clause(filters, registry.REGISTRY["ethnicity_inconsistent_children"].filters)
    shown = "SELECT * FROM kept ORDER BY child_id" + (" LIMIT ?" if limit is not None else "")
    sql = (
        _inconsistent_children_sql(con, filter_sql)
        + f""", shown AS ({shown}),
        records AS (
            SELECT child_id FROM referral_facts WHERE ethnicity_category <> 'missing'
              AND child_id IN (SELECT child_id FROM shown)
            UNION ALL SELECT child_id FROM contact_facts WHERE ethnicity_category <> 'missing'
              AND child_id IN (SELECT child_id FROM shown)
            UNION ALL SELECT child_id FROM assessment_facts WHERE ethnicity_category <> 'missing'
              AND child_id IN (SELECT child_id FROM shown)
            UNION ALL SELECT child_id FROM cin_episodes WHERE nullif(trim(ethnicity), '') IS NOT NULL
              AND child_id IN (SELECT child_id FROM shown)
        )
        SELECT shown.child_id, shown.ethnicities_recorded, count(records.child_id) AS records
        FROM shown LEFT JOIN records USING (child_id)
        GROUP BY shown.child_id, shown.ethnicities_recorded ORDER BY shown.child_id"""
    )
    return list_frame(con, sql, params + ([limit] if limit is not None else []), [])


def count_ethnicity_inconsistent_children(con: duckdb.DuckDBPyConnection, filters: Filters = Filters()) -> int:
    """How many children `ethnicity_inconsistent_children` would list (without fetching the list)."""
    filter_sql, params = filter_clause(filters, registry.REGISTRY["ethnicity_inconsistent_children"].filters)
    row = con.execute(_inconsistent_children_sql(con, filter_sql) + " SELECT count(*) FROM kept", params).fetchone()
    return int(row[0]) if row else 0


def _population_profile(path: Path) -> str:
    """A SQL relation of (ethnicity_group, population_share) from the optional population file."""
    if not path.exists():
        return "(SELECT CAST(NULL AS VARCHAR) AS ethnicity_group, CAST(NULL AS DOUBLE) AS population_share WHERE false)"
    return (
        "(SELECT ethnicity_group, 100.0 * sum(children) / sum(sum(children)) OVER () AS population_share"
        " FROM read_csv(?, header = true, columns = {'la_code': 'VARCHAR', 'ethnicity_group': 'VARCHAR',"
        " 'children': 'DOUBLE'}) WHERE la_code = ? GROUP BY ethnicity_group)"
    )


def ethnic_makeup(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    filters: Filters = Filters(),
    la_code: str = DEFAULT_LA_CODE,
    population_file: Path | None = None,
) -> pd.DataFrame:
    """Children referred in the period by ethnic group, with the local child population's share where supplied."""
    path = population_file or POPULATION_FILE
    filter_sql, params = filter_clause(filters, registry.REGISTRY["ethnic_makeup"].filters)
    population = _population_profile(path)
    population_params = [str(path), str(la_code)] if path.exists() else []
    sql = f"""
        WITH referred AS (
            SELECT ethnicity_group, count(DISTINCT child_id) AS referred_children FROM referral_facts
            WHERE referral_date BETWEEN ? AND ?{filter_sql} GROUP BY ethnicity_group
        ), population AS {population}
        SELECT ethnicity_group, CAST(referred_children AS BIGINT) AS referred_children,
               100.0 * referred_children / nullif(sum(referred_children) OVER (), 0) AS share,
               CASE WHEN ethnicity_group <> 'Not known' THEN 100.0 * referred_children
                    / nullif(sum(referred_children) FILTER (WHERE ethnicity_group <> 'Not known') OVER (), 0) END
                   AS share_known,
               population.population_share
        FROM referred LEFT JOIN population USING (ethnicity_group)
        ORDER BY ethnicity_group = 'Not known', ethnicity_group"""
    frame = list_frame(con, sql, [period.start, period.end, *params, *population_params], [])
    for column in ("share", "share_known", "population_share"):
        frame[column] = frame[column].astype("float64")
    return frame
