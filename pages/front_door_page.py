"""Front door: contacts, how many become referrals, repeat contacts and where contacts come from."""

from __future__ import annotations

from typing import Any

import streamlit as st

import metrics.front_door
from metrics.registry import scope_note
from store.codes import REFERRAL_SOURCES
from ui import data
from ui.charts import count_bar
from ui.components import breakdown, chart, headline, nothing_matches, page_header, require, section, trend
from ui.filters import View
from ui.formatting import count, decimal
from ui.headlines import Measure


def change_text(now: Any, before: Any, whole: bool) -> str | None:
    """'+12 vs previous period' (None when there was nothing before)."""
    if not before or now is None:
        return None
    diff = float(now) - float(before)
    return (f"{int(diff):+,}" if whole else f"{diff:+.1f}") + " vs previous period"


def volumes(view: View) -> bool:
    """Contacts, children and contacts per child, against the previous period; False when there are none."""
    volume = Measure(metrics.front_door.contacts_per_child)
    now, before = volume(view.period, view.filters), volume(view.previous, view.filters)
    row = now.iloc[0].to_dict() if not now.empty else {}
    prev = before.iloc[0].to_dict() if not before.empty else {}
    if not row.get("contacts"):
        nothing_matches("contacts", view)
        return False
    columns = st.columns(3)
    for column, key, label, fmt in (
        (columns[0], "contacts", "Contacts", count),
        (columns[1], "children", "Children contacted", count),
        (columns[2], "contacts_per_child", volume.label, decimal),
    ):
        delta = change_text(row.get(key), prev.get(key), whole=fmt is count)
        column.metric(label, fmt(row.get(key)), delta=delta, delta_color="off", border=True)
    return True


def source_mix(view: View) -> None:
    frame = data.frame(
        metrics.front_door.contacts_per_child, period=view.period, filters=view.filters, by="contact_source"
    )
    if frame.empty:
        nothing_matches("contacts", view)
        return
    frame = frame.sort_values("contacts", ascending=False)
    total = frame["contacts"].sum()
    frame["share"] = frame["contacts"] / total * 100 if total else float("nan")
    top = frame.iloc[0]
    name = REFERRAL_SOURCES.get(str(top["contact_source"]), str(top["contact_source"]))
    title = f"Where contacts come from: {name} the largest source ({decimal(top['share'])}% of contacts)"
    chart(
        count_bar(frame, "contact_source", "contacts", title, share="share", labels=REFERRAL_SOURCES),
        frame,
        "contact_source_mix",
        key="fd_mix",
        labels={"contact_source": REFERRAL_SOURCES},
    )


def render() -> None:
    page_header(
        "Front door",
        "How many contacts come in, from whom, how many become referrals, and how many children keep coming back?",
    )
    ready = require("contacts")
    if ready is None:
        return
    _, view = ready
    conversion = Measure(metrics.front_door.contact_conversion, {"within_days": 30})
    repeat = Measure(metrics.front_door.repeat_contacts)
    note = scope_note(conversion.code, view.filters)
    if note:
        st.warning(
            f"**Figures on this page are {note}.** Contacts carry no team or worker, so the team and worker "
            "filters do not apply here. (A contact could borrow the team of a referral of the same child within "
            "30 days, but contacts that never become referrals would still have none, so this page does not "
            "guess.)",
            icon=":material/filter_alt_off:",
        )
    with section("Volumes"):
        if not volumes(view):
            return
    left, right = st.columns(2)
    with left, section("Conversion"):
        headline(conversion, view)
    with right, section("Repeat contacts"):
        headline(repeat, view)
    with section("Conversion trend"):
        trend(conversion, view, key="fd_conv_trend")
    with section("Conversion by source"):
        breakdown(
            conversion,
            view,
            "contact_source",
            "contact source",
            key="fd_conv_source",
            names=REFERRAL_SOURCES,
        )
    with section("Repeat trend"):
        trend(repeat, view, key="fd_repeat_trend")
    st.subheader("Contact sources")
    with section("Source mix"):
        source_mix(view)


render()
