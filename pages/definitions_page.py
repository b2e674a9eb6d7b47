"""Definitions: every metric's wording, numerator, denominator, conventions and source, generated from the metric registry."""

from __future__ import annotations

from typing import Any

import streamlit as st

import metrics.registry
from metrics.registry import DIRECTION_WORDS
from ui import data
from ui.components import page_header, section, table

FIELD_LABELS = {"label": "Shown as", "filters_apply": "Filters", "unknowns": "How unknowns count"}


FIELDS = (
    "label",
    "wording",
    "numerator",
    "denominator",
    "unit",
    "good_direction",
    "convention",
    "filters_apply",
    "unknowns",
    "breakdowns",
    "source",
)


def described(record: dict[str, Any]) -> list[str]:
    """One definition's fields as "**Name:** value" lines, in the page's order, leaving out those without a value."""
    lines = []
    for field in FIELDS:
        value = record.get(field)
        if value in (None, "", []):
            continue
        shown = DIRECTION_WORDS.get(value, value) if field == "good_direction" else value
        lines.append(f"**{FIELD_LABELS.get(field, field.replace('_', ' ').capitalize())}:** {shown}")
    return lines


def render() -> None:
    page_header(
        "Definitions",
        "What each number means: generated from the metric registry the code uses, "
        "so it cannot drift from the calculation.",
    )
    with section("Definitions"):
        frame = data.call_pure(metrics.registry.definitions_frame)
        for record in frame.to_dict("records"):
            with st.expander(f"**{record.get('title', record.get('code'))}** (`{record.get('code')}`)"):
                st.markdown("\n\n".join(described(record)))  # one element per definition, a paragraph per field
        st.subheader("All definitions")
        table(frame, "metric_definitions", key="defs", rates=())


render()
