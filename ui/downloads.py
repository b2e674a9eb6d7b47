"""CSV downloads of exactly what a chart or table shows: UTF-8 with BOM for Excel, formula injection neutralised."""

from __future__ import annotations

import io
import re
from typing import Any

import pandas as pd
import streamlit as st

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
    "la_child_id": "LAchildID",
    "rule_code": "DfE rule",
    "message": "DfE message",
    "offending_values": "Values",
}


def human_label(column: str) -> str:
    """A readable heading for a snake_case column name ('working_days_open' -> 'Working days open')."""
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


def readable_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with human-readable column names and every text cell neutralised."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise)
    out.columns = [human_label(str(c)) for c in out.columns]
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame as CSV bytes: UTF-8 with a byte-order mark, readable headings, safe cells."""
    buffer = io.StringIO()
    readable_frame(frame).to_csv(buffer, index=False, lineterminator="\r\n")
    return (BOM + buffer.getvalue()).encode("utf-8")


def safe_name(name: str) -> str:
    """A file name made of letters, digits, '-' and '_' only."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or "data"


def download_csv(frame: pd.DataFrame, name: str, key: str, *, personal: bool = False, label: str | None = None) -> None:
    """A download button for exactly `frame`; personal-data downloads say so on the button."""
    text = label or "Download CSV"
    if personal:
        text = f"{text} — contains personal data"
    st.download_button(
        text,
        data=csv_bytes(frame),
        file_name=f"{safe_name(name)}.csv",
        mime="text/csv",
        key=key,
        on_click="ignore",
        icon=":material/lock:" if personal else ":material/download:",
        help="Child-level personal data: store and share it only as your role allows." if personal else None,
    )
