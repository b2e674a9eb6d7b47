"""Downloads: every aggregate the dashboard shows, by month, team and worker, as CSV for analysts; child-level lists apart."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

import metrics.ethnicity
import metrics.re_referrals
import metrics.timeliness
from ui import access, data
from ui.components import about, may_see, page_header, publishable_frame, require, section, table
from ui.downloads import download_csv
from ui.filters import View
from ui.headlines import HEADLINES, Headline, Measure

BREAKDOWNS = {"Overall": None, "By month": "month", "By team": "team", "By worker": "worker"}
# (function, entity needed, takes a period); each list is named by its registry label
CHILD_LISTS: tuple[tuple[Callable[..., pd.DataFrame], str, bool], ...] = (
    (metrics.re_referrals.re_referred_children, "referrals", True),
    (metrics.timeliness.open_assessments_overdue, "assessments", False),
    (metrics.timeliness.recording_backlog, "recordings", False),
    (metrics.ethnicity.ethnicity_inconsistent_children, "referrals", False),
)


def aggregate_choices(state: data.StoreState) -> dict[str, Headline]:
    return {headline.label: headline for headline in HEADLINES if state.has(headline.entity)}


def aggregates(state: data.StoreState, view: View) -> None:
    choices = aggregate_choices(state)
    left, right = st.columns(2)
    measure = left.selectbox("Measure", list(choices), key="dl_measure")
    by_label = right.selectbox("Breakdown", list(BREAKDOWNS), key="dl_by")
    chosen = choices[measure]
    frame = chosen(view.period, view.filters, BREAKDOWNS[by_label])
    suppress = st.checkbox(
        "For sharing outside the service: small numbers shown as 'c' as the DfE publishes them "
        "(counts 1–4, a partner count so totals cannot reveal them, and their rates)",
        key="dl_suppress",
    )
    if suppress and not access.publishable_view():
        frame = publishable_frame(frame)  # (the publishable view makes every table publishable already)
    st.caption(
        f"{measure}, {by_label.lower()}, {view.label}, {view.scope}: {len(frame):,} rows. "
        "Rates are unrounded in the CSV (to ten significant figures); numerator and denominator beside them"
        + ("; suppressed cells are written 'c'." if suppress else ".")
    )
    name = f"{measure}_{by_label}_{view.period.start}_{view.period.end}" + ("_suppressed" if suppress else "")
    table(frame, name, key="dl_aggregate", rates=() if suppress else ("rate",), **about(chosen))


def child_lists(state: data.StoreState, view: View) -> None:
    with st.expander("🔒 Sensitive — child-level lists (personal data)"):
        st.caption(
            "Special-category personal data: download only if your role needs it, keep it on approved "
            "systems, and delete it when done."
        )
        available = {
            Measure(fn).label: (fn, entity, periodic) for fn, entity, periodic in CHILD_LISTS if state.has(entity)
        }
        if not available:
            st.info("No child-level list is available: the lists they come from are not loaded.")
            return
        label = st.selectbox("List", list(available), key="dl_child_list")
        function, _, periodic = available[label]
        kwargs = {"period": view.period} if periodic else {}
        frame = data.rows(function, filters=view.filters, **kwargs)
        st.caption(f"{len(frame):,} rows.")
        if st.toggle("Prepare the download", key="dl_child_toggle"):
            download_csv(frame, label, key="dl_child_csv", personal=True)


def render() -> None:
    page_header(
        "Downloads",
        "Take the numbers away: every measure overall, by month, team or worker, as CSV (UTF-8, opens in Excel).",
    )
    ready = require("referrals", "assessments", "contacts", "recordings")
    if ready is None:
        return
    state, view = ready
    st.subheader("Aggregates")
    with section("Aggregates"):
        aggregates(state, view)
    if not may_see(access.CHILD_LISTS):
        return  # child-level downloads are absent for roles that may not have them
    st.subheader("Child-level lists")
    with section("Child-level lists"):
        child_lists(state, view)


render()
