"""What the case-management system shows on a given day: the recorded journeys cut at an as-of date.

Dates after the as-of date have not happened yet: an authorisation or closure after it is blank,
so is the closure reason, and a recording entered after it is not yet written up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Recorded:
    """The council's records (truth plus record-level faults): what every extract is cut from."""

    children: pd.DataFrame
    episodes: pd.DataFrame  # one row per referral / CIN episode, with its assessment
    contacts: pd.DataFrame
    recordings: pd.DataFrame


def _ts(day: object) -> pd.Timestamp:
    return pd.Timestamp(day)


def _blank_after(values: pd.Series, as_of: pd.Timestamp) -> pd.Series:
    return values.where(values <= as_of)


def episodes_at(rec: Recorded, as_of: object) -> pd.DataFrame:
    """Episodes referred by `as_of`, with assessment and closure as known on that day."""
    d = _ts(as_of)
    e = rec.episodes.loc[rec.episodes["referral_date"] <= d].copy()
    closure = e["closure_date"]
    shown = closure.notna() & (closure <= d)
    e["closure_reason"] = e["closure_reason"].where(shown | closure.isna(), None)
    e["closure_date"] = closure.where(shown)
    e["assessment_started"] = e["assessment_start"].notna() & (e["assessment_start"] <= d)
    e["assessment_authorised"] = _blank_after(e["assessment_authorised"], d)
    authorised = e["assessment_authorised"].notna()
    e["requires_support"] = e["requires_support"].where(authorised, None)
    on_plan = (e["requires_support"] == True) & authorised  # noqa: E712 - object column
    closed = e["closure_date"].notna()
    e["case_status"] = _text(np.select([closed, on_plan], ["closed", "cin_plan"], "open_assessment"), e.index)
    use_cin = (closed | on_plan).to_numpy()
    e["team"] = _text(np.where(use_cin, e["cin_team"], e["assessment_team"].fillna(e["referral_team"])), e.index)
    e["worker"] = _text(
        np.where(use_cin, e["cin_worker"], e["assessment_worker"].fillna(e["referral_worker"])), e.index
    )
    return e


def _text(values: np.ndarray, index: pd.Index) -> pd.Series:
    """Text kept as numpy objects like the other text columns (pandas would make it Arrow strings, slow to cut)."""
    return pd.Series(values, index=index, dtype=object)


def assessments_at(rec: Recorded, as_of: object, episodes: pd.DataFrame | None = None) -> pd.DataFrame:
    """Assessments started by `as_of` (start date), authorisation blank while open; `episodes`: episodes_at(rec, as_of)
    when the caller has it already (it is only read)."""
    e = episodes_at(rec, as_of) if episodes is None else episodes
    a = e.loc[e["assessment_start"].notna() & (e["assessment_start"] <= _ts(as_of))].copy()
    # an assessment recorded as starting before its referral is there even if the referral is not yet
    early = rec.episodes.loc[
        rec.episodes["assessment_start"].notna()
        & (rec.episodes["assessment_start"] <= _ts(as_of))
        & (rec.episodes["referral_date"] > _ts(as_of))
    ]
    if not early.empty:
        extra = early.copy()
        extra["assessment_authorised"] = _blank_after(extra["assessment_authorised"], _ts(as_of))
        extra["requires_support"] = None
        extra["team"], extra["worker"] = extra["assessment_team"], extra["assessment_worker"]
        a = pd.concat([a, extra], ignore_index=True)
    a["team"], a["worker"] = a["assessment_team"], a["assessment_worker"]
    return a


def recordings_at(rec: Recorded, as_of: object) -> pd.DataFrame:
    """Recordings of events by `as_of`; entered_at blank when written up after it."""
    d = _ts(as_of)
    r = rec.recordings.loc[rec.recordings["event_date"] <= d].copy()
    r["entered_at"] = r["entered_at"].where(r["entered_at"].dt.normalize() <= d)
    return r


def last_seen(rec: Recorded, episodes: pd.DataFrame, as_of: object) -> pd.Series:
    """Date the child was last visited within each episode, by `as_of` (NaT when never)."""
    d = _ts(as_of)
    visits = rec.recordings.loc[
        (rec.recordings["record_type"] == "visit") & (rec.recordings["event_date"] <= d), ["child_id", "event_date"]
    ]
    codes, children = pd.factorize(visits["child_id"])
    order = np.lexsort((visits["event_date"].to_numpy(), codes))  # by child, then date
    dates = visits["event_date"].to_numpy()[order]
    bounds = np.searchsorted(codes[order], np.arange(len(children) + 1))  # each child's visits: a slice of `dates`
    child = pd.Index(children).get_indexer(episodes["child_id"])
    starts = episodes["referral_date"].to_numpy()
    stops = episodes["closure_date"].fillna(d).to_numpy()
    seen = np.full(len(episodes), np.datetime64("NaT"), dtype=dates.dtype)
    for i, (c, start, stop) in enumerate(zip(child, starts, stops)):  # a few hundred episodes: a search each
        mine = dates[bounds[c] : bounds[c + 1]] if c >= 0 else dates[:0]
        last = np.searchsorted(mine, stop, side="right") - 1
        if last >= 0 and mine[last] >= start:
            seen[i] = mine[last]
    return pd.Series(seen, index=episodes.index)


def referrals_in_last_12_months(referrals: pd.DataFrame, as_of: object) -> pd.Series:
    """Per child: referrals in the 12 months before the child's latest referral by `as_of` (Annex A List 3)."""
    r = referrals.loc[referrals["referral_date"] <= _ts(as_of), ["child_id", "referral_date"]]
    codes, children = pd.factorize(r["child_id"], sort=True)  # sorted, as a group-by's keys
    known = codes >= 0
    codes, dates = codes[known], r["referral_date"].to_numpy()[known]
    order = np.lexsort((dates, codes))
    last = np.searchsorted(codes[order], np.arange(len(children)), side="right") - 1
    latest = dates[order][last]  # each child's latest referral
    window_start = (pd.DatetimeIndex(latest) - pd.DateOffset(months=12)).to_numpy()
    inside = (dates >= window_start[codes]) & (dates < latest[codes])
    counts = np.bincount(codes, weights=inside, minlength=len(children)).astype(int)
    return pd.Series(counts, index=pd.Index(children, name="child_id"))


def age_at(dob: pd.Series, as_of: object) -> pd.Series:
    """Age in whole years at the last birthday on `as_of`; -1 for a child not yet born; NaN when unknown."""
    d = _ts(as_of)
    days = dob.to_numpy(dtype="datetime64[D]")  # numpy date parts: pandas' .dt costs more than the sums on few rows
    month_start = days.astype("datetime64[M]")
    year = days.astype("datetime64[Y]").astype(np.int64) + 1970
    month = month_start.astype(np.int64) % 12 + 1
    day = (days - month_start).astype(np.int64) + 1
    years = d.year - year - ((month > d.month) | ((month == d.month) & (day > d.day)))
    born = (dob <= d).to_numpy()
    ages = pd.Series(np.where(born, years, -1).astype(np.int32), index=dob.index, name=dob.name)
    return ages if born.all() else ages.where(dob.notna())
