"""The global filters (period, team, worker): read from the URL query, shown in the sidebar, written back so a view can be shared."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

import streamlit as st

import metrics.coverage
from metrics.coverage import PLAUSIBLE_FROM
from metrics.params import Filters, Period
from ui import data
from ui.formatting import md_text, period_label

ALL_TEAMS = "All teams"
ALL_WORKERS = "All workers"
KEYS = {"from": "filter_from", "to": "filter_to", "team": "filter_team", "worker": "filter_worker"}
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


@dataclass(frozen=True)
class View:
    """What every page shows: the period, the one before it, and the team / worker filters."""

    period: Period
    previous: Period
    filters: Filters

    @property
    def label(self) -> str:
        return period_label(self.period.start, self.period.end)

    @property
    def previous_label(self) -> str:
        return period_label(self.previous.start, self.previous.end)

    @property
    def scope(self) -> str:
        """'the authority', 'team MASH' or 'worker A. Smith (team MASH)', names escaped for Markdown (pages show it in captions)."""
        team, worker = (md_text(v) if v else v for v in (self.filters.team, self.filters.worker))
        if worker:
            return f"worker {worker}" + (f" (team {team})" if team else "")
        if team:
            return f"team {team}"
        return "the authority"


def parse_date(text: str | None) -> date | None:
    """An ISO date from the URL, or None when absent or malformed."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def previous_period(period: Period) -> Period:
    """The period of the same length just before: whole months when the period is whole months."""
    start, end = period.start, period.end
    if start.day == 1 and (end + timedelta(days=1)).day == 1:
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        return Period(_add_months(start, -months), start - timedelta(days=1))
    length = end - start
    prev_end = start - timedelta(days=1)
    return Period(prev_end - length, prev_end)


def _clamp(day: date) -> date:
    return min(max(day, EARLIEST), LATEST)


def data_bounds(
    spans: dict[str, dict[str, object]], default: Period, today: date | None = None
) -> tuple[date, date] | None:
    """The dates the store covers, in whole months; None when it has no events.

    From the month of its earliest event (dates before 1990 are errors the checks flag, and are passed over)
    to the end of the month of its latest event, the default period's end (the extract date) or today,
    whichever comes first after the default period: a mistyped event in 2035 does not stretch it.
    """
    firsts = [d for s in spans.values() if isinstance(d := s.get("earliest"), date)]
    lasts = [d for s in spans.values() if isinstance(d := s.get("latest"), date)]
    if not firsts or not lasts:
        return None
    first = min([d for d in firsts if d >= PLAUSIBLE_FROM] or firsts)
    last = max(default.end, min(max(lasts), today or date.today()))
    month_end = date(last.year, last.month, calendar.monthrange(last.year, last.month)[1])
    return first.replace(day=1), month_end


def clamp_to_data(start: date, end: date, bounds: tuple[date, date] | None) -> tuple[date, date, str | None]:
    """A period from a link cut to the dates the store has data for, with a note saying so when it was cut.

    A link asking for 2000–2099 would otherwise make every measure walk a century of empty months. A period
    wholly outside the data is kept as asked (no longer than the link says): the pages say nothing matches.
    """
    if bounds is None:
        return start, end, None
    first, last = bounds
    if start >= first and end <= last:
        return start, end, None
    asked = period_label(start, end)
    new_start, new_end = max(start, first), min(end, last)
    if new_start > new_end:
        return start, end, None
    return (
        new_start,
        new_end,
        (
            f"The link's period ({asked}) reaches beyond the loaded data: it is shown from "
            f"{new_start:%d %b %Y} to {new_end:%d %b %Y}, the dates the store holds."
        ),
    )


def _seed_state(default: Period, bounds: tuple[date, date] | None = None) -> list[str]:
    """Put the URL's filters into session state once per session; returns notes on values that were ignored."""
    notes: list[str] = []
    if KEYS["from"] in st.session_state:
        return notes
    params = st.query_params
    start, end = parse_date(params.get("from")), parse_date(params.get("to"))
    if ("from" in params and start is None) or ("to" in params and end is None):
        notes.append("A date in the link could not be read; the default period is shown instead.")
    start, end = _clamp(start or default.start), _clamp(end or default.end)
    if start > end:
        start, end = end, start
        notes.append("The link's period ran backwards; the dates were swapped.")
    if "from" in params or "to" in params:
        start, end, note = clamp_to_data(start, end, bounds)
        notes.extend([note] if note else [])
    st.session_state[KEYS["from"]] = start
    st.session_state[KEYS["to"]] = end
    st.session_state[KEYS["team"]] = params.get("team") or ALL_TEAMS
    st.session_state[KEYS["worker"]] = params.get("worker") or ALL_WORKERS
    return notes


def _workers_for(options: dict[str, list[str]], team: str | None) -> list[str]:
    """Workers to choose from: the team's when a team is chosen ('worker:<team>'), else all."""
    workers = options.get(f"worker:{team}", []) if team else options.get("worker", [])
    return sorted(str(w) for w in workers)


def _keep_valid(key: str, choices: list[str], fallback: str, what: str, notes: list[str]) -> None:
    if st.session_state.get(key) not in choices:
        if st.session_state.get(key) not in (None, fallback):
            notes.append(
                f"{what} “{md_text(st.session_state[key])}” is not among the choices; showing {fallback.lower()}."
            )
        st.session_state[key] = fallback


def _write_query(period: Period, team: str | None, worker: str | None) -> None:
    wanted = {"from": period.start.isoformat(), "to": period.end.isoformat()}
    if team:
        wanted["team"] = team
    if worker:
        wanted["worker"] = worker
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


def sidebar_filters() -> View:
    """Draw the global filters in the sidebar and return the view they select."""
    default: Period = data.call(metrics.coverage.default_period)
    options: dict[str, list[str]] = data.call(metrics.coverage.filter_options)
    notes = _seed_state(default, data_bounds(data.call(metrics.coverage.data_span), default))
    teams = [ALL_TEAMS] + sorted(str(t) for t in options.get("team", []))
    _keep_valid(KEYS["team"], teams, ALL_TEAMS, "Team", notes)
    with st.sidebar:
        st.subheader("Filters")
        start = st.date_input("From", key=KEYS["from"], min_value=EARLIEST, max_value=LATEST, format="DD/MM/YYYY")
        end = st.date_input("To", key=KEYS["to"], min_value=EARLIEST, max_value=LATEST, format="DD/MM/YYYY")
        if start > end:
            st.warning("“From” is after “To”: the dates are read the other way round.")
            start, end = end, start
        team_choice = st.selectbox("Team", teams, key=KEYS["team"])
        team = None if team_choice == ALL_TEAMS else team_choice
        workers = [ALL_WORKERS] + _workers_for(options, team)
        _keep_valid(KEYS["worker"], workers, ALL_WORKERS, "Worker", notes)
        worker_choice = st.selectbox("Worker", workers, key=KEYS["worker"])
        worker = None if worker_choice == ALL_WORKERS else worker_choice
        if st.button("Reset to the last 12 months", key="filter_reset"):
            for key in KEYS.values():
                st.session_state.pop(key, None)
            st.query_params.clear()
            st.rerun()
        for note in notes:
            st.caption(note)
        st.caption(f"Default period: {period_label(default.start, default.end)} (last 12 complete months of data).")
    period = Period(start, end)
    _write_query(period, team, worker)
    return View(period=period, previous=previous_period(period), filters=Filters(team=team, worker=worker))
