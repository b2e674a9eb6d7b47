"""The front door: contacts per child, contacts that lead to a referral, and repeat contacts."""

from __future__ import annotations

import duckdb
import pandas as pd

from metrics import registry
from metrics.params import Filters, Period
from metrics.query import aggregate, check_by

# The referral_source filter selects the contact source (same DfE code list).
_CONTACT_FILTERS: dict[str, str] = {
    "referral_source": "contact_source",
    "ethnicity_group": "ethnicity_group",
    "age_band": "age_band",
    "disabled": "disabled",
}


def _contacts(
    con: duckdb.DuckDBPyConnection, code: str, period: Period, filters: Filters, by: str | None, **kwargs: object
) -> pd.DataFrame:
    return aggregate(
        con,
        table="contact_facts",
        date_column="contact_date",
        period=period,
        filters=filters,
        applicable=_CONTACT_FILTERS,
        by=check_by(by, registry.REGISTRY[code].breakdowns),
        **kwargs,  # type: ignore[arg-type]
    )


def contacts_per_child(
    con: duckdb.DuckDBPyConnection, period: Period, filters: Filters = Filters(), by: str | None = None
) -> pd.DataFrame:
    """Contacts in the period, the children they were about, and contacts per child."""
    return _contacts(
        con,
        "contacts_per_child",
        period,
        filters,
        by,
        counts={"contacts": "count(*)", "children": "count(DISTINCT child_id)"},
        extras={"contacts_per_child": "count(*) / nullif(count(DISTINCT child_id), 0)"},
        rate=False,
    )


def contact_conversion(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    filters: Filters = Filters(),
    by: str | None = None,
    within_days: int = 30,
) -> pd.DataFrame:
    """Contacts in the period followed by a referral of the child within `within_days` days."""
    return _contacts(
        con,
        "contact_conversion",
        period,
        filters,
        by,
        counts={"numerator": "count(*) FILTER (WHERE days_to_referral <= ?)", "denominator": "count(*)"},
        select_params=[int(within_days)],
    )


def repeat_contacts(
    con: duckdb.DuckDBPyConnection, period: Period, filters: Filters = Filters(), by: str | None = None
) -> pd.DataFrame:
    """Contacts in the period about a child with an earlier contact within the previous 12 months."""
    return _contacts(
        con,
        "repeat_contacts",
        period,
        filters,
        by,
        counts={"numerator": "count(*) FILTER (WHERE repeat_12m)", "denominator": "count(*)"},
    )
