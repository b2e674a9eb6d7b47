"""Re-referrals: how often children come back within 12 months, where, after which closures, and who they are."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

import metrics.coverage
import metrics.provisional
import metrics.re_referrals
from metrics.params import Period
from store.codes import CLOSURE_REASONS, REFERRAL_SOURCES
from ui import data
from ui.benchmarks import benchmark_section
from ui.charts import breakdown_bar, count_bar
from ui.components import (
    about,
    breakdown,
    chart,
    drilldown,
    first_row,
    headline,
    nothing_matches,
    page_header,
    require,
    section,
    sensitive_list,
    trend,
)
from ui.filters import View
from ui.formatting import count, extremes_title
from ui.headlines import Measure
from ui.provenance import record_sources

LOOKBACKS = {"12 calendar months (DfE)": "12_calendar_months", "365 days": "365_days"}
CLOSURE_NAMES = {code: f"{code} {name[:38]}{'…' if len(name) > 38 else ''}" for code, name in CLOSURE_REASONS.items()}
CLOSURE_NAMES["NFA"] = "NFA referral, no further action"


def followed_up_period(view: View) -> Period | None:
    """The part of the period whose closures have had the whole follow-up window (None when none has)."""
    start = data.call(metrics.provisional.provisional_from, "re_referral_after_closure")
    end = min(view.period.end, start - timedelta(days=1)) if start else view.period.end
    return None if end < view.period.start else Period(view.period.start, end)


def after_closure(view: View) -> None:
    scored = followed_up_period(view)
    provisional = (
        first_row(
            data.frame(metrics.re_referrals.re_referral_after_closure, period=view.period, filters=view.filters)
        ).get("incomplete_follow_up")
        or 0
    )
    if scored is None:
        st.info(
            f"Every closure in {view.label} has had less than 12 months of follow-up at the as-of date: "
            "whether those children come back is not known yet, so no rate is scored. Choose an earlier period."
        )
        return
    if scored.end < view.period.end:
        st.caption(
            f"Scored: closures up to {scored.end:%d %b %Y}, which have had 12 months of follow-up. Later "
            f"closures are provisional and not scored ({count(provisional)} not yet followed by a referral "
            "still have time to be)."
        )
    measure = Measure(metrics.re_referrals.re_referral_after_closure)
    frame = measure(scored, view.filters, "closure_reason")
    if frame.empty:
        nothing_matches("closures", view)
        return
    overall = first_row(measure(scored, view.filters)).get("rate")
    title = extremes_title(measure.label, frame, "closure_reason", "closure reason", CLOSURE_NAMES)
    chart(
        breakdown_bar(
            frame,
            "closure_reason",
            title,
            overall=overall,
            labels=CLOSURE_NAMES,
            value_title=measure.definition.value_title,
            of=measure.definition.records,
        ),
        frame,
        "re_referral_after_closure_by_reason",
        key="rr_after_closure",
        labels={"closure_reason": CLOSURE_NAMES},
        **about(measure),
    )


def closure_gap(view: View) -> None:
    frame = data.frame(metrics.re_referrals.closure_to_re_referral, period=view.period, filters=view.filters)
    if frame.empty or frame["count"].sum() == 0:
        nothing_matches("re-referrals after a closure", view)
        return
    came_back = frame[frame["band"] != "not re-referred"]
    if came_back["count"].sum() == 0:
        title = "No closure in the period has been followed by another referral yet"
    else:
        top = came_back.loc[came_back["count"].idxmax()]
        title = (
            f"Closures followed by another referral: most often {top['band']} "
            f"({int(top['count']):,} of {int(frame['count'].sum()):,} closures)"
        )
    chart(
        count_bar(frame, "band", "count", title, share="share" if "share" in frame else None),
        frame,
        "closure_to_re_referral",
        key="rr_gap",
    )


def children(view: View, lookback: str) -> None:
    frame = data.rows(
        metrics.re_referrals.re_referred_children, period=view.period, filters=view.filters, lookback=lookback
    )
    sensitive_list(
        f"{Measure(metrics.re_referrals.re_referred_children).label.lower()} in the period, with their previous "
        "referral and closure",
        frame,
        "re_referred_children",
        key="rr_children",
        empty="No child was re-referred in this period.",
    )
    record_sources("referrals", frame, key="rr_children_sources")


def render() -> None:
    page_header(
        "Re-referrals",
        "Of the referrals in the period, how many came within 12 months of a previous "
        "referral of the same child (DfE definition)?",
    )
    ready = require("referrals")
    if ready is None:
        return
    state, view = ready
    for warning in data.call(metrics.coverage.history_warnings, view.period):
        st.warning(warning, icon=":material/warning:")
    choice = st.radio(
        "Look-back",
        list(LOOKBACKS),
        horizontal=True,
        key="rr_lookback",
        help="Not settled nationally: the DfE counts 12 calendar months; some authorities use 365 days.",
    )
    rate = Measure(metrics.re_referrals.re_referral_rate, {"lookback": LOOKBACKS[choice]})
    with section("Headline"):
        current = headline(rate, view)
    if not current.get("denominator"):
        nothing_matches("referrals", view)
        return
    with section("Trend"):
        trend(rate, view, key="rr_trend")
    st.subheader("Where: teams and workers")
    with section("Drill-down"):
        drilldown(rate, view, key="rr_drill")
    st.subheader("Who referred")
    with section("By referral source"):
        breakdown(rate, view, "referral_source", "referral source", key="rr_source", names=REFERRAL_SOURCES)
    st.subheader("Closed too early?")
    with section("After closure"):
        after_closure(view)
    with section("Closure to next referral"):
        closure_gap(view)
    st.subheader("Compared with whom")
    with section("Benchmarks"):
        benchmark_section("rr_bench")
    st.subheader("The children behind the number")
    with section("Re-referred children"):
        children(view, LOOKBACKS[choice])


render()
