"""Practice: whether the child was seen during assessment and whether records carry the child's views."""

from __future__ import annotations

import duckdb
import pandas as pd

from metrics import registry
from metrics.params import DEFAULT_UNKNOWNS, MOSTLY_NOT_RECORDED_SHARE, UNKNOWNS, Filters, Period, check_choice
from metrics.query import aggregate, check_by


def child_seen_rate(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    filters: Filters = Filters(),
    by: str | None = None,
    unknowns: str = DEFAULT_UNKNOWNS,
) -> pd.DataFrame:
    """Assessments authorised in the period where the child was seen.

    With unknowns='exclude' (default) an assessment whose "child seen" is not recorded is in neither
    numerator nor denominator; `not_recorded` counts them and `mostly_not_recorded` marks rows where
    they are more than MOSTLY_NOT_RECORDED_SHARE of all authorised assessments (their rate is then NaN:
    a month of blanks is not a month of children unseen).
    """
    definition = registry.REGISTRY["child_seen_rate"]
    excluded = check_choice("unknowns", unknowns, UNKNOWNS) == "exclude"
    frame = aggregate(
        con,
        table="assessment_facts",
        date_column="authorised_date",
        period=period,
        filters=filters,
        applicable=definition.filters,
        by=check_by(by, definition.breakdowns),
        counts={
            "numerator": "count(*) FILTER (WHERE child_seen)",
            "denominator": "count(child_seen)" if excluded else "count(*)",
            "not_recorded": "count(*) FILTER (WHERE child_seen IS NULL)",
        },
    )
    assessed = frame["denominator"] + (frame["not_recorded"] if excluded else 0)
    frame["mostly_not_recorded"] = (frame["not_recorded"] > MOSTLY_NOT_RECORDED_SHARE * assessed) & (assessed > 0)
    frame.loc[frame["mostly_not_recorded"], "rate"] = float("nan")
    return frame


def child_views_rate(
    con: duckdb.DuckDBPyConnection, period: Period, filters: Filters = Filters(), by: str | None = None
) -> pd.DataFrame:
    """Recordings of events in the period that carry the child's views, of those whose extract says."""
    definition = registry.REGISTRY["child_views_rate"]
    return aggregate(
        con,
        table="recording_facts",
        date_column="event_date",
        period=period,
        filters=filters,
        applicable=definition.filters,
        by=check_by(by, definition.breakdowns),
        counts={
            "numerator": "count(*) FILTER (WHERE child_views_recorded)",
            "denominator": "count(child_views_recorded)",
            "not_stated": "count(*) FILTER (WHERE child_views_recorded IS NULL)",
        },
    )
