"""The true rates of a synthetic council, computed from its clean journeys by the official definitions.

Conventions (the project's defaults, see docs/SYNTHETIC.md): the period is the last 12 complete
calendar months before the end date; a re-referral has an earlier referral of the same child on
or after the same day 12 calendar months before (same-day duplicates are one referral); working
days exclude weekends and England & Wales bank holidays and count the days after the start up to
and including the end (same day = 0); an assessment is in time at 45 working days or fewer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from store.codes import ETHNICITY_KNOWN
from synthetic.calendar import working_days_between


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    def contains(self, values: pd.Series) -> pd.Series:
        return (values >= pd.Timestamp(self.start)) & (values <= pd.Timestamp(self.end))

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def last_complete_months(end: date, months: int = 12) -> Period:
    """The last `months` complete calendar months up to `end` (the month of `end` counts if `end` is its last day)."""
    stamp = pd.Timestamp(end)
    last = stamp if stamp.is_month_end else stamp.replace(day=1) - pd.Timedelta(days=1)
    first = (last.replace(day=1) - pd.DateOffset(months=months - 1)).date()
    return Period(first, last.date())


def _rate(numerator: int, denominator: int) -> dict[str, float | int | None]:
    rate = round(100.0 * numerator / denominator, 2) if denominator else None
    return {"numerator": int(numerator), "denominator": int(denominator), "rate": rate}


def re_referral_flags(referrals: pd.DataFrame) -> pd.Series:
    """Whether each referral follows an earlier referral of the child within 12 calendar months."""
    r = referrals[["child_id", "referral_date"]].drop_duplicates().sort_values(["child_id", "referral_date"])
    previous = r.groupby("child_id")["referral_date"].shift()
    flag = previous.notna() & (previous >= r["referral_date"] - pd.DateOffset(months=12))
    flags = pd.Series(flag.to_numpy(), index=pd.MultiIndex.from_frame(r))
    keys = pd.MultiIndex.from_frame(referrals[["child_id", "referral_date"]])
    return pd.Series(flags.reindex(keys).to_numpy(), index=referrals.index)


def re_referral_rate(referrals: pd.DataFrame, period: Period, by: str | None = None) -> dict:
    flags = re_referral_flags(referrals)
    inside = period.contains(referrals["referral_date"])
    if by is None:
        return _rate(flags[inside].sum(), inside.sum())
    groups = referrals.loc[inside].assign(flag=flags[inside]).groupby(by)["flag"]
    return {k: _rate(g.sum(), len(g)) for k, g in groups}


def assessment_working_days(episodes: pd.DataFrame, clock: str = "start") -> np.ndarray:
    begin = episodes["assessment_start" if clock == "start" else "referral_date"]
    return working_days_between(
        begin.to_numpy().astype("datetime64[D]"), episodes["assessment_authorised"].to_numpy().astype("datetime64[D]")
    )


def assessment_timeliness(episodes: pd.DataFrame, period: Period, clock: str = "start", by: str | None = None) -> dict:
    done = episodes.loc[episodes["assessment_authorised"].notna() & period.contains(episodes["assessment_authorised"])]
    in_time = pd.Series(assessment_working_days(done, clock) <= 45, index=done.index)
    if by is None:
        return _rate(in_time.sum(), len(done))
    return {k: _rate(g.sum(), len(g)) for k, g in in_time.groupby(done[by])}


def ethnicity_not_known(episodes: pd.DataFrame, children: pd.DataFrame, period: Period) -> dict:
    """Referrals in the period whose child's ethnicity is REFU, NOBT or missing; and the same by child."""
    refs = episodes.loc[period.contains(episodes["referral_date"]), ["child_id"]]
    eth = refs.merge(children[["child_id", "ethnicity"]], on="child_id", how="left")["ethnicity"]
    not_known = ~eth.isin(ETHNICITY_KNOWN)
    kids = children.loc[children["child_id"].isin(refs["child_id"]), "ethnicity"]
    out = _rate(not_known.sum(), len(eth))
    out["by_child"] = _rate((~kids.isin(ETHNICITY_KNOWN)).sum(), len(kids))
    out["breakdown_by_child"] = {
        "REFU": int((kids == "REFU").sum()),
        "NOBT": int((kids == "NOBT").sum()),
        "missing": int(kids.isna().sum()),
    }
    return out


def recording_delays(
    recordings: pd.DataFrame, period: Period, as_of: date, target_wd: int = 5, by: str | None = None
) -> dict:
    """Delay from event to write-up in working days, for events in the period, as known on `as_of`."""
    r = recordings.loc[period.contains(recordings["event_date"])]
    entered = r["entered_at"].notna() & (r["entered_at"].dt.normalize() <= pd.Timestamp(as_of))
    delay = pd.Series(np.nan, index=r.index)
    days = working_days_between(
        r.loc[entered, "event_date"].to_numpy().astype("datetime64[D]"),
        r.loc[entered, "entered_at"].dt.normalize().to_numpy().astype("datetime64[D]"),
    )
    delay[entered] = days

    def summary(d: pd.Series) -> dict:
        known = d.dropna()
        out = _rate(int((known <= target_wd).sum()), len(d))
        out["median_wd"] = float(known.median()) if len(known) else None
        out["p90_wd"] = float(known.quantile(0.9)) if len(known) else None
        out["not_written_up"] = int(d.isna().sum())
        return out

    if by is None:
        return summary(delay)
    return {k: summary(g) for k, g in delay.groupby(r[by])}


def open_overdue(episodes: pd.DataFrame, as_of: date) -> int:
    d = pd.Timestamp(as_of)
    started = episodes["assessment_start"].notna() & (episodes["assessment_start"] <= d)
    open_ = episodes["assessment_authorised"].isna() | (episodes["assessment_authorised"] > d)
    a = episodes.loc[started & open_]
    days = working_days_between(
        a["assessment_start"].to_numpy().astype("datetime64[D]"), np.full(len(a), np.datetime64(as_of))
    )
    return int((days > 45).sum())


def contact_conversion(contacts: pd.DataFrame, episodes: pd.DataFrame, period: Period, within_days: int = 30) -> dict:
    """Contacts in the period followed by a referral of the child on the same day or within `within_days` days."""
    c = contacts.loc[period.contains(contacts["contact_date"]), ["child_id", "contact_date"]].sort_values(
        "contact_date"
    )
    r = episodes[["child_id", "referral_date"]].drop_duplicates().sort_values("referral_date")
    nxt = pd.merge_asof(c, r, left_on="contact_date", right_on="referral_date", by="child_id", direction="forward")
    converted = (nxt["referral_date"] - nxt["contact_date"]).dt.days <= within_days
    return _rate(int(converted.sum()), len(c))


def yearly_rates(contacts: pd.DataFrame, episodes: pd.DataFrame, end: date, years: int) -> dict:
    """Rates of the clean truth that change from year to year, per 12-month year ending at `end`, oldest first.

    The extra contacts of a child are spread from before its first event up to the end date, so
    contacts accumulate over the span and the share that lead to a referral falls each year.
    """
    last = last_complete_months(end)
    periods = [
        Period(
            (pd.Timestamp(last.start) - pd.DateOffset(years=k)).date(),
            (pd.Timestamp(last.end) - pd.DateOffset(years=k)).date(),
        )
        for k in reversed(range(years))
    ]
    return {"contact_conversion_30d": [{**p.as_dict(), **contact_conversion(contacts, episodes, p)} for p in periods]}


def true_rates(children: pd.DataFrame, episodes: pd.DataFrame, recordings: pd.DataFrame, end: date) -> dict:
    """Every headline rate of the clean truth, as of `end`, over the last 12 complete months."""
    period = last_complete_months(end)
    seen = episodes.loc[episodes["referral_date"] <= pd.Timestamp(end)]
    return {
        "period": period.as_dict(),
        "as_of": end.isoformat(),
        "re_referral_rate": {
            **re_referral_rate(seen, period),
            "by_team": re_referral_rate(seen, period, by="referral_team"),
        },
        "assessment_within_45wd": {
            **assessment_timeliness(seen, period),
            "by_team": assessment_timeliness(seen, period, by="assessment_team"),
            "referral_clock": assessment_timeliness(seen, period, clock="referral"),
        },
        "ethnicity_not_known": ethnicity_not_known(seen, children, period),
        "recording_delay": {
            **recording_delays(recordings, period, end),
            "target_wd": 5,
            "by_team": recording_delays(recordings, period, end, by="team"),
        },
        "open_assessments_overdue": open_overdue(seen, end),
    }
