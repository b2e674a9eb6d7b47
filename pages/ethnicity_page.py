"""Ethnicity: how completely ethnicity is recorded, where the gaps are, who is referred, and children recorded inconsistently."""

from __future__ import annotations

from typing import Any

import streamlit as st

import metrics.ethnicity
import metrics.ethnicity_gaps
from metrics.params import ETHNICITY_READABLE_SHARE, MIN_DENOMINATOR
from metrics.registry import LABEL_WORDS
from ui import data
from ui.charts import completeness_bar, gaps_chart, makeup_chart
from ui.components import (
    about,
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
from ui.headlines import Measure

LIST_LIMIT = 5000  # children listed on screen; the count above is exact
LEVELS = {word: level for level, word in LABEL_WORDS["level"].items()}  # the choice as a label names it
LEVEL_ENTITY = {"referral": "referrals", "child": "referrals", "contact": "contacts", "assessment": "assessments"}
PARTS = (
    ("refused", "Refused (REFU)"),
    ("not_obtained", "Not yet obtained (NOBT)"),
    ("missing", "Missing"),
    ("invalid", "Invalid code"),
)


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


def by_team(measure: Measure, view: View) -> None:
    dimension = "worker" if view.filters.team else "team"
    frame = measure(view.period, view.filters, dimension)
    if frame.empty:
        nothing_matches("records", view)
        return
    worst = frame[frame["denominator"] >= MIN_DENOMINATOR].sort_values("rate").head(1)
    title = f"{measure.label} by {dimension}"
    if not worst.empty:
        title += (
            f": lowest {worst.iloc[0][dimension]} ({pct(worst.iloc[0]['rate'])}, "
            f"{count(worst.iloc[0]['numerator'])} of {count(worst.iloc[0]['denominator'])})"
        )
    elif len(frame):
        title += f": none has {MIN_DENOMINATOR} or more records, so none is ranked"
    chart(
        completeness_bar(frame, dimension, title),
        frame,
        f"ethnicity_completeness_by_{dimension}",
        key="eth_team",
        **about(measure),
    )


def makeup(view: View) -> None:
    frame = data.frame(metrics.ethnicity.ethnic_makeup, period=view.period, filters=view.filters)
    label = Measure(metrics.ethnicity.ethnic_makeup).label
    if frame.empty:
        nothing_matches("referred children", view)
        return
    frame["gap"] = frame["share"] - frame["population_share"]
    over = frame.dropna(subset=["gap"]).sort_values("gap")
    if over.empty:
        title = f"{label} (no population figures to compare)"
    else:
        top = over.iloc[-1]
        title = (
            f"{label}: {top['ethnicity_group']} most over-represented "
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
    label = Measure(metrics.ethnicity_gaps.ethnicity_gaps).label
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
        title = f"{label}: not read (ethnicity too incomplete)"
    elif found.empty:
        title = f"{label}: no group differs clearly from the rest"
    else:
        parts = [
            f"{r['ethnicity_group']} {r['verdict'].replace(' than the rest', '')} on {r['label'].lower()}"
            for _, r in found.iterrows()
        ]
        title = f"{label}: " + "; ".join(parts)
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
    completeness = Measure(metrics.ethnicity.ethnicity_completeness, {"level": level})
    with section("Headline"):
        current = headline(completeness, view)
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
        trend(completeness, view, key="eth_trend")
    with section("By team"):
        by_team(completeness, view)
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
        count_tile(Measure(metrics.ethnicity.count_ethnicity_inconsistent_children).label, total, border=True)
        if total > LIST_LIMIT:
            st.caption(
                f"The list shows the first {count(LIST_LIMIT)} children by id; "
                "the Data quality page's CSV has every failing record."
            )
        sensitive_list(
            Measure(metrics.ethnicity.ethnicity_inconsistent_children).label.lower(),
            lambda: data.rows(
                metrics.ethnicity.ethnicity_inconsistent_children, filters=view.filters, limit=LIST_LIMIT
            ),
            "ethnicity_inconsistent_children",
            key="eth_inconsistent",
            empty="No child has conflicting ethnicity records.",
            rows_known=min(total, LIST_LIMIT),  # the list is fetched when opened
        )


render()
