"""File-level faults: changes to the rows of one list or file before it is written, each logged with its count."""

from __future__ import annotations

import numpy as np
import pandas as pd

from store.codes import ETHNICITY_KNOWN
from synthetic.faults import Fault

UNPARSEABLE_DATES = ("TBC", "31/02/2024", "unknown", "00/00/0000", "2023-13-45")
UNMAPPABLE = {
    "contact_source": ("Carrier pigeon", "Z9", "Neighbour's dog"),
    "referral_source": ("Z9", "Self-ish", "Other agency (see notes)"),
    "primary_need": ("N12", "Need not listed", "NX"),
}


def _rows(rng: np.random.Generator, frame: pd.DataFrame, k: int, mask: pd.Series | None = None) -> np.ndarray:
    pool = np.flatnonzero(mask.to_numpy()) if mask is not None else np.arange(len(frame))
    return np.sort(rng.choice(pool, size=min(k, len(pool)), replace=False))


def _log(
    book: dict[str, Fault], kind: str, dfe: str | None, description: str, unit: str, file: str, n: int, keys: list[dict]
) -> None:
    fault = book.setdefault(kind, Fault(kind, dfe, description, unit, "file"))
    if n:
        fault.files[file] = fault.files.get(file, 0) + n
        fault.keys.extend({"file": file, **k} for k in keys)


def _key_dicts(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
    out = frame[columns].astype(object).where(frame[columns].notna(), None)
    for c in columns:
        out[c] = [v.strftime("%Y-%m-%d") if isinstance(v, pd.Timestamp) else v for v in out[c]]
    return out.to_dict("records")


def duplicate_rows(
    frame: pd.DataFrame, k: int, rng: np.random.Generator, book: dict, file: str, key: list[str]
) -> pd.DataFrame:
    """Repeat k rows exactly, each just after itself (a natural key appearing twice)."""
    rows = _rows(rng, frame, k, frame["child_id"].notna())
    _log(
        book,
        "duplicate_rows",
        None,
        "a row repeated in the same file (same natural key)",
        "row",
        file,
        len(rows),
        _key_dicts(frame.iloc[rows], key),
    )
    order = np.sort(np.concatenate([np.arange(len(frame)), rows]), kind="stable")
    out = frame.iloc[order].reset_index(drop=True)
    out["_duplicate"] = np.r_[False, order[1:] == order[:-1]]  # rendered exactly as the row above it
    return out


def same_day_referrals(
    frame: pd.DataFrame, k: int, rng: np.random.Generator, book: dict, file: str, source_column: str = "referral_source"
) -> pd.DataFrame:
    """A second referral row for the same child on the same day with another source (one referral, DfE 8820)."""
    rows = _rows(rng, frame, k, frame["child_id"].notna())
    extra = frame.iloc[rows].copy()
    extra[source_column] = np.where(extra[source_column] == "6", "2A", "6")
    _log(
        book,
        "same_day_duplicate_referral",
        "8820",
        "two referral rows of one child on one day (one referral, not a re-referral)",
        "row",
        file,
        len(rows),
        _key_dicts(extra, ["child_id", "referral_date"]),
    )
    out = pd.concat([frame, extra])
    return out.iloc[np.argsort(np.concatenate([np.arange(len(frame)), rows]), kind="stable")].reset_index(drop=True)


def missing_child_id(
    frame: pd.DataFrame, k: int, rng: np.random.Generator, book: dict, file: str, date_column: str
) -> pd.DataFrame:
    """Blank the child id of k rows: the loader must keep them as rejects."""
    rows = _rows(rng, frame, k, frame["child_id"].notna())
    frame = frame.copy()
    _log(
        book,
        "missing_child_id",
        None,
        "row without a child id (must end in rejects)",
        "row",
        file,
        len(rows),
        _key_dicts(frame.iloc[rows], [date_column]),
    )
    frame.loc[frame.index[rows], "child_id"] = None
    return frame


def unparseable_date(
    frame: pd.DataFrame, column: str, k: int, rng: np.random.Generator, book: dict, file: str
) -> pd.DataFrame:
    """Replace a key date of k rows with text that is not a date (must end in rejects)."""
    rows = _rows(rng, frame, k, frame["child_id"].notna() & frame[column].notna())
    frame = frame.copy()
    frame[column] = frame[column].astype(object)
    values = np.array(UNPARSEABLE_DATES, dtype=object)[np.arange(len(rows)) % len(UNPARSEABLE_DATES)]
    _log(
        book,
        "unparseable_key_date",
        None,
        "a key date that is not a date (must end in rejects)",
        "row",
        file,
        len(rows),
        [{"child_id": c, "column": column, "value": v} for c, v in zip(frame["child_id"].iloc[rows], values)],
    )
    frame.loc[frame.index[rows], column] = values
    return frame


def unmappable_code(
    frame: pd.DataFrame, column: str, k: int, rng: np.random.Generator, book: dict, file: str
) -> pd.DataFrame:
    """Replace a coded value of k rows with one no code list knows."""
    rows = _rows(rng, frame, k, frame["child_id"].notna() & frame[column].notna())
    frame = frame.copy()
    values = np.array(UNMAPPABLE[column], dtype=object)[np.arange(len(rows)) % len(UNMAPPABLE[column])]
    _log(
        book,
        "unmappable_code",
        None,
        "a coded value that no code list maps",
        "row",
        file,
        len(rows),
        [{"child_id": c, "column": column, "value": v} for c, v in zip(frame["child_id"].iloc[rows], values)],
    )
    frame.loc[frame.index[rows], column] = values
    return frame


def future_date(
    frame: pd.DataFrame, column: str, k: int, as_of: pd.Timestamp, rng: np.random.Generator, book: dict, file: str
) -> pd.DataFrame:
    """Move an event date of k rows ten years on (2025 typed as 2035): after the extract date, and after today."""
    rows = _rows(rng, frame, k, frame["child_id"].notna() & frame[column].notna())
    frame = frame.copy()
    moved = frame[column].iloc[rows] + pd.DateOffset(years=10)
    frame.loc[frame.index[rows], column] = moved.to_numpy()
    assert (moved > as_of).all()
    _log(
        book,
        "date_after_extract",
        None,
        "an event date after the extract date",
        "row",
        file,
        len(rows),
        [{**k, "column": column} for k in _key_dicts(frame.iloc[rows], ["child_id", column])],
    )
    return frame


def ancient_date(
    frame: pd.DataFrame, column: str, k: int, rng: np.random.Generator, book: dict, file: str
) -> pd.DataFrame:
    """Set a date of k rows to a year before 1990 (a default or mistyped century)."""
    rows = _rows(rng, frame, k, frame["child_id"].notna() & frame[column].notna())
    frame = frame.copy()
    old = (
        frame[column]
        .iloc[rows]
        .map(lambda d: d.replace(year=1900 + d.year % 100) if d.year % 100 < 90 else d.replace(year=1905))
    )
    frame.loc[frame.index[rows], column] = old.to_numpy()
    _log(
        book,
        "date_before_1990",
        None,
        "a date before 1990",
        "row",
        file,
        len(rows),
        [{**k, "column": column} for k in _key_dicts(frame.iloc[rows], ["child_id", column])],
    )
    return frame


def ethnicity_differs(frame: pd.DataFrame, k: int, rng: np.random.Generator, book: dict, file: str) -> pd.DataFrame:
    """Give k children another (valid) ethnicity on their rows of this list than on every other record."""
    known = frame["ethnicity"].isin(ETHNICITY_KNOWN) & frame["child_id"].notna()
    children = frame.loc[known, "child_id"].drop_duplicates()
    chosen = children.iloc[_rows(rng, children.to_frame(), k)]
    frame = frame.copy()
    mask = frame["child_id"].isin(chosen)
    frame.loc[mask, "ethnicity"] = np.where(frame.loc[mask, "ethnicity"] == "WBRI", "WOTH", "WBRI")
    _log(
        book,
        "ethnicity_differs_between_records",
        None,
        "a child's ethnicity on this file differs from every other record",
        "child",
        file,
        len(chosen),
        _key_dicts(frame.loc[mask].drop_duplicates("child_id"), ["child_id", "ethnicity"]),
    )
    return frame


def wrong_referral_count(frame: pd.DataFrame, k: int, rng: np.random.Generator, book: dict, file: str) -> pd.DataFrame:
    """Make 'Number of Referrals in Last 12 Months' disagree with the referrals for k children (all their rows)."""
    children = frame.loc[frame["child_id"].notna(), "child_id"].drop_duplicates()
    chosen = children.iloc[_rows(rng, children.to_frame(), k)]
    frame = frame.copy()
    mask = frame["child_id"].isin(chosen)
    right = frame.loc[mask, "referrals_last_12m"]
    frame.loc[mask, "referrals_last_12m"] = np.where(right > 0, 0, right + 2)
    _log(
        book,
        "referral_count_disagrees",
        None,
        "'Number of Referrals in Last 12 Months' disagrees with the referrals",
        "child",
        file,
        len(chosen),
        _key_dicts(frame.loc[mask].drop_duplicates("child_id"), ["child_id", "referrals_last_12m"]),
    )
    return frame
