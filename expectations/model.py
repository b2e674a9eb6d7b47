"""The vocabulary of data quality checks: what a check is, how a Great Expectations check is declared, run parameters."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import duckdb

Severity = Literal["error", "warning"]
CheckKind = Literal["row", "key", "child", "aggregate", "load"]
"""What a check compares, which decides what a load must re-check (expectations/checks.py, docs/CHECKS.md):

- `row`: each row passes or fails on its own values: re-checked on the rows a load inserted or replaced;
- `key`: rows sharing a natural key: re-checked for the keys (so the children or records) a load touched;
- `child`: a child's rows with each other, in one table or across tables and versions (overlaps,
  consistency, counts): re-checked for every row of the children a load touched;
- `aggregate`: a share over the whole table: its failing rows are row-level (re-checked as `row`), its
  success is worked out in SQL from the kept failing rows and the rows checked;
- `load`: the files loaded since the previous validation (rejected or duplicated rows): run on those files.
"""
CHECK_KINDS: tuple[CheckKind, ...] = ("row", "key", "child", "aggregate", "load")
SEVERITIES: tuple[Severity, ...] = ("error", "warning")
CROSS_TABLE = "cross_table"

EARLIEST_PLAUSIBLE_DATE = date(1990, 1, 1)
DEFAULT_ETHNICITY_THRESHOLD = 0.95
ETHNICITY_THRESHOLD_ENV = "FRONTDOOR_ETHNICITY_THRESHOLD"
DEFAULT_MAX_FAILURE_ROWS = 10_000


@dataclass(frozen=True)
class CheckParams:
    """What a validation run depends on besides the data: the store's as-of date and the thresholds."""

    as_of: date
    load_id: int = 0
    previous_load_id: int = 0
    ethnicity_threshold: float = DEFAULT_ETHNICITY_THRESHOLD
    earliest_date: date = EARLIEST_PLAUSIBLE_DATE
    max_failure_rows: int = DEFAULT_MAX_FAILURE_ROWS
    scope: str | None = None  # a TEMP table or subquery (scope, unit) of what a load touched; checks read those rows
    shared_scope: str | None = None  # a scope covering `scope`, which tables several checks share are built for
    listed_versions: str | None = None  # prefix of TEMP copies of `*_versions` rows read instead of the store's
    copied: tuple[tuple[str, str], ...] = ()  # (table, TEMP table): a copy of the table's rows in `scope` (run_rows)

    def rows(self, table: str) -> str:
        """SQL source of the rows of a store table the run checks: the table, or its rows in the touched scope.

        A `*_versions` table is scoped like its canonical table; the unit is the child id (the record id for
        recordings), NULL ids included. The units are matched with `=` and the NULL unit apart: DuckDB then skips
        the blocks of the table outside the touched units' range (it does not for IS NOT DISTINCT FROM; at national
        scale a month's 330,000 new recordings are found in 0.1 s of CPU instead of 1.8 s).
        """
        if self.scope is None:
            return table
        copy = dict(self.copied).get(table)
        if copy is not None:  # the rows found once already (frames.run_rows), with the columns the reader needs
            return copy
        entity = table.removesuffix("_versions")
        unit = unit_column(entity)
        return (
            f"(SELECT _r.* FROM {table} _r SEMI JOIN {self.scope} _s ON _s.scope = '{entity}' AND _r.{unit} = _s.unit"
            f" UNION ALL SELECT _r.* FROM {table} _r WHERE _r.{unit} IS NULL"
            f" AND EXISTS (SELECT 1 FROM {self.scope} _s WHERE _s.scope = '{entity}' AND _s.unit IS NULL))"
        )

    def versions(self, table: str) -> str:
        """The version rows of a canonical table the run reads: its `*_versions` table, or the TEMP copy (named
        `listed_versions` + that name) of the rows of the children whose failing rows a listing shows."""
        return f"{self.listed_versions or ''}{table}_versions"

    def children_in_scope(self, column: str) -> str:
        """SQL condition on `column` (a child id): the run checks every child (no scope) or a touched child."""
        if self.scope is None:
            return "TRUE"
        return f"{column} IN (SELECT unit FROM {self.scope} WHERE scope = '{CROSS_TABLE}')"

    def is_new_load(self, column: str = "load_id") -> str:
        """SQL condition: the row came with a load this validation is the first to see (after the previous one)."""
        return f"({column} > {int(self.previous_load_id)} AND {column} <= {int(self.load_id)})"

    @classmethod
    def from_store(
        cls,
        con: duckdb.DuckDBPyConnection,
        load_id: int | None = None,
        ethnicity_threshold: float | None = None,
        max_failure_rows: int = DEFAULT_MAX_FAILURE_ROWS,
    ) -> CheckParams:
        """Parameters for a store: as-of = the latest extract date in `loads` (today if none); load = `load_id`
        or the latest; previous load = the latest earlier load that has stored results (0 if none)."""
        as_of, latest = con.execute("SELECT max(as_of), coalesce(max(load_id), 0) FROM loads").fetchall()[0]
        current = int(latest if load_id is None else load_id)
        previous = con.execute(
            "SELECT coalesce(max(load_id), 0) FROM dq_results WHERE load_id < ?", [current]
        ).fetchall()[0][0]
        return cls(
            as_of=as_of or date.today(),
            load_id=current,
            previous_load_id=int(previous),
            ethnicity_threshold=resolve_ethnicity_threshold(ethnicity_threshold),
            max_failure_rows=max_failure_rows,
        )


def resolve_ethnicity_threshold(value: float | None = None) -> float:
    """The ethnicity completeness threshold (0-1): an explicit value, else $FRONTDOOR_ETHNICITY_THRESHOLD, else 0.95."""
    if value is None:
        raw = os.environ.get(ETHNICITY_THRESHOLD_ENV, "").strip()
        value = float(raw) if raw else DEFAULT_ETHNICITY_THRESHOLD
    if value > 1:  # given as a percentage
        value = value / 100
    if not 0 <= value <= 1:
        raise ValueError(f"ethnicity completeness threshold must be between 0 and 1 (or 0-100%), got {value}")
    return value


def unit_column(table: str) -> str:
    """What a load re-checks a table's rows by: the record id for recordings, the child id otherwise."""
    return "record_id" if table == "recordings" else "child_id"


# A bound that depends on the run (the as-of date, a threshold) is a function of the parameters.
Bound = Any | Callable[[CheckParams], Any]


def resolve(bound: Bound, params: CheckParams) -> Any:
    """The value of a bound for this run."""
    return bound(params) if callable(bound) else bound


# --- Declarations of Great Expectations checks (turned into GE expectations by suites.py and into
# --- the same predicate in SQL by predicates.py, so stored failing rows match GE's counts).


@dataclass(frozen=True)
class When:
    """Only rows where `column` is present (or missing) are checked: a GE row condition."""

    column: str
    present: bool = True


@dataclass(frozen=True)
class NotNull:
    """expect_column_values_to_not_be_null."""

    column: str
    when: When | None = None
    ge_type: str = "expect_column_values_to_not_be_null"


@dataclass(frozen=True)
class InSet:
    """expect_column_values_to_be_in_set (missing values are not checked); `mostly` makes it a proportion test."""

    column: str
    values: tuple[Any, ...]
    mostly: Bound | None = None
    ge_type: str = "expect_column_values_to_be_in_set"


@dataclass(frozen=True)
class Between:
    """expect_column_values_to_be_between, bounds inclusive (missing values are not checked)."""

    column: str
    min_value: Bound | None = None
    max_value: Bound | None = None
    ge_type: str = "expect_column_values_to_be_between"


@dataclass(frozen=True)
class AtLeast:
    """expect_column_pair_values_a_to_be_greater_than_b with or_equal: column_a >= column_b where both are present."""

    column_a: str
    column_b: str
    ge_type: str = "expect_column_pair_values_a_to_be_greater_than_b"


GeSpec = NotNull | InSet | Between | AtLeast


def spec_columns(spec: GeSpec) -> tuple[str, ...]:
    """Columns of the table frame a GE declaration reads."""
    if isinstance(spec, AtLeast):
        cols: tuple[str, ...] = (spec.column_a, spec.column_b)
    else:
        cols = (spec.column,)
    when = getattr(spec, "when", None)
    return cols + ((when.column,) if when else ())


SqlText = Callable[[CheckParams], str]


@dataclass(frozen=True)
class SqlSpec:
    """A check run as SQL: the SELECTs of its failing rows and of the number of rows it looked at.

    `rows` returns table_name, child_id, source_file, sheet, row_number, value, unit. `count` is a cheaper
    SELECT of how many rows `rows` returns, when there is one. `temp` = (name, SELECT) is built
    first as a TEMP table that `rows` and `count` both read, so shared work is done once. Every
    SELECT reads the store through `CheckParams.rows`, so a load's run reads only what it touched.
    `failing_by_unit` (SELECT unit, failing) counts the failing rows per unit from `temp` when that is
    cheaper than grouping `rows`. `checked_by_unit` (SELECT unit, checked) is given when the rows checked are not a plain count of
    the store: they are then kept per child. `depends_on` is a SELECT of one store-wide value the
    check reads besides the touched rows: when it changes, the check is re-run on the whole store.
    `columns` names the columns of the checked table's rows (`CheckParams.rows`) its counts read, when they read
    nothing else of the store's rows: they can then be counted from a copy of the touched rows holding those columns
    (`CheckParams.copied`) instead of finding those rows among the table's again.
    `shared` = (name, SELECT) is a TEMP table several checks read (each a function of the run's parameters): built
    by the first of them that runs with those parameters, kept until the run ends (`sql_checks.drop_shared`).
    """

    rows: SqlText
    checked: SqlText
    count: SqlText | None = None
    temp: tuple[str, SqlText] | None = None
    shared: tuple[SqlText, SqlText] | None = None
    failing_by_unit: SqlText | None = None
    checked_by_unit: SqlText | None = None
    depends_on: str | None = None
    columns: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Check:
    """One data quality check: what it tests, how bad a failure is, and how to put the record right.

    Exactly one of `ge` (a Great Expectations declaration over one canonical table) and `sql`
    (an `SqlSpec`) is given. `value_columns` name what a GE check shows as the failing value.
    `kind` says what the check compares and so what a load re-checks (see `CheckKind`).
    """

    check_id: str
    table: str
    title: str
    description: str
    severity: Severity
    problem: str
    dfe_code: str | None = None
    ge: GeSpec | None = None
    sql: SqlSpec | None = None
    value_columns: tuple[str, ...] = field(default_factory=tuple)
    kind: CheckKind = "row"

    @property
    def kept(self) -> bool:
        """Whether the check's failing rows are kept in the store and carried forward between loads."""
        return self.kind != "load"

    @property
    def engine(self) -> str:
        return "great_expectations" if self.ge is not None else "sql"

    @property
    def expectation(self) -> str:
        """The GE expectation type, or 'sql'."""
        return self.ge.ge_type if self.ge is not None else "sql"
