"""Shared SQL building for the metrics: filters and groupings as parameters, tidy rate frames out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import duckdb
import pandas as pd

from metrics.params import Filters, Period

# Breakdown names (each a column of the derived fact tables): the only names `by` can put in SQL text.
DIMENSIONS: tuple[str, ...] = (
    "month",
    "team",
    "worker",
    "referral_source",
    "ethnicity_group",
    "age_band",
    "closure_reason",
    "record_type",
    "contact_source",
)


def filter_clause(filters: Filters, applicable: Mapping[str, str] | Iterable[str]) -> tuple[str, list[Any]]:
    """`AND col = ?` terms for the filters that are set and apply, with their parameters.

    `applicable` lists the filter names that apply, or maps each to the column it filters
    (e.g. referral_source -> contact_source on contacts).
    """
    columns = dict(applicable) if isinstance(applicable, Mapping) else {name: name for name in applicable}
    terms: list[str] = []
    params: list[Any] = []
    for name, value in filters.active().items():
        column = columns.get(name)
        if column is None:
            continue
        if name == "disabled":
            terms.append(f"{column} IS NOT DISTINCT FROM ?")
            params.append(bool(value))
        elif isinstance(value, (tuple, list, frozenset, set)):
            terms.append(f"list_contains(?, {column})")
            params.append([str(v) for v in value])
        else:
            terms.append(f"{column} = ?")
            params.append(str(value))
    return "".join(f" AND {t}" for t in terms), params


def check_by(by: str | None, allowed: Sequence[str]) -> str | None:
    """Validate a breakdown name against the metric's list (raises ValueError)."""
    if by is not None and (by not in allowed or by not in DIMENSIONS):
        raise ValueError(f"by must be one of {', '.join(allowed)} or None; got {by!r}")
    return by


def _as_float(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    for col in columns:
        if col in frame.columns:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    return frame


def _dates(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    for col in columns:
        if col in frame.columns:
            frame[col] = pd.to_datetime(frame[col]).dt.date
    return frame


def _quantile_ctes(name: str, table: str, column: str, q: float, by: str | None, where_sql: str) -> str:
    """CTEs giving `{name}_q(by, value)`: the q-quantile of an integer column, from its histogram.

    Same result as DuckDB's quantile_cont (linear interpolation between the order statistics at
    floor and ceil of (n - 1) * q) but from counts per value, which avoids sorting every row.
    """
    key = f"{by}, " if by else ""
    part = f"PARTITION BY {by}" if by else ""
    join = f" AND lo.{by} IS NOT DISTINCT FROM pos.{by}" if by else ""
    join_hi = f" AND hi.{by} IS NOT DISTINCT FROM pos.{by}" if by else ""
    chosen = f"pos.{by}, " if by else ""
    return (
        f"{name}_hist AS (SELECT {key}{column} AS v, count(*) AS n FROM {table} {where_sql} AND {column} IS NOT NULL"
        f" GROUP BY ALL),"
        f" {name}_cum AS (SELECT *, sum(n) OVER ({part} ORDER BY v) AS upto, sum(n) OVER ({part}) AS total"
        f" FROM {name}_hist),"
        f" {name}_pos AS (SELECT DISTINCT {key}(total - 1) * {float(q)!r} AS h FROM {name}_cum),"
        f" {name}_q AS (SELECT {chosen}min(lo.v) + (pos.h - floor(pos.h)) * (min(hi.v) - min(lo.v)) AS {name}"
        f" FROM {name}_pos pos JOIN {name}_cum lo ON lo.upto > floor(pos.h){join}"
        f" JOIN {name}_cum hi ON hi.upto > ceil(pos.h){join_hi} GROUP BY {chosen}pos.h)"
    )


def aggregate(
    con: duckdb.DuckDBPyConnection,
    *,
    table: str,
    date_column: str,
    period: Period,
    filters: Filters,
    applicable: Mapping[str, str] | Iterable[str],
    by: str | None,
    counts: dict[str, str],
    extras: dict[str, str] | None = None,
    quantiles: dict[str, tuple[str, float]] | None = None,
    select_params: Sequence[Any] = (),
    rate: bool = True,
) -> pd.DataFrame:
    """Counts (and extra aggregates) over a fact table for a period, grouped by `by`.

    `counts` and `extras` map output column names to SQL aggregate expressions written in the
    metric modules (never from user input); their `?` placeholders take `select_params`, in
    order. `quantiles` maps output names to (integer column, q). With `rate`, `rate` =
    100 * numerator / denominator (NULL when the denominator is 0) follows `denominator`. With
    by='month' every month of the period appears, with zero counts where nothing happened.
    """
    extras = extras or {}
    quantiles = quantiles or {}
    filter_sql, filter_params = filter_clause(filters, applicable)
    where_sql = f"WHERE {date_column} BETWEEN ? AND ?{filter_sql}"
    where_params = [period.start, period.end, *filter_params]
    selects = [f"{expr} AS {name}" for name, expr in {**counts, **extras}.items()]
    group = f"{by}, " if by else ""
    ctes = [
        f"agg AS (SELECT {group}{', '.join(selects)} FROM {table} {where_sql}" + (f" GROUP BY {by})" if by else ")")
    ]
    params: list[Any] = [*select_params, *where_params]
    base = "agg"
    for name, (column, q) in quantiles.items():
        ctes.append(_quantile_ctes(name, table, column, q, by, where_sql))
        params += where_params
        on = f"{base}.{by} IS NOT DISTINCT FROM {name}_q.{by}" if by else "true"
        ctes.append(f"with_{name} AS (SELECT {base}.*, {name}_q.{name} FROM {base} LEFT JOIN {name}_q ON {on})")
        base = f"with_{name}"
    if by == "month":
        ctes.append(
            "months AS (SELECT CAST(m AS DATE) AS month FROM generate_series("
            "CAST(date_trunc('month', CAST(? AS DATE)) AS DATE), CAST(? AS DATE), INTERVAL 1 MONTH) t(m)),"
            f" filled AS (SELECT months.month, {base}.* EXCLUDE (month) FROM months LEFT JOIN {base} USING (month))"
        )
        params += [period.start, period.end]
        base = "filled"
    outer: list[str] = [by] if by else []
    for name in counts:
        outer.append(f"CAST(coalesce({name}, 0) AS BIGINT) AS {name}")
        if rate and name == "denominator":
            outer.append("100.0 * coalesce(numerator, 0) / nullif(coalesce(denominator, 0), 0) AS rate")
    outer += [f"CAST({name} AS DOUBLE) AS {name}" for name in [*extras, *quantiles]]
    order = f" ORDER BY {by} NULLS LAST" if by else ""
    frame = con.execute(f"WITH {', '.join(ctes)} SELECT {', '.join(outer)} FROM {base}{order}", params).df()
    frame = _as_float(frame, ["rate", *extras, *quantiles])
    return _dates(frame, ["month"]) if by == "month" else frame


def as_of_date(con: duckdb.DuckDBPyConnection, as_of: date | None = None) -> date:
    """The as-of date for open and overdue items: the one given, else the latest as-of in `loads`."""
    if as_of is not None:
        return as_of
    row = con.execute("SELECT max(as_of) FROM loads").fetchone()
    if row is None or row[0] is None:
        row = con.execute("SELECT max(referral_date) FROM referral_facts").fetchone()
    return row[0] if row and row[0] is not None else date.today()


def list_frame(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any], date_columns: Iterable[str]
) -> pd.DataFrame:
    """Run a list query and turn date columns into `datetime.date` values."""
    return _dates(con.execute(sql, list(params)).df(), date_columns)
