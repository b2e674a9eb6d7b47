"""Case-recording extracts (CSV): one file per quarter, each reaching two weeks into the previous quarter.

Columns (the project's extract, see docs/CASE_RECORDING_EXTRACT.md): Record ID, Child Unique ID,
Record Type, Event Date, Entered At (blank = not yet written up), Worker, Team, Child Views
Recorded (optional). Styles vary the headings, date formats, encodings and line endings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from synthetic.recordings import RECORD_TYPE_LABELS

STANDARD_HEADINGS = {
    "record_id": "Record ID",
    "child_id": "Child Unique ID",
    "record_type": "Record Type",
    "event_date": "Event Date",
    "entered_at": "Entered At",
    "worker": "Worker",
    "team": "Team",
    "child_views_recorded": "Child Views Recorded",
}
VARIANT_HEADINGS = {
    "record_id": "RECORD_ID",
    "child_id": "child unique id ",
    "record_type": "Record type",
    "event_date": "event_date",
    "entered_at": "Entered at",
    "worker": "worker",
    "team": "TEAM",
    "child_views_recorded": "Child views recorded",
}
OVERLAP = pd.Timedelta(days=14)


@dataclass(frozen=True)
class RecordingStyle:
    """How one recording extract is written."""

    name: str
    headings: str = "standard"  # 'standard' | 'variant'
    dates: str = "iso"  # 'iso' (YYYY-MM-DD, YYYY-MM-DD HH:MM:SS) | 'uk' (DD/MM/YYYY, DD/MM/YYYY HH:MM)
    record_types: str = "labels"  # 'labels' (Case Note) | 'keys' (case_note)
    views_column: bool = True
    ids_as_floats: bool = False
    bom: bool = False
    crlf: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


STYLES: tuple[RecordingStyle, ...] = (
    RecordingStyle("standard"),
    RecordingStyle("uk_dates_excel", dates="uk", bom=True, crlf=True),
    RecordingStyle("heading_variants", headings="variant", record_types="keys"),
    RecordingStyle("no_views_float_ids", views_column=False, ids_as_floats=True),
)


def quarters(span_start: pd.Timestamp, end: pd.Timestamp) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """(window start, extract date) of each quarterly file: the quarter plus two weeks before it."""
    out = []
    q = pd.Period(span_start, freq="Q")
    while q.start_time <= end:
        stop = min(q.end_time.normalize(), end)
        out.append((max(q.start_time - OVERLAP, span_start - OVERLAP), stop))
        q += 1
    return out


def file_name(as_of: pd.Timestamp) -> str:
    q = pd.Period(as_of, freq="Q")
    return f"case_recordings_{q.year}-Q{q.quarter}.csv"


def render(frame: pd.DataFrame, style: RecordingStyle) -> pd.DataFrame:
    """The rows as text, in this style."""
    out = pd.DataFrame(index=frame.index)
    ids = frame["child_id"]
    if style.ids_as_floats:
        numeric = ids.fillna("").str.fullmatch(r"[1-9][0-9]*")
        ids = ids.where(~numeric, ids + ".0")
    out["record_id"] = frame["record_id"]
    out["child_id"] = ids.fillna("")
    out["record_type"] = (
        frame["record_type"] if style.record_types == "keys" else frame["record_type"].map(RECORD_TYPE_LABELS)
    )
    day, stamp = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S") if style.dates == "iso" else ("%d/%m/%Y", "%d/%m/%Y %H:%M")
    out["event_date"] = _format(frame["event_date"], day)
    out["entered_at"] = _format(frame["entered_at"], stamp)
    out["worker"] = frame["worker"]
    out["team"] = frame["team"]
    if style.views_column:
        views = frame["child_views_recorded"].astype(object)
        out["child_views_recorded"] = views.map({True: "Yes", False: "No"}).fillna("")
    headings = STANDARD_HEADINGS if style.headings == "standard" else VARIANT_HEADINGS
    return out.rename(columns=headings)


def _format(values: pd.Series, fmt: str) -> pd.Series:
    text = values.map(lambda v: isinstance(v, str))
    stamps = pd.to_datetime(values.where(~text), errors="coerce")
    return stamps.dt.strftime(fmt).where(stamps.notna(), values.where(text, "")).fillna("")


def write(path: Path, frame: pd.DataFrame, style: RecordingStyle) -> None:
    text = frame.to_csv(index=False, lineterminator="\r\n" if style.crlf else "\n")
    path.write_bytes(("\ufeff" if style.bom else "").encode("utf-8") + text.encode("utf-8"))
