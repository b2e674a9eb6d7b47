"""Beside a child-level list: which file supplied each field of the listed records (the field-level merge's provenance)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import metrics.provenance
from store.schema import ENTITIES
from ui import data
from ui.components import audit_view, may_see, table

MAX_CHILDREN = 500  # the sources of at most this many listed children are looked up


def _listed_only(sources: pd.DataFrame, listed: pd.DataFrame, entity: str) -> pd.DataFrame:
    """The sources of the listed records alone (matched on the natural key columns the list carries)."""
    keys = [k for k in ENTITIES[entity].natural_key if k in listed.columns and k in sources.columns]
    if not keys or sources.empty:
        return sources
    wanted = listed[keys].drop_duplicates().copy()
    for k in keys:
        if k != "child_id":
            wanted[k] = pd.to_datetime(wanted[k], errors="coerce")
            sources = sources.assign(**{k: pd.to_datetime(sources[k], errors="coerce")})
    wanted["child_id"] = wanted["child_id"].astype(str)
    return sources.merge(wanted, on=keys, how="inner")


def _as_dates(frame: pd.DataFrame) -> pd.DataFrame:
    """Date columns shown as dates, not midnight timestamps."""
    dated = [c for c in frame.columns if c.endswith("_date") or c == "as_of"]
    return frame.assign(**{c: pd.to_datetime(frame[c], errors="coerce").dt.date for c in dated})


def record_sources(entity: str, listed: pd.DataFrame, key: str) -> None:
    """An expander listing, for each listed record, the file, format and as-of date that supplied each of its fields."""
    if listed.empty or "child_id" not in listed.columns or not may_see():
        return  # child-level: absent for roles that may not see child lists
    with st.expander("🔒 Sensitive — where each value of these records came from (file per field)"):
        st.caption(
            "A record seen in several extracts takes each field from the newest file that carries it: "
            "the CIN census has no child seen, team or worker; Annex A no assessment factors."
        )
        if not st.toggle("Show the source files", key=f"{key}_show", value=False):
            return
        children = tuple(sorted({str(c) for c in listed["child_id"].dropna()}))[:MAX_CHILDREN]
        sources = data.rows(metrics.provenance.record_sources, entity=entity, child_ids=children)
        shown = _as_dates(_listed_only(sources, listed, entity))
        audit_view(f"{entity}_sources", key, len(shown))  # a child-level view: one audit entry per opening
        table(shown, f"{entity}_sources", key, personal=True, rates=())
