"""Case recordings: what workers write on each child's file, and when they write it up (the truth).

Each event (a contact, a visit, an assessment write-up, supervision, a chronology entry...) is
written up after a delay in working days drawn from a lognormal distribution whose median belongs
to the worker, so delays have a long tail and some items are never written up at all.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic.calendar import add_working_days
from synthetic.journeys import pick_workers
from synthetic.params import RATES, Params, Rates

RECORD_TYPE_LABELS: dict[str, str] = {
    "case_note": "Case Note",
    "visit": "Visit",
    "assessment": "Assessment",
    "supervision": "Supervision",
    "chronology": "Chronology",
    "meeting": "Meeting",
    "contact": "Contact",
}
VIEWS_TYPES = ("visit", "assessment", "meeting")


def _events(child: np.ndarray, date: np.ndarray, worker: np.ndarray, team: np.ndarray, kind: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "child_id": child,
            "event_date": date.astype("datetime64[ns]"),
            "worker": worker,
            "team": team,
            "record_type": kind,
        }
    )


def _periodic(
    rng: np.random.Generator, begin: np.ndarray, stop: np.ndarray, every_days: float
) -> tuple[np.ndarray, np.ndarray]:
    """Row index and date of events every ~`every_days` between `begin` and `stop` of each row."""
    span = (stop - begin).astype("timedelta64[D]").astype(np.int64)
    counts = np.maximum(span // int(every_days), 0)
    idx = np.repeat(np.arange(len(begin)), counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    jitter = rng.integers(-4, 5, len(idx))
    offset = np.clip((within + 1) * int(every_days) + jitter, 1, None).astype("timedelta64[D]")
    date = begin[idx] + offset
    ok = date <= stop[idx]
    return idx[ok], date[ok]


def events(
    params: Params, rng: np.random.Generator, refs: pd.DataFrame, contacts: pd.DataFrame, workers: pd.DataFrame
) -> pd.DataFrame:
    """Every recordable event up to the end date, with who records it."""
    end = np.datetime64(params.end, "D")
    parts = []
    mash = np.full(len(contacts), "MASH", dtype=object)
    parts.append(
        _events(
            contacts["child_id"].to_numpy(),
            contacts["contact_date"].to_numpy(),
            pick_workers(rng, mash, workers),
            mash,
            "contact",
        )
    )
    r = refs
    parts.append(
        _events(
            r["child_id"].to_numpy(),
            r["referral_date"].to_numpy(),
            r["referral_worker"].to_numpy(),
            r["referral_team"].to_numpy(),
            "case_note",
        )
    )
    a = r.loc[~r["nfa"]]
    start = a["assessment_start"].to_numpy().astype("datetime64[D]")
    auth = a["assessment_authorised"].to_numpy().astype("datetime64[D]")
    seen = a["child_seen"].to_numpy()
    visit = add_working_days(start, rng.integers(0, 8, len(a)))
    parts.append(
        _events(
            a["child_id"].to_numpy()[seen],
            visit[seen],
            a["assessment_worker"].to_numpy()[seen],
            a["assessment_team"].to_numpy()[seen],
            "visit",
        )
    )
    parts.append(
        _events(
            a["child_id"].to_numpy(),
            auth,
            a["assessment_worker"].to_numpy(),
            a["assessment_team"].to_numpy(),
            "assessment",
        )
    )
    idx, day = _periodic(rng, start, auth, 9)
    parts.append(
        _events(
            a["child_id"].to_numpy()[idx],
            day,
            a["assessment_worker"].to_numpy()[idx],
            a["assessment_team"].to_numpy()[idx],
            "case_note",
        )
    )
    plan = a.loc[a["requires_support"].to_numpy()]
    begin = plan["assessment_authorised"].to_numpy().astype("datetime64[D]")
    stop = np.minimum(plan["closure_date"].to_numpy().astype("datetime64[D]"), end)
    for kind, every in (("visit", 24), ("case_note", 14), ("supervision", 42), ("meeting", 90), ("chronology", 75)):
        idx, day = _periodic(rng, begin, stop, every)
        parts.append(
            _events(
                plan["child_id"].to_numpy()[idx],
                day,
                plan["cin_worker"].to_numpy()[idx],
                plan["cin_team"].to_numpy()[idx],
                kind,
            )
        )
    closed = plan.loc[plan["closure_date"] <= pd.Timestamp(end)]
    parts.append(
        _events(
            closed["child_id"].to_numpy(),
            closed["closure_date"].to_numpy(),
            closed["cin_worker"].to_numpy(),
            closed["cin_team"].to_numpy(),
            "chronology",
        )
    )
    frame = pd.concat(parts, ignore_index=True)
    return frame.loc[frame["event_date"] <= pd.Timestamp(end)].reset_index(drop=True)


def recordings(
    params: Params,
    rng: np.random.Generator,
    refs: pd.DataFrame,
    contacts: pd.DataFrame,
    workers: pd.DataFrame,
    rates: Rates = RATES,
) -> pd.DataFrame:
    """One row per recorded item: record id, child, type, event date, when entered (NaT = never), views."""
    frame = events(params, rng, refs, contacts, workers)
    frame = frame.sort_values(["event_date", "child_id", "record_type", "worker"], kind="stable").reset_index(drop=True)
    w = workers.set_index("worker").loc[frame["worker"].to_numpy()]
    median = w["recording_median_wd"].to_numpy()
    delay = np.rint(np.exp(np.log(median) + rates.recording_sigma * rng.standard_normal(len(frame)))).astype(np.int64)
    never = rng.random(len(frame)) < w["never_written_up"].to_numpy()
    day = add_working_days(frame["event_date"].to_numpy().astype("datetime64[D]"), delay)
    minutes = rng.integers(8 * 60, 18 * 60 + 30, len(frame)).astype("timedelta64[m]")
    entered = (day.astype("datetime64[m]") + minutes).astype("datetime64[ns]")
    frame["entered_at"] = pd.to_datetime(np.where(never, np.datetime64("NaT"), entered))
    views_possible = frame["record_type"].isin(VIEWS_TYPES).to_numpy()
    views = rng.random(len(frame)) < w["views_share"].to_numpy()
    frame["child_views_recorded"] = pd.array(np.where(views_possible, views, None), dtype="boolean")
    frame.insert(0, "record_id", (4_000_001 + np.arange(len(frame))).astype(str))
    return frame
