"""CSV downloads of exactly what a chart or table shows: UTF-8 with BOM for Excel, formula injection neutralised."""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from metrics.privacy import COUNT_COLUMNS
from store.codes import CLOSURE_REASONS, REFERRAL_SOURCES

BOM = "\ufeff"
# A cell a spreadsheet would read as a formula: starts with = + - @, or a tab / carriage return.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?$")

# Column names as a reader sees them; anything not listed is turned from snake_case into words.
COLUMN_LABELS: dict[str, str] = {
    "child_id": "Child ID",
    "numerator": "Numerator",
    "denominator": "Denominator",
    "rate": "Rate (%)",
    "month": "Month",
    "team": "Team",
    "worker": "Worker",
    "referral_source": "Referral source",
    "contact_source": "Contact source",
    "closure_reason": "Closure reason",
    "record_type": "Record type",
    "ethnicity_group": "Ethnicity group",
    "age_band": "Age band",
    "source_file": "Source file",
    "row_number": "Row number",
    "problem": "What is wrong",
    "lcl": "Lower control limit",
    "ucl": "Upper control limit",
    "centre": "Centre line",
    "signal": "SPC signal",
    "wd": "working days",
    "measure": "Measure",
    "period": "Period",
    "la_child_id": "LAchildID",
    "rule_code": "DfE rule",
    "message": "DfE message",
    "offending_values": "Values",
}
# Code columns and the names a reader needs beside them (a `<column>_name` column follows the code).
CODE_NAMES: dict[str, dict[str, str]] = {
    "referral_source": REFERRAL_SOURCES,
    "contact_source": REFERRAL_SOURCES,
    "closure_reason": {**CLOSURE_REASONS, "NFA": "Referral closed with no further action"},
    "previous_closure_reason": {**CLOSURE_REASONS, "NFA": "Referral closed with no further action"},
}
SUPPRESSED = "c"  # DfE's mark for a suppressed cell
FLOAT_FORMAT = "%.10g"  # ten significant figures: 23.169999999999998 is written 23.17


def human_label(column: str, headings: dict[str, str] | None = None) -> str:
    """A readable heading for a snake_case column name ('working_days_open' -> 'Working days open').

    `headings` are a measure's own, from its registry entry ('numerator' -> 'Re-referrals (numerator)').
    """
    if headings and column in headings:
        return headings[column]
    if column in COLUMN_LABELS:
        return COLUMN_LABELS[column]
    words = [COLUMN_LABELS.get(w, w) for w in str(column).split("_")]
    text = " ".join(words).strip()
    return text[:1].upper() + text[1:]


def neutralise(value: Any) -> Any:
    """Prefix ' to a text cell a spreadsheet would run as a formula; numbers and plain text pass through."""
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return value
    if value[0] in "+-" and _NUMBER.match(value):
        return value  # a signed number such as '-1.5' is data, not a formula
    return "'" + value


def readable_frame(frame: pd.DataFrame, headings: dict[str, str] | None = None) -> pd.DataFrame:
    """The frame with human-readable column names (a measure's `headings` first) and every text cell neutralised."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise)
    out.columns = [human_label(str(c), headings) for c in out.columns]
    return out


def tidy_frame(
    frame: pd.DataFrame,
    *,
    measure: str | None = None,
    period: str | None = None,
) -> pd.DataFrame:
    """What an analyst needs in a CSV: measure and period columns, names beside codes, counts as integers.

    A publishable frame (metrics.privacy, the one place small numbers are withheld) keeps its `c` cells as they are.
    """
    out = frame.copy()
    for column, names in CODE_NAMES.items():
        if column in out.columns and f"{column}_name" not in out.columns:
            position = list(out.columns).index(column) + 1
            out.insert(
                position, f"{column}_name", out[column].map(lambda v, n=names: n.get(str(v)) if pd.notna(v) else None)
            )
    for column in (c for c in COUNT_COLUMNS if c in out.columns):
        if out[column].map(lambda v: isinstance(v, str)).any():
            continue  # already publishable text ('c' beside whole numbers): kept as it is
        values = pd.to_numeric(out[column], errors="coerce")
        if values.dropna().eq(values.dropna().round()).all():
            out[column] = values.round().astype("Int64")
    if period is not None:
        out.insert(0, "period", period)
    if measure is not None:
        out.insert(0, "measure", measure)
    return out


def csv_bytes(frame: pd.DataFrame, headings: dict[str, str] | None = None) -> bytes:
    """The frame as CSV bytes: UTF-8 with a byte-order mark, readable headings, safe cells, no float noise."""
    buffer = io.StringIO()
    readable_frame(frame, headings).to_csv(buffer, index=False, lineterminator="\r\n", float_format=FLOAT_FORMAT)
    return (BOM + buffer.getvalue()).encode("utf-8")


def safe_name(name: str) -> str:
    """A file name made of letters, digits, '-' and '_' only."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or "data"


def download_csv(
    frame: pd.DataFrame | Callable[[], pd.DataFrame],
    name: str,
    key: str,
    *,
    personal: bool = False,
    label: str | None = None,
    measure: str | None = None,
    period: str | None = None,
    headings: dict[str, str] | None = None,
) -> None:
    """A download button for exactly `frame`; personal-data downloads say so on the button (and are audited).

    Aggregates carry the measure and period (when given), the measure's own `headings` and names beside codes;
    a publishable frame keeps its `c`. The CSV is made when the button is clicked, not on every run of the page
    (`frame` may be a function making the frame, so that is deferred too); a personal-data download is a frame,
    and its audit entry is written when its bytes are made. No download reruns the page: a rerun begun by a click
    (an `on_click` callback) raced the browser's request for the deferred bytes, and the download was sometimes lost.
    """
    rows = len(frame) if isinstance(frame, pd.DataFrame) else None
    if personal and rows is None:
        raise TypeError(f"{name}: a personal-data download is a frame, so its audit record can count the rows")
    text, audited = label or "Download CSV", None
    if personal:
        from ui.access import recorder

        text = f"{text} — contains personal data"
        audited = recorder("download_rows", what=name, rows=rows, filters=audit_filters())
    st.download_button(
        text,
        data=functools.partial(_deferred_csv, frame, measure, period, headings, audited),
        file_name=f"{safe_name(name)}.csv",
        mime="text/csv",
        key=key,
        on_click="ignore",
        icon=":material/lock:" if personal else ":material/download:",
        help="Child-level personal data: store and share it only as your role allows." if personal else None,
    )


def _deferred_csv(
    frame: pd.DataFrame | Callable[[], pd.DataFrame],
    measure: str | None,
    period: str | None,
    headings: dict[str, str] | None,
    audited: Callable[[], None] | None = None,
) -> bytes:
    """The bytes of a download, made when it is clicked (outside the page's run: no Streamlit calls here); a
    personal-data download's audit entry is appended once they are made, before they leave."""
    data = csv_bytes(
        tidy_frame(frame if isinstance(frame, pd.DataFrame) else frame(), measure=measure, period=period), headings
    )
    if audited is not None:
        audited()
    return data


def audit_filters() -> dict[str, Any]:
    """The global filters of this run, for the audit trail (period, team, worker: never child values)."""
    from ui.components import current_view

    view = current_view()
    if view is None:
        return {}
    return {
        "from": view.period.start.isoformat(),
        "to": view.period.end.isoformat(),
        "team": view.filters.team,
        "worker": view.filters.worker,
    }
