"""Great Expectations suites, one per canonical table, built in Python from the registry and run on data frames.

GE 1.x cannot validate DuckDB through SQLAlchemy, so each table's frame is taken out of DuckDB
(frames.py) and validated with an ephemeral context. Each expectation carries its check id,
DfE code and severity in `meta`, its title in `description` (what Data Docs show) and the
plain-English description with the fix in `notes` (shown on the suite pages of Data Docs).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from expectations.deferred_imports import defer

defer()  # before Great Expectations is imported: scipy.stats and altair load only if used

import great_expectations as gx  # noqa: E402
import great_expectations.execution_engine.pandas_execution_engine as _pandas_engine  # noqa: E402
import great_expectations.util as gx_util  # noqa: E402
import pandas as pd  # noqa: E402
from great_expectations.constants import DATAFRAME_REPLACEMENT_STR  # noqa: E402
from great_expectations.core import ExpectationSuiteValidationResult  # noqa: E402
from great_expectations.core.run_identifier import RunIdentifier  # noqa: E402
from great_expectations.data_context.types.base import (  # noqa: E402
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.data_context.types.resource_identifiers import (  # noqa: E402
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)
from great_expectations.expectations.expectation import Expectation  # noqa: E402
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration  # noqa: E402
from great_expectations.expectations.row_conditions import Column  # noqa: E402
from great_expectations.validator.v1_validator import Validator  # noqa: E402

from expectations.model import AtLeast, Between, Check, CheckParams, InSet, NotNull, When, resolve  # noqa: E402

# GE fingerprints every in-memory frame under 1 GB with an md5 of pandas' row hashes, only to
# label the batch. That costs more than the validation itself (about 8 s for 5 M rows); the
# label is not used here, so the threshold is set to 0 (no fingerprint).
_pandas_engine.HASH_THRESHOLD = 0

_JSON_PLAIN = (str, int, bool, type(None))


def _plain_values_first(convert: Any) -> Any:
    """GE's `convert_to_json_serializable`, answering at once for the values it returns unchanged (str, int, bool,
    None); anything else goes through GE's own chain of type tests."""

    def converted(data: Any) -> Any:
        return data if type(data) in _JSON_PLAIN else convert(data)

    converted.__wrapped__ = convert  # type: ignore[attr-defined]
    return converted


def _convert_plain_values_first() -> None:
    """GE turns every metric's arguments into JSON to name it (thousands of times per validation), testing each
    value against some twenty types, four of them numpy's, before it reaches None. Every GE module that imported
    the converter gets the shortcut (the converter calls itself through its own module's name, so it too):
    about a sixth of GE's planning time, same results."""
    import sys

    original = gx_util.convert_to_json_serializable
    if hasattr(original, "__wrapped__"):
        return
    faster = _plain_values_first(original)
    for name, module in list(sys.modules.items()):
        if name.startswith("great_expectations") and getattr(module, "convert_to_json_serializable", None) is original:
            module.convert_to_json_serializable = faster  # type: ignore[attr-defined]


_convert_plain_values_first()

RESULT_FORMAT: dict[str, Any] = {"result_format": "BASIC", "partial_unexpected_count": 0}
"""Counts only: no child-level values go into GE results or Data Docs (failing rows are stored in the store)."""

_SEVERITY = {"error": "critical", "warning": "warning"}
E = gx.expectations


def _condition(when: When | None) -> Any:
    if when is None:
        return None
    column = Column(when.column)
    return column.is_not_null() if when.present else column.is_null()


def _bound(value: Any) -> Any:
    """Dates become datetimes: frames hold dates as timestamps, and GE compares a timestamp column only with those."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    return value


def _docs_title(check: Check) -> str:
    """What Data Docs show for the expectation: the check's title, id and DfE code ('$' would start a GE template)."""
    code = f"; DfE {check.dfe_code}" if check.dfe_code else ""
    return f"{check.title} ({check.check_id}{code}, {check.severity})".replace("$", "")


def to_expectation(check: Check, params: CheckParams) -> gx.expectations.Expectation:
    """The GE expectation of a registry check, with the run's bounds filled in."""
    spec = check.ge
    common: dict[str, Any] = {
        "meta": {
            "check_id": check.check_id,
            "dfe_code": check.dfe_code,
            "severity": check.severity,
            "title": check.title,
        },
        "notes": check.description,
        "description": _docs_title(check),
        "severity": _SEVERITY[check.severity],
    }
    if isinstance(spec, NotNull):
        condition = _condition(spec.when)
        if condition is not None:
            common["row_condition"] = condition
        return E.ExpectColumnValuesToNotBeNull(column=spec.column, **common)
    if isinstance(spec, InSet):
        extra = {"mostly": resolve(spec.mostly, params)} if spec.mostly is not None else {}
        return E.ExpectColumnValuesToBeInSet(column=spec.column, value_set=list(spec.values), **extra, **common)
    if isinstance(spec, Between):
        return E.ExpectColumnValuesToBeBetween(
            column=spec.column,
            min_value=_bound(resolve(spec.min_value, params)),
            max_value=_bound(resolve(spec.max_value, params)),
            **common,
        )
    if isinstance(spec, AtLeast):
        return E.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=spec.column_a,
            column_B=spec.column_b,
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            **common,
        )
    raise TypeError(f"{check.check_id}: not a Great Expectations check")


def build_suite(table: str, checks: list[Check], params: CheckParams) -> gx.ExpectationSuite:
    """The expectation suite of one canonical table."""
    # given as a list: add_expectation compares each new expectation with every one before it (pydantic
    # dicts of both); the registry's checks are distinct (a check id each, results are looked up by it)
    return gx.ExpectationSuite(
        name=table,
        meta={"table": table, "as_of": params.as_of.isoformat()},
        expectations=[to_expectation(check, params) for check in checks],
    )


_CONFIGURATION: Any = Expectation.__dict__["configuration"]  # the property: pydantic's dict() on every read
_TO_DOMAIN_OBJ: Any = ExpectationConfiguration.to_domain_obj  # builds (and validates) a new expectation each call
_CONFIGURATIONS_LOCK = threading.RLock()


@contextmanager
def _configurations_reused() -> Iterator[None]:
    """While GE validates, each expectation object builds its configuration once instead of on every read, and
    each configuration its expectation object once.

    GE's planning reads `Expectation.configuration` about a hundred times per expectation (each a pydantic
    `dict()` of the whole expectation: 2.7 s of 7 s for a council month's four suites, profiled), and turns
    the configuration back into a new expectation (a pydantic model, validated) for each metric it plans,
    only to read its arguments; the objects are not changed while they are validated, so the first
    configuration and expectation stand for the rest. The caches live for one validation; other threads'
    validations wait for them.
    """
    configurations: dict[int, tuple[Expectation, ExpectationConfiguration]] = {}
    expectations: dict[int, tuple[ExpectationConfiguration, Expectation]] = {}

    def configuration(self: Expectation) -> ExpectationConfiguration:
        hit = configurations.get(id(self))
        if hit is None:  # the object is kept beside its configuration, so its id is not reused meanwhile
            hit = configurations[id(self)] = (self, _CONFIGURATION.fget(self))
        return hit[1]

    def to_domain_obj(self: ExpectationConfiguration) -> Expectation:
        hit = expectations.get(id(self))
        if hit is None:
            hit = expectations[id(self)] = (self, _TO_DOMAIN_OBJ(self))
        return hit[1]

    with _CONFIGURATIONS_LOCK:
        Expectation.configuration = property(configuration)  # type: ignore[method-assign,assignment]
        ExpectationConfiguration.to_domain_obj = to_domain_obj  # type: ignore[method-assign]
        try:
            yield
        finally:
            Expectation.configuration = _CONFIGURATION  # type: ignore[method-assign]
            ExpectationConfiguration.to_domain_obj = _TO_DOMAIN_OBJ  # type: ignore[method-assign]


def _not_saved() -> None:
    """What saving an ephemeral context's configuration does here: nothing (it lives in memory only)."""


@dataclass
class _Validated:
    """One table's validation, kept until Data Docs are built (or never, when they are not)."""

    suite: gx.ExpectationSuite
    result: ExpectationSuiteValidationResult
    batch_id: str


@dataclass
class GeSession:
    """An ephemeral GE context for one validation run (suites and results live in memory).

    Each table's suite runs through GE's validator directly: a `ValidationDefinition` would add the suite
    and itself to the context's stores, check both are "fresh" against the stores and store the result
    (each a serialisation) before anything is rendered, which Data Docs alone need. `keep_for_docs` puts
    the suites and results into the stores, once, when Data Docs are built (in their own thread).
    """

    context: Any
    datasource: Any

    run_id: Any = None
    validated: list[_Validated] = field(default_factory=list)

    @classmethod
    def start(
        cls, source: str = "frontdoor_store", run_name: str | None = None, run_time: datetime | None = None
    ) -> GeSession:
        """A context whose data source is named `source` (the store's file) and whose runs are named `run_name` (the load)."""
        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
            analytics_enabled=False,
        )
        context = gx.get_context(project_config=config, mode="ephemeral")
        # an ephemeral context's configuration is kept in memory and never read back, yet GE serialises it
        # to YAML each time a data source, asset or batch definition is added (11 times a run): not here
        context._save_project_config = _not_saved  # type: ignore[method-assign]
        run_id = RunIdentifier(run_name=run_name, run_time=run_time) if run_name else None
        return cls(context=context, datasource=context.data_sources.add_pandas(source), run_id=run_id)

    def validate(self, table: str, suite: gx.ExpectationSuite, frame: pd.DataFrame) -> ExpectationSuiteValidationResult:
        """Validate one table's frame with its suite; the result is kept for Data Docs (`keep_for_docs`)."""
        batch_definition = self.datasource.add_dataframe_asset(table).add_batch_definition_whole_dataframe(table)
        validator = Validator(
            batch_definition=batch_definition, batch_parameters={"dataframe": frame}, result_format=RESULT_FORMAT
        )
        with _configurations_reused():
            result = validator.validate_expectation_suite(suite)
        self.run_id = self.run_id or RunIdentifier(run_time=datetime.now(UTC))
        # what ValidationDefinition.run adds; and the asset's name, which GE leaves empty for a data frame and
        # Data Docs show (each suite validates one table's frame and is named after it)
        meta: Any = result.meta  # GE types it as a TypedDict of what its validator alone fills in
        meta["run_id"] = self.run_id
        meta["validation_time"] = self.run_id.run_time
        meta["batch_parameters"] = {"dataframe": DATAFRAME_REPLACEMENT_STR}
        meta["batch_spec"] = {**(meta.get("batch_spec") or {}), "data_asset_name": table}
        self.validated.append(_Validated(suite, result, str(validator.active_batch_id)))
        return result

    def keep_for_docs(self) -> Any:
        """Add the validated suites and their results to the context's stores (what Data Docs render); the context."""
        results = self.context.validation_results_store
        for done in self.validated:
            self.context.suites.add(done.suite)
            suite_id = ExpectationSuiteIdentifier(name=done.suite.name)
            results.store_validation_results(
                suite_validation_result=done.result,
                suite_validation_result_identifier=ValidationResultIdentifier(
                    batch_identifier=done.batch_id, expectation_suite_identifier=suite_id, run_id=self.run_id
                ),
                expectation_suite_identifier=suite_id,
            )
        self.validated = []
        return self.context


def _exception_message(info: dict) -> str | None:
    """The error of an expectation that raised (GE nests it per metric when a metric failed), else None."""
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message"))
    return None


def result_counts(result: Any) -> dict[str, Any]:
    """success, element_count (rows checked), unexpected_count, unexpected_percent of one expectation result."""
    error = _exception_message(result.exception_info or {})
    if error is not None:
        check_id = (result.expectation_config.meta or {}).get("check_id")
        raise RuntimeError(f"check {check_id} could not run: {error}")
    r = result.result or {}
    element_count = int(r.get("element_count") or 0)
    checked = element_count - int(r.get("missing_count") or 0)
    unexpected = int(r.get("unexpected_count") or 0)
    percent = r.get("unexpected_percent")
    if percent is None:
        percent = 100.0 * unexpected / checked if checked else 0.0
    return {
        "success": bool(result.success),
        "element_count": checked,
        "unexpected_count": unexpected,
        "unexpected_percent": float(percent),
    }
