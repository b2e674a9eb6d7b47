"""Disclosure control for aggregates that leave the service, after the DfE convention: small counts shown as 'c', with secondary suppression."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

SUPPRESSED = "c"
DEFAULT_THRESHOLD = 5
COUNT_COLUMNS: tuple[str, ...] = (
    "numerator",
    "denominator",
    "count",
    "contacts",
    "children",
    "referred_children",
    "refused",
    "not_obtained",
    "missing",
    "invalid",
    "unborn",
    "not_recorded",
    "not_stated",
    "written_up",
    "not_written_up",
    "incomplete_follow_up",
)
# Figures computed from a row's counts: withheld with them ('c'), since they would let a reader recover a count.
DERIVED_COLUMNS: tuple[str, ...] = (
    "rate",
    "share",
    "share_known",
    "contacts_per_child",
    "rate_excluding_unborn",
    "median_delay_wd",
    "p90_delay_wd",
    "lcl",
    "ucl",
)


def _small(values: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Primary suppression: counts from 1 to threshold-1 (zero and missing are shown)."""
    numbers = values.apply(pd.to_numeric, errors="coerce")
    return (numbers > 0) & (numbers < threshold)


def _protect_lines(values: np.ndarray, hidden: np.ndarray, axes: Sequence[int]) -> np.ndarray:
    """Secondary suppression: while a line (column, or row with axis 1) that adds up to a published total has
    exactly one hidden cell, also hide its smallest shown non-zero cell, so the total cannot give that one away."""
    hidden = hidden.copy()
    changed = True
    while changed:
        changed = False
        for axis in axes:
            lines = hidden.T if axis == 0 else hidden
            numbers = values.T if axis == 0 else values
            for i in range(lines.shape[0]):
                if lines[i].sum() != 1:
                    continue
                candidates = np.where(~lines[i] & (numbers[i] > 0), numbers[i], np.inf)
                if np.isfinite(candidates).any():
                    lines[i, int(np.argmin(candidates))] = True
                    changed = True
    return hidden


def suppression_mask(
    frame: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Which cells of a long aggregate (one row per category; each count column adds up to the published overall)
    to withhold: small counts, a partner for a lone small count in a column, and the derived figures of their rows."""
    counts = [c for c in (columns or COUNT_COLUMNS) if c in frame.columns]
    mask = np.zeros(frame.shape, dtype=bool)
    if counts and not frame.empty:  # in numpy: a page in the publishable view asks this of every tile and table
        numbers = np.column_stack([_numbers(frame[c]) for c in counts])
        small = (numbers > 0) & (numbers < threshold)  # primary suppression, as `_small` (NaN: neither)
        hidden = _protect_lines(np.nan_to_num(numbers, nan=0.0), small, axes=(0,))
        position = {c: i for i, c in enumerate(frame.columns)}
        mask[:, [position[c] for c in counts]] = hidden
        for column in (c for c in DERIVED_COLUMNS if c in position):
            mask[:, position[column]] = hidden.any(axis=1)
    return pd.DataFrame(mask, index=frame.index, columns=frame.columns)


def _numbers(column: pd.Series) -> np.ndarray:
    """A column's values as floats, NaN for what is missing or not a number (a 'c' already written)."""
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def suppress_small_counts(
    frame: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """A copy of `frame` with every withheld cell (see `suppression_mask`) set to NA: numeric, for charts."""
    mask = suppression_mask(frame, threshold, columns)
    out = frame.copy()
    for column in mask.columns[mask.any()]:
        numeric = out[column].astype("Int64") if column not in DERIVED_COLUMNS else out[column].astype("float64")
        out[column] = numeric.mask(mask[column])
    return out


def publishable(
    frame: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """A copy of `frame` fit to leave the service: every withheld cell (see `suppression_mask`) written as 'c'."""
    mask = suppression_mask(frame, threshold, columns)
    out = frame.copy()
    for column in mask.columns[mask.any()]:
        out[column] = out[column].astype(object).where(~mask[column], SUPPRESSED)
    return out


def suppress_table(table: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD, total: str = "Total") -> pd.DataFrame:
    """A two-way table of counts with a `total` row and column, fit to publish: small cells 'c', and secondary
    suppression along every row and column so no total reveals a hidden cell; a small total is itself 'c'."""
    inner_rows = [r for r in table.index if r != total]
    inner_cols = [c for c in table.columns if c != total]
    inner = table.loc[inner_rows, inner_cols]
    values = inner.apply(pd.to_numeric, errors="coerce").fillna(0).to_numpy(dtype="float64")
    hidden = _protect_lines(values, _small(inner, threshold).to_numpy(), axes=(0, 1))
    mask = pd.DataFrame(False, index=table.index, columns=table.columns)
    mask.loc[inner_rows, inner_cols] = hidden
    margins = [(r, c) for r in table.index for c in table.columns if r == total or c == total]
    for row, column in margins:
        mask.loc[row, column] = bool(_small(table.loc[[row], [column]], threshold).iloc[0, 0])
    return table.astype(object).where(~mask, SUPPRESSED)
