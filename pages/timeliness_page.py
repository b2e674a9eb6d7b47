"""Timeliness: assessments within 45 working days (both clocks), open assessments already overdue, and recording delays."""

from __future__ import annotations

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
from ui.headlines import Measure
from ui.provenance import record_sources

CLOCKS = {
    "Assessment start → authorisation (DfE statistic)": "start",
    "Referral → authorisation (Working Together maximum)": "referral",
}


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
    rate = Measure(metrics.timeliness.assessment_timeliness, {"clock": clock})
    with section("Assessment headline"):
        current = headline(rate, view)
    if not current.get("denominator"):
        nothing_matches("authorised assessments", view)
    else:
        with section("Assessment trend"):
            trend(rate, view, key="tl_trend")
        with section("Duration bands"):
            duration_bands(view, clock)
        with section("Assessment drill-down"):
            drilldown(rate, view, key="tl_drill")


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
    rate = Measure(metrics.timeliness.recording_timeliness, {"target_wd": target})
    with section("Recording headline"):
        current = headline(rate, view)
        if current.get("denominator"):
            st.caption(
                f"Median delay {decimal(current.get('median_delay_wd'))} working days; "
                f"90th percentile {decimal(current.get('p90_delay_wd'))}."
            )
    if not current.get("denominator"):
        nothing_matches("recorded events", view)
    else:
        with section("Recording trend"):
            trend(rate, view, key="tl_rec_trend", target_wd=target)
        with section("By record type"):
            breakdown(rate, view, "record_type", "record type", key="tl_rec_type")
        with section("Recording drill-down"):
            drilldown(rate, view, key="tl_rec_drill")


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
            label = Measure(metrics.timeliness.open_assessments_overdue).label
            count_tile(
                f"{label}, as at {as_of:%d %b %Y}",
                len(overdue),
                border=True,
                help="Still open at the as-of date; shown apart from those completed late.",
            )
            sensitive_list(
                label.lower(),
                overdue,
                "open_assessments_overdue",
                key="tl_overdue",
                empty="No open assessment is past 45 working days.",
            )
            record_sources("assessments", overdue, key="tl_overdue_sources")
    if state.has("recordings"):
        with section("Backlog"):
            waiting = data.call(metrics.timeliness.count_recording_backlog, filters=view.filters)
            label = Measure(metrics.timeliness.count_recording_backlog).label
            count_tile(f"{label}, as at {as_of:%d %b %Y}", waiting, border=True)
            sensitive_list(
                Measure(metrics.timeliness.recording_backlog).label.lower(),
                lambda: data.rows(metrics.timeliness.recording_backlog, filters=view.filters),
                "recording_backlog",
                key="tl_backlog",
                empty="Every recorded event has been written up.",
                rows_known=waiting,  # the list (every waiting event) is fetched when opened
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
