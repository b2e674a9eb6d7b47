"""Ethnicity: how completely ethnicity is recorded, where the gaps are, who is referred, and children recorded inconsistently."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

import metrics.ethnicity
import metrics.ethnicity_gaps
from metrics.params import ETHNICITY_READABLE_SHARE, MIN_DENOMINATOR
from ui import data
from ui.charts import completeness_bar, gaps_chart, makeup_chart
from ui.components import (
    chart,
    count_tile,
    headline,
    nothing_matches,
    page_header,
    require,
    section,
    sensitive_list,
    shown_counts,
    table,
    trend,
)
from ui.filters import View
from ui.formatting import count, pct

LIST_LIMIT = 5000  # children listed on screen; the count above is exact
LEVELS = {"Referrals": "referral", "Children": "child", "Contacts": "contact", "Assessments": "assessment"}
LEVEL_ENTITY = {"referral": "referrals", "child": "referrals", "contact": "contacts", "assessment": "assessments"}
PARTS = (
    ("refused", "Refused (REFU)"),
    ("not_obtained", "Not yet obtained (NOBT)"),
    ("missing", "Missing"),
    ("invalid", "Invalid code"),
)


def completeness_metric(level: str):
    def metric(period: Any, filters: Any, by: str | None) -> pd.DataFrame:
        return data.frame(metrics.ethnicity.ethnicity_completeness, period=period, filters=filters, by=by, level=level)

    return metric


def gaps(current: dict[str, Any]) -> None:
    """The records without a known code, split the way the DfE reports them."""
    columns = st.columns(len(PARTS))
    total = current.get("denominator") or 0
    known = {"known": current.get("numerator")} if "numerator" in current else {}
    shown = shown_counts({key: current.get(key) for key, _ in PARTS} | known)  # 'c' in the publishable view
    for column, (key, label) in zip(columns, PARTS):
        value = current.get(key)
        share = (float(value) / total * 100) if total and value is not None else float("nan")
        column.metric(label, shown[key], border=True)
        column.caption(f"{pct(share) if shown[key] != 'c' else 'c'} of {count(total)}")


def by_team(metric: Any, view: View, label: str) -> None:
    dimension = "worker" if view.filters.team else "team"
    frame = metric(view.period, view.filters, dimension)
    if frame.empty:
        nothing_matches("records", view)
        return
    worst = frame[frame["denominator"] >= MIN_DENOMINATOR].sort_values("rate").head(1)
    title = f"{label} by {dimension}"
    if not worst.empty:
        title += (
            f": lowest {worst.iloc[0][dimension]} ({pct(worst.iloc[0]['rate'])}, "
            f"{count(worst.iloc[0]['numerator'])} of {count(worst.iloc[0]['denominator'])})"
        )
    elif len(frame):
        title += f": none has {MIN_DENOMINATOR} or more records, so none is ranked"
    chart(completeness_bar(frame, dimension, title), frame, f"ethnicity_completeness_by_{dimension}", key="eth_team")


def makeup(view: View) -> None:
    frame = data.frame(metrics.ethnicity.ethnic_makeup, period=view.period, filters=view.filters)
    if frame.empty:
        nothing_matches("referred children", view)
        return
    frame["gap"] = frame["share"] - frame["population_share"]
    over = frame.dropna(subset=["gap"]).sort_values("gap")
    if over.empty:
        title = "Ethnic make-up of referred children (no population figures to compare)"
    else:
        top = over.iloc[-1]
        title = (
            f"Ethnic make-up of referred children: {top['ethnicity_group']} most over-represented "
            f"({pct(top['share'])} of referrals, {pct(top['population_share'])} of children)"
        )
    frame = frame.drop(columns="gap")
    chart(makeup_chart(frame, title), frame, "ethnic_makeup", key="eth_makeup")


def representation(view: View) -> None:
    """Each known group's share of referred children (with its interval) against the population, in words."""
    frame = data.frame(metrics.ethnicity_gaps.ethnicity_representation, period=view.period, filters=view.filters)
    if frame.empty:
        return
    if (frame["verdict"] == "no population figures").all():
        st.caption(
            "Representation is not read: the council has not supplied the child population by ethnic group "
            "(data/reference/local_child_population_by_ethnicity.csv: la_code, ethnicity_group, children)."
        )
    columns = [
        "ethnicity_group",
        "referred_children",
        "share_known",
        "share_lower",
        "share_upper",
        "population_share",
        "verdict",
    ]
    table(
        frame[columns],
        "ethnicity_representation",
        key="eth_representation",
        rates=("share_known", "share_lower", "share_upper", "population_share"),
    )


def service_gaps(view: View) -> None:
    """Re-referrals, assessment timeliness and child seen for each group against the rest, with 95% intervals."""
    frame = data.frame(metrics.ethnicity_gaps.ethnicity_gaps, period=view.period, filters=view.filters)
    if frame.empty:
        nothing_matches("referrals or assessments with a known ethnicity", view)
        return
    known, readable = float(frame["known_share"].iloc[0]), bool(frame["readable"].iloc[0])
    if not readable:
        st.warning(
            f"**Ethnicity is too incomplete for a gap to be read:** only {pct(known)} of referrals in "
            f"{view.label} have a known ethnicity (the threshold is {pct(ETHNICITY_READABLE_SHARE)}). The rates "
            "below are shown, but a difference between groups may be no more than who was recorded.",
            icon=":material/warning:",
        )
    found = frame[frame["verdict"].isin(["higher than the rest", "lower than the rest"])]
    if not readable:
        title = "Gaps in service by ethnic group: not read (ethnicity too incomplete)"
    elif found.empty:
        title = "Gaps in service by ethnic group: no group differs clearly from the rest"
    else:
        parts = [
            f"{r['ethnicity_group']} {r['verdict'].replace(' than the rest', '')} on {r['label'].lower()}"
            for _, r in found.iterrows()
        ]
        title = "Gaps in service by ethnic group: " + "; ".join(parts)
    chart(gaps_chart(frame, title), frame, "ethnicity_gaps", key="eth_gaps")
    st.caption(
        f"Each group against all other known groups, with 95% Wilson intervals; a gap is named only when the "
        f"interval of the difference (Newcombe) excludes zero. Groups with fewer than {MIN_DENOMINATOR} records "
        "are too few to compare (grey). Records with no known ethnicity are left out."
    )


def render() -> None:
    page_header("Ethnicity", "Is ethnicity recorded for every child, and where are the gaps?")
    ready = require("referrals", "contacts", "assessments")
    if ready is None:
        return
    state, view = ready
    level = LEVELS[st.radio("Count", list(LEVELS), horizontal=True, key="eth_level")]
    if not state.has(LEVEL_ENTITY[level]):
        nothing_matches(f"{LEVEL_ENTITY[level]} loaded", view)
        return
    metric = completeness_metric(level)
    label = f"{[k for k, v in LEVELS.items() if v == level][0]} with a known ethnicity"
    with section("Headline"):
        current = headline(metric, view, label, "up", code="ethnicity_completeness")
        if level == "contact" and (view.filters.team or view.filters.worker):
            st.caption(
                "⚠ Authority-wide (team not recorded on contacts): the team and worker filters do not "
                "change the contact figures."
            )
    if not current.get("denominator"):
        nothing_matches("records", view)
        return
    with section("Gaps"):
        gaps(current)
    with section("Trend"):
        trend(metric, view, label, "up", key="eth_trend", code="ethnicity_completeness")
    with section("By team"):
        by_team(metric, view, label)
    st.subheader("Who is referred, against the child population")
    with section("Ethnic make-up"):
        makeup(view)
    with section("Representation"):
        representation(view)
    st.subheader("Gaps in service: does each group get the same service as everyone else?")
    with section("Gaps in service"):
        service_gaps(view)
    st.subheader("Children recorded with different ethnicities")
    with section("Inconsistent records"):
        total = data.call(metrics.ethnicity.count_ethnicity_inconsistent_children, filters=view.filters)
        count_tile("Children with more than one ethnicity recorded", total, border=True)
        if total > LIST_LIMIT:
            st.caption(
                f"The list shows the first {count(LIST_LIMIT)} children by id; "
                "the Data quality page's CSV has every failing record."
            )
        sensitive_list(
            "children whose ethnicity differs between records",
            lambda: data.rows(
                metrics.ethnicity.ethnicity_inconsistent_children, filters=view.filters, limit=LIST_LIMIT
            ),
            "ethnicity_inconsistent_children",
            key="eth_inconsistent",
            empty="No child has conflicting ethnicity records.",
            rows_known=min(total, LIST_LIMIT),  # the list is fetched when opened
        )


render()
