"""The failing rows of a Great Expectations check, found by the same predicate in SQL (with file, sheet and row).

GE counts the unexpected rows exactly; the stored failing rows (bounded per check) come from
this translation of the same declaration, so they carry provenance without pulling millions of
rows through GE. Tests hold the two counts equal for every check.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from expectations.frames import source_sql, sql_date
from expectations.model import (
    AtLeast,
    Between,
    Check,
    CheckParams,
    InSet,
    NotNull,
    When,
    resolve,
    spec_columns,
    unit_column,
)


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return sql_date(value.isoformat())
    return "'" + str(value).replace("'", "''") + "'"


def _when(when: When | None) -> str:
    if when is None:
        return "TRUE"
    return f"{when.column} IS {'NOT ' if when.present else ''}NULL"


def failing_predicate(check: Check, params: CheckParams) -> str:
    """SQL condition true exactly on the rows GE counts as unexpected."""
    spec = check.ge
    if isinstance(spec, NotNull):
        return f"({_when(spec.when)}) AND {spec.column} IS NULL"
    if isinstance(spec, InSet):
        values = ", ".join(_literal(v) for v in spec.values)
        return f"{spec.column} IS NOT NULL AND {spec.column} NOT IN ({values})"
    if isinstance(spec, Between):
        parts = []
        if spec.min_value is not None:
            parts.append(f"{spec.column} < {_literal(resolve(spec.min_value, params))}")
        if spec.max_value is not None:
            parts.append(f"{spec.column} > {_literal(resolve(spec.max_value, params))}")
        return f"{spec.column} IS NOT NULL AND ({' OR '.join(parts)})"
    if isinstance(spec, AtLeast):
        a, b = spec.column_a, spec.column_b
        return f"{a} IS NOT NULL AND {b} IS NOT NULL AND NOT ({a} >= {b})"
    raise TypeError(f"{check.check_id}: no SQL predicate for {type(spec).__name__}")


def value_columns(check: Check) -> list[str]:
    """The columns whose values are shown as a failing row's value."""
    columns = check.value_columns or (spec_columns(check.ge) if check.ge is not None else ())
    return [c for c in columns if c != "ethnicity_category"] or list(columns)


def value_sql(check: Check) -> str:
    """SQL of the failing value(s) shown to the data quality officer: 'column value; column value'."""
    shown = value_columns(check)
    if len(shown) == 1:
        return f"coalesce(CAST({shown[0]} AS VARCHAR), 'missing')"
    parts = ", ".join(f"'{c} ' || coalesce(CAST({c} AS VARCHAR), 'missing')" for c in shown)
    return f"concat_ws('; ', {parts})"


def failing_rows_sql(check: Check, params: CheckParams, limit: int | None = None, source: str | None = None) -> str:
    """SELECT of the failing rows (up to `limit`): table_name, unit, child_id, source_file, sheet, row_number, value;
    from `source` (frames.checked_rows) when given, else the table's source SQL.

    No ORDER BY: DuckDB stops reading once it has `limit` rows (the caller sorts what it kept).
    """
    bound = f" LIMIT {int(limit)}" if limit is not None else ""
    return (
        f"SELECT '{check.table}' AS table_name, {unit_column(check.table)} AS unit, child_id, source_file, sheet,"
        f" row_number, {value_sql(check)} AS value"
        f" FROM ({source or source_sql(check.table, params)}) WHERE {failing_predicate(check, params)}{bound}"
    )


def checked_sql(check: Check) -> str:
    """SQL aggregate of the rows GE counts as checked (its element count less the missing ones) over the table's source."""
    spec = check.ge
    if isinstance(spec, NotNull):
        return f"count(*) FILTER (WHERE {_when(spec.when)})"
    if isinstance(spec, (InSet, Between)):
        return f"count({spec.column})"
    if isinstance(spec, AtLeast):
        return f"count(*) FILTER (WHERE {spec.column_a} IS NOT NULL AND {spec.column_b} IS NOT NULL)"
    raise TypeError(f"{check.check_id}: no SQL count for {type(spec).__name__}")
