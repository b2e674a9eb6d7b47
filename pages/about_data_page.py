"""About the data: which store, what was loaded when, coverage by month and list, and warnings about gaps in history."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import metrics.coverage
from ui import data
from ui.charts import coverage_chart
from ui.components import chart, current_view, explain_store, page_header, section, table

LOAD_COLUMNS = [
    "load_id",
    "source_file",
    "format",
    "as_of",
    "loaded_at",
    "rows_read",
    "rows_loaded",
    "rows_rejected",
    "rows_superseded",
    "rows_unchanged",
    "event_date_min",
    "event_date_max",
    "notices",
]


def store_summary(state: data.StoreState) -> None:
    st.markdown(f"Store: `{state.path}` · {state.loads:,} load{'s' if state.loads != 1 else ''} published")
    counts = pd.DataFrame([{"list": data.ENTITY_LABELS[e], "rows": n} for e, n in state.tables.items()])
    table(counts, "store_tables", key="about_tables", rates=())
    for entity, label in data.ENTITY_LABELS.items():
        if not state.has(entity):
            st.info(f"No {label} loaded: load the extract with `{state.load_hint()}`.")


def warnings() -> None:
    view = current_view()
    if view is None:
        return
    found = data.call(metrics.coverage.history_warnings, view.period)
    for warning in found:
        st.warning(warning, icon=":material/warning:")
    if not found:
        st.success(f"No warnings for {view.label}: enough history is loaded for every measure.")


def loads() -> None:
    frame = data.frame(metrics.coverage.loads)
    frame = frame[[c for c in LOAD_COLUMNS if c in frame.columns]]
    if "notices" in frame:
        frame["notices"] = frame["notices"].map(
            lambda v: "; ".join(v) if isinstance(v, (list, tuple)) or hasattr(v, "tolist") else v
        )
    table(frame, "loads", key="about_loads", rates=())


def coverage() -> None:
    frame = data.frame(metrics.coverage.coverage_by_month)
    if frame.empty:
        st.info("Nothing dated is loaded yet.")
        return
    chart(coverage_chart(frame), frame, "coverage_by_month", key="about_coverage")


def spans() -> None:
    """The span of plausible dates per list; impossible dates (before 1990, after the as-of date) flagged apart."""
    frame = data.frame(metrics.coverage.plausible_span)
    bad = frame[frame["impossible_dates"] > 0]
    for _, row in bad.iterrows():
        st.warning(
            f"**{int(row['impossible_dates']):,} impossible date{'s' if row['impossible_dates'] > 1 else ''} "
            f"in {row['list']}** (years {row['impossible_years']}): before 1990 or after the latest extract's "
            "as-of date. They are left out of the span below; the Data quality page lists the rows.",
            icon=":material/event_busy:",
        )
    table(frame, "data_span", key="about_span", rates=())


def render() -> None:
    page_header("About the data", "What was loaded when, which months and lists it covers, and what is missing.")
    state = data.store_state()
    if not state.ready:
        explain_store(state)
        return
    with section("Store"):
        store_summary(state)
    st.subheader("Warnings for this period")
    with section("Warnings"):
        warnings()
    st.subheader("Coverage by month and list")
    with section("Coverage"):
        coverage()
    with section("Date span"):
        spans()
    st.subheader("Loads, newest first")
    with section("Loads"):
        loads()


render()
