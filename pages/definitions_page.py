"""Definitions: every metric's wording, numerator, denominator, conventions and source, generated from the metric registry."""

from __future__ import annotations

import streamlit as st

import metrics.registry
from metrics.registry import DIRECTION_WORDS
from ui import data
from ui.components import page_header, section, table

FIELD_LABELS = {"label": "Shown as", "filters_apply": "Filters", "unknowns": "How unknowns count"}


def render() -> None:
    page_header(
        "Definitions",
        "What each number means: generated from the metric registry the code uses, "
        "so it cannot drift from the calculation.",
    )
    with section("Definitions"):
        frame = data.call_pure(metrics.registry.definitions_frame)
        for _, row in frame.iterrows():
            record = row.to_dict()
            with st.expander(f"**{record.get('title', record.get('code'))}** (`{record.get('code')}`)"):
                for field in (
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
                ):
                    if field in record and record[field] not in (None, "", []):
                        value = (
                            DIRECTION_WORDS.get(record[field], record[field])
                            if field == "good_direction"
                            else record[field]
                        )
                        st.markdown(f"**{FIELD_LABELS.get(field, field.replace('_', ' ').capitalize())}:** {value}")
        st.subheader("All definitions")
        table(frame, "metric_definitions", key="defs", rates=())


render()
