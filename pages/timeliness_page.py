"""Timeliness: assessments within 45 working days (both clocks), open assessments already overdue, and recording delays."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

import metrics.query
import metrics.timeliness
from ui import data
from ui.charts import count_bar
from ui.components import (
    breakdown,
    chart,
    count_tile,
    drilldown,
    headline,
    missing_entities,
    nothing_matches,
    page_header,
    require,
    section,
    sensitive_list,
    trend,
)
from ui.filters import View
from ui.formatting import decimal
from ui.provenance import record_sources

CLOCKS = {
    "Assessment start → authorisation (DfE statistic)": "start",
    "Referral → authorisation (Working Together maximum)": "referral",
}
ASSESSMENT_LABEL = "Assessments within 45 working days"


def assessment_metric(clock: str):
    def metric(period: Any, filters: Any, by: str | None) -> pd.DataFrame:
        return data.frame(metrics.timeliness.assessment_timeliness, period=period, filters=filters, by=by, clock=clock)

    return metric


def recording_metric(target_wd: int):
    def metric(period: Any, filters: Any, by: str | None) -> pd.DataFrame:
        return data.frame(
            metrics.timeliness.recording_timeliness, period=period, filters=filters, by=by, target_wd=target_wd
        )

    return metric


def duration_bands(view: View, clock: str) -> None:
    frame = data.frame(
        metrics.timeliness.assessment_duration_bands, period=view.period, filters=view.filters, clock=clock
    )
    if frame.empty or frame["count"].sum() == 0:
        nothing_matches("authorised assessments", view)
        return
    top = frame.loc[frame["count"].idxmax()]
    title = f"Assessment length in working days: most often {top['band']} ({int(top['count']):,} assessments)"
    chart(
        count_bar(frame, "band", "count", title, share="share" if "share" in frame else None),
        frame,
        f"assessment_duration_bands_{clock}",
        key="tl_bands",
    )


def assessments(view: View) -> None:
    clock_label = st.radio("Clock", list(CLOCKS), horizontal=True, key="tl_clock")
    clock = CLOCKS[clock_label]
    metric = assessment_metric(clock)
    with section("Assessment headline"):
        current = headline(metric, view, ASSESSMENT_LABEL, "up", code="assessment_timeliness")
    if not current.get("denominator"):
        nothing_matches("authorised assessments", view)
    else:
        with section("Assessment trend"):
            trend(metric, view, ASSESSMENT_LABEL, "up", key="tl_trend", code="assessment_timeliness")
        with section("Duration bands"):
            duration_bands(view, clock)
        with section("Assessment drill-down"):
            drilldown(metric, view, ASSESSMENT_LABEL, key="tl_drill")


def recordings(state: data.StoreState, view: View) -> None:
    if not state.has("recordings"):
        missing_entities(["recordings"], state)
        return
    target = int(
        st.number_input(
            "Local target (working days)",
            min_value=1,
            max_value=60,
            value=5,
            step=1,
            key="tl_target",
            help="No national standard: the service sets its own.",
        )
    )
    label = f"Recordings written up within {target} working days"
    metric = recording_metric(target)
    with section("Recording headline"):
        current = headline(metric, view, label, "up", code="recording_timeliness")
        if current.get("denominator"):
            st.caption(
                f"Median delay {decimal(current.get('median_delay_wd'))} working days; "
                f"90th percentile {decimal(current.get('p90_delay_wd'))}."
            )
    if not current.get("denominator"):
        nothing_matches("recorded events", view)
    else:
        with section("Recording trend"):
            trend(metric, view, label, "up", key="tl_rec_trend", code="recording_timeliness", target_wd=target)
        with section("By record type"):
            breakdown(metric, view, label, "record_type", "record type", key="tl_rec_type")
        with section("Recording drill-down"):
            drilldown(metric, view, label, key="tl_rec_drill")


def point_in_time(state: data.StoreState, view: View) -> None:
    """Figures at the as-of date, apart from the period figures: the period filter does not change them."""
    as_of = data.call(metrics.query.as_of_date)
    st.header(f"Point in time: as at {as_of:%d %b %Y}")
    st.caption(
        f"These are counts on one day, the latest extract's as-of date ({as_of:%d %b %Y}), not figures for "
        f"{view.label}: the period filter does not change them; the team and worker filters do."
    )
    if state.has("assessments"):
        with section("Open assessments overdue"):
            overdue = data.rows(metrics.timeliness.open_assessments_overdue, filters=view.filters)
            count_tile(
                f"Open assessments past 45 working days, as at {as_of:%d %b %Y}",
                len(overdue),
                border=True,
                help="Still open at the as-of date; shown apart from those completed late.",
            )
            sensitive_list(
                "open assessments past 45 working days",
                overdue,
                "open_assessments_overdue",
                key="tl_overdue",
                empty="No open assessment is past 45 working days.",
            )
            record_sources("assessments", overdue, key="tl_overdue_sources")
    if state.has("recordings"):
        with section("Backlog"):
            backlog = data.rows(metrics.timeliness.recording_backlog, filters=view.filters)
            count_tile(f"Events not yet written up, as at {as_of:%d %b %Y}", len(backlog), border=True)
            sensitive_list(
                "events not yet written up",
                backlog,
                "recording_backlog",
                key="tl_backlog",
                empty="Every recorded event has been written up.",
            )


def render() -> None:
    page_header("Timeliness", "Are assessments completed within 45 working days, and is work written up promptly?")
    ready = require("assessments", "recordings")
    if ready is None:
        return
    state, view = ready
    st.header("Assessments")
    if state.has("assessments"):
        assessments(view)
    else:
        missing_entities(["assessments"], state)
    st.header("Recording delays")
    recordings(state, view)
    point_in_time(state, view)


render()
