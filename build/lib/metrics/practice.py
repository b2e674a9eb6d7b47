"""Practice: whether the child was seen during assessment and whether records carry the child's views."""

from __future__ import annotations

import duckdb
import pandas as pd

from metrics.params import Filters, Period
from metrics.query import aggregate, check_by
from metrics.registry import REGISTRY


def child_seen_rate(
    con: duckdb.DuckDBPyConnection, period: Period, filters: Filters = Filters(), by: str | None = None
) -> pd.DataFrame:
    """Assessments authorised in the period where the child was seen."""
    definition = REGISTRY["child_seen_rate"]
    return aggregate(
        con, table="assessment_facts", date_column="authorised_date", period=period, filters=filters,
        applicable=definition.filters, by=check_by(by, definition.breakdowns),
        counts={"numerator": "count(*) FILTER (WHERE child_seen)", "denominator": "count(*)",
                "not_recorded": "count(*) FILTER (WHERE child_seen IS NULL)"},
    )


def child_views_rate(
    con: duckdb.DuckDBPyConnection, period: Period, filters: Filters = Filters(), by: str | None = None
) -> pd.DataFrame:
    """Recordings of events in the period that carry the child's views, of those whose extract says."""
    definition = REGISTRY["child_views_rate"]
    return aggregate(
        con, table="recording_facts", date_column="event_date", period=period, filters=filters,
        applicable=definition.filters, by=check_by(by, definition.breakdowns),
        counts={"numerator": "count(*) FILTER (WHERE child_views_recorded)",
                "denominator": "count(child_views_recorded)",
                "not_stated": "count(*) FILTER (WHERE child_views_recorded IS NULL)"},
    )
