"""The dashboard's one door to the store: the read-only connection, caches keyed on the published load, and every call to metrics/ and expectations."""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import streamlit as st

import metrics.coverage
import metrics.privacy
import metrics.spc
from store.connection import StoreNotFound, open_read, published_version, store_path

log = logging.getLogger(__name__)
_LOCK = threading.Lock()

ENTITY_LABELS: dict[str, str] = {
    "contacts": "contacts (Annex A List 1)",
    "referrals": "referrals (Annex A List 3 or CIN census)",
    "assessments": "assessments (Annex A List 4 or CIN census)",
    "cin_episodes": "children-in-need episodes (Annex A List 6 or CIN census)",
    "recordings": "case recordings (the case-recording CSV extract)",
}


@dataclass(frozen=True)
class StoreState:
    """What the published store holds, enough for a page to say what is missing and what to load."""

    path: str
    version: str | None
    loads: int = 0
    tables: dict[str, int] = field(default_factory=dict)
    problem: str | None = None

    @property
    def missing(self) -> bool:
        return self.version is None

    @property
    def empty(self) -> bool:
        return self.version is not None and (self.loads == 0 or not any(self.tables.values()))

    @property
    def ready(self) -> bool:
        return not self.missing and not self.empty

    def has(self, entity: str) -> bool:
        return self.tables.get(entity, 0) > 0

    def load_hint(self) -> str:
        return f"python -m ingest FILE... --store {self.path}"


def current_path() -> Path:
    """The store this dashboard reads: FRONTDOOR_STORE, else the demo store."""
    return store_path()


def current_version() -> str | None:
    """The published version of the store (None when there is no store yet)."""
    try:
        return published_version(current_path())
    except StoreNotFound:
        return None


@st.cache_resource(max_entries=4, show_spinner=False)
def _connection(version: str) -> duckdb.DuckDBPyConnection:
    """One read-only connection per published version; sessions take cursors from it."""
    return open_read(version)


def _cursor(version: str) -> duckdb.DuckDBPyConnection:
    with _LOCK:
        return _connection(version=version).cursor()


Metric = Callable[..., Any]
# Functions by their qualified name: the caches key on the name (cheap to hash), the call uses the object.
_FUNCTIONS: dict[str, Metric] = {}


def qualified_name(function: Metric) -> str:
    """The cache key of a metrics/expectations function: its module and qualified name."""
    name = f"{function.__module__}.{function.__qualname__}"
    _FUNCTIONS[name] = function
    return name


def _run(version: str, name: str, args: tuple[Any, ...], kwargs: tuple[tuple[str, Any], ...]) -> Any:
    """The result of `function(con, *args, **kwargs)` on one published version."""
    con = _cursor(version)
    try:
        return _FUNCTIONS[name](con, *args, **dict(kwargs))
    finally:
        con.close()


# Streamlit looks up a function's signature for each positional argument of a cached call, on every call; the
# cached functions below are called with keywords, which it takes by name (a tenth of a page view's CPU).
@st.cache_data(max_entries=2048, show_spinner=False)
def _cached_call(version: str, name: str, args: tuple[Any, ...], kwargs: tuple[tuple[str, Any], ...]) -> Any:
    """A metric result, cached on (published version, function, arguments)."""
    return _run(version, name, args, kwargs)


@st.cache_data(max_entries=2048, show_spinner=False)
def _cached_plain_call(
    version: str, name: str, arguments: str, _args: tuple[Any, ...], _kwargs: tuple[tuple[str, Any], ...]
) -> Any:
    """A metric result, cached on (published version, function, `arguments`: the arguments written out in full).

    Streamlit does not hash the parameters named with a leading underscore: the key is the text."""
    return _run(version, name, _args, _kwargs)


_PLAIN = (str, int, float, bool, date, type(None))


def plain_key(value: Any) -> str | None:
    """`value` written out in full when it is made of plain values (text, numbers, dates, None; tuples, lists and
    dataclasses of them), so equal text means equal arguments; None for anything else (frames, functions, ...).

    Streamlit hashes each argument of a cached call, dataclasses field by field through a deep copy: on a page
    that reads fifty cached results, that cost more than reading them; the text of a period and filters costs little."""
    if isinstance(value, _PLAIN):
        return repr(value)  # a date's repr is exact (datetime.date(2024, 4, 1)), a float's round-trips
    if isinstance(value, tuple | list):
        parts = [plain_key(v) for v in value]
        return None if None in parts else f"{type(value).__name__}({', '.join(map(str, parts))})"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: plain_key(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if None in fields.values():
            return None
        kind = type(value)
        return f"{kind.__module__}.{kind.__qualname__}({', '.join(f'{k}={v}' for k, v in fields.items())})"
    return None


def call(function: Metric, *args: Any, **kwargs: Any) -> Any:
    """Call a metrics/expectations function on the published store, cached on (version, function, arguments)."""
    version = current_version()
    if version is None:
        raise StoreNotFound(str(current_path()))
    named = tuple(sorted(kwargs.items()))
    arguments = plain_key((args, named))
    if arguments is None:
        return _cached_call(version=version, name=qualified_name(function), args=args, kwargs=named)
    return _cached_plain_call(
        version=version, name=qualified_name(function), arguments=arguments, _args=args, _kwargs=named
    )


@st.cache_resource(max_entries=64, show_spinner=False)
def _cached_rows(version: str, name: str, args: tuple[Any, ...], kwargs: tuple[tuple[str, Any], ...]) -> Any:
    """A child-level list, kept as one shared object: lists can be large, and unpickling them on every hit is slow."""
    return _run(version, name, args, kwargs)


def rows(function: Metric, *args: Any, **kwargs: Any) -> pd.DataFrame:
    """A child-level list ("the children behind the number"), cached on the published version; do not modify it."""
    version = current_version()
    if version is None:
        raise StoreNotFound(str(current_path()))
    return _cached_rows(version=version, name=qualified_name(function), args=args, kwargs=tuple(sorted(kwargs.items())))


@st.cache_data(max_entries=16, show_spinner=False)
def _store_state(path: str, version: str) -> StoreState:
    con = _cursor(version)
    try:
        loads = len(metrics.coverage.loads(con))
        span = metrics.coverage.data_span(con)
    except duckdb.CatalogException as exc:
        return StoreState(path, version, problem=f"this file is not a front-door store ({type(exc).__name__})")
    finally:
        con.close()
    tables = {name: int((span.get(name) or {}).get("rows") or 0) for name in ENTITY_LABELS}
    return StoreState(path, version, loads=loads, tables=tables)


def store_state() -> StoreState:
    """The state of the store named by FRONTDOOR_STORE (or the demo store)."""
    path = str(current_path())
    version = current_version()
    if version is None:
        return StoreState(path, None)
    return _store_state(path=path, version=version)


def frame(function: Metric, *args: Any, **kwargs: Any) -> pd.DataFrame:
    """A metric result that is a data frame (copied, so a page may change it freely)."""
    result = call(function, *args, **kwargs)
    return result.copy() if isinstance(result, pd.DataFrame) else pd.DataFrame(result)


@st.cache_data(max_entries=64, show_spinner=False)
def _cached_reference(name: str, kwargs: tuple[tuple[str, Any], ...]) -> Any:
    return _FUNCTIONS[name](**dict(kwargs))


def reference(function: Metric, **kwargs: Any) -> Any:
    """A function over the published reference data (DfE/ONS figures), not the store; cached on its arguments."""
    return _cached_reference(name=qualified_name(function), kwargs=tuple(sorted(kwargs.items())))


def la_code() -> str | None:
    """The authority's DfE code for benchmarks: FRONTDOOR_LA_CODE, else the metrics default."""
    import os

    return os.environ.get("FRONTDOOR_LA_CODE") or None


def _spc(monthly: pd.DataFrame) -> pd.DataFrame:
    if monthly.empty or monthly["denominator"].fillna(0).sum() == 0:
        return monthly
    return metrics.spc.spc_limits(monthly)


@st.cache_data(max_entries=1024, show_spinner=False)
def _spc_of_frame(monthly: pd.DataFrame) -> pd.DataFrame:
    return _spc(monthly)


@st.cache_data(max_entries=1024, show_spinner=False)
def _spc_of_key(version: str, made_from: str, _monthly: pd.DataFrame) -> pd.DataFrame:
    return _spc(_monthly)


def with_spc(monthly: pd.DataFrame, made_from: str | None = None) -> pd.DataFrame:
    """A monthly rate frame with SPC centre line, limits and signals (metrics.spc); cached on the frame, or, cheaper
    than hashing it, on the published version and `made_from` (`plain_key` of everything the frame was made from)."""
    version = current_version()
    if made_from is None or version is None:
        return _spc_of_frame(monthly=monthly)
    return _spc_of_key(version=version, made_from=made_from, _monthly=monthly)


def call_pure(function: Metric, **kwargs: Any) -> Any:
    """A function that takes no connection (e.g. where the Data Docs are served); not cached."""
    return function(**kwargs)


def frame_pure(function: Metric, **kwargs: Any) -> pd.DataFrame:
    """A data frame from the reference data (cached), copied for the page."""
    return reference(function, **kwargs).copy()
