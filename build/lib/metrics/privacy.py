"""Small-count suppression for aggregates that leave the service (DfE marks suppressed values 'c')."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

DEFAULT_THRESHOLD = 5
COUNT_COLUMNS: tuple[str, ...] = (
    "numerator", "denominator", "count", "contacts", "children", "referred_children", "refused", "not_obtained",
    "missing", "invalid", "unborn", "not_recorded", "not_stated", "written_up", "not_written_up",
    "incomplete_follow_up",
)
DERIVED_COLUMNS: tuple[str, ...] = ("rate", "share", "share_known", "contacts_per_child", "rate_excluding_unborn")


def suppress_small_counts(
    frame: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """A copy of `frame` with counts from 1 to threshold-1 set to NA, and the row's rates with them."""
    counts = [c for c in (columns or COUNT_COLUMNS) if c in frame.columns]
    out = frame.copy()
    small = pd.DataFrame({c: (out[c] > 0) & (out[c] < threshold) for c in counts}, index=out.index)
    for column in counts:
        out[column] = out[column].astype("Int64").mask(small[column])
    row_suppressed = small.any(axis=1) if counts else pd.Series(False, index=out.index)
    for column in (c for c in DERIVED_COLUMNS if c in out.columns):
        out[column] = out[column].astype("float64").mask(row_suppressed)
    return out
