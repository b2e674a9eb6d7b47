"""Page furniture shared by every page: headers, empty-data notices, headline tiles, charts and tables with their downloads (publishable when asked), child-level lists for the roles that may see them, drill-downs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from ui import access, data
from ui.downloads import download_csv, human_label
from ui.filters import View
from ui.formatting import SUPPRESSION_MARK as SUPPRESSED
from ui.formatting import count, delta_colour, is_missing, pct, points_change, points_text, rate_with_counts

log = logging.getLogger(__name__)
VIEW_KEY = "frontdoor_view"
DEMO_HINT = "python -m synthetic demo"


def page_header(title: str, question: str) -> None:
    """The page title and the question it answers; nothing more when the page runs without the router's sign-in
    (Streamlit can run a file of pages/ directly on a server's first session)."""
    st.title(title)
    if not access.current().roles:
        st.info("Open the dashboard from its home page and sign in to see this page.")
        st.stop()
    st.caption(question)


def current_view() -> View | None:
    """The view the router set from the global filters (None when the store has no data)."""
    return st.session_state.get(VIEW_KEY)


def explain_store(state: data.StoreState) -> None:
    """Say what is missing from the store and how to load it."""
    if state.missing:
        st.warning(f"**No store yet** at `{state.path}`: nothing has been loaded.")
        st.markdown(
            "Load your extracts (Annex A workbook, CIN census XML, case-recording CSV):\n\n"
            f"```\npython -m ingest FILE... --store {state.path}\n```\n\n"
            f"or build the demo store from synthetic data: `{DEMO_HINT}`. "
            "Point the dashboard at another store with the `FRONTDOOR_STORE` environment variable."
        )
    elif state.problem:
        st.error(f"The store at `{state.path}` cannot be read: {state.problem}.")
        st.markdown(f"Load extracts into a new store with `{state.load_hint()}`.")
    elif state.empty:
        st.warning(f"**The store is empty**: `{state.path}` has no contacts, referrals, assessments, "
                   "children-in-need episodes or recordings yet.")
        st.markdown(f"Load extracts with:\n\n```\n{state.load_hint()}\n```")


def require(*entities: str) -> tuple[data.StoreState, View] | None:
    """The store state and view when the store holds the data a page needs; otherwise explain and return None."""
    state = data.store_state()
    if not state.ready:
        explain_store(state)
        return None
    view = current_view()
    if view is None:
        st.warning("The filters could not be set up; reload the page.")
        return None
    lacking = [e for e in entities if not state.has(e)]
    if lacking and len(lacking) == len(entities):
        missing_entities(lacking, state)
        return None
    return state, view


def missing_entities(entities: list[str], state: data.StoreState) -> None:
    """A notice naming the lists that are not loaded and how to load them."""
    names = "; ".join(data.ENTITY_LABELS.get(e, e) for e in entities)
    st.info(f"**Not loaded yet:** {names}. Load the extract with `{state.load_hint()}`.")


def nothing_matches(what: str, view: View) -> None:
    """A notice for a filter or period that matches nothing."""
    st.info(f"No {what} for {view.scope} in {view.label}. Widen the period or choose another team or worker "
            "in the sidebar.")


@contextmanager
def section(name: str) -> Iterator[None]:
    """Draw a section; if it fails, say so in words (never a traceback) and carry on with the page."""
    try:
        yield
    except data.StoreNotFound:
        st.warning(f"{name}: the store has gone since this page opened; reload the page.")
    except (ImportError, AttributeError) as exc:
        log.warning("section %s unavailable: %s", name, type(exc).__name__)
        st.info(f"{name}: not available in this build yet ({type(exc).__name__}).")
    except Exception as exc:  # noqa: BLE001 - a page must never show a traceback
        # Only the exception type is logged: messages can carry child-level values.
        log.warning("section %s failed: %s", name, type(exc).__name__)
        st.error(f"{name} could not be drawn ({type(exc).__name__}). The rest of the page is unaffected.")


def first_row(frame: pd.DataFrame) -> dict[str, Any]:
    """The single row of an overall (by=None) metric frame as a dict (zeros when empty)."""
    if frame.empty:
        return {"numerator": 0, "denominator": 0, "rate": float("nan")}
    return frame.iloc[0].to_dict()


def rate_tile(label: str, current: dict[str, Any], previous: dict[str, Any] | None, good_direction: str,
              *, help: str | None = None, against: str = "previous period") -> None:
    """A headline: the rate to one decimal place, the change in points against the previous period, the counts below."""
    if access.publishable_view():
        current, previous = _publishable_row(current), _publishable_row(previous)
    change = points_change(current.get("rate"), previous.get("rate")) if previous else None
    st.metric(
        label,
        SUPPRESSED if current.get("suppressed") and is_missing(current.get("rate")) else pct(current.get("rate")),
        delta=None if change is None else f"{change:+.1f} pts",
        delta_color=delta_colour(good_direction) if change else "off",
        delta_description=None if change is None else f"vs {against}",
        help=help,
    )
    counts = rate_with_counts(current.get("rate"), current.get("numerator"), current.get("denominator"))
    if current.get("suppressed"):
        counts = (f"{SUPPRESSED} — small numbers withheld (publishable view): "
                  + " of ".join(SUPPRESSED if is_missing(current.get(k)) else f"{int(current[k]):,}"
                                for k in ("numerator", "denominator")))
    if previous is not None and change is None:
        counts += " · no figure for the previous period"
    st.caption(counts)


def _publishable_row(row: dict[str, Any] | None) -> dict[str, Any] | None:
    """A headline row with a small numerator or denominator (and its rate) withheld, for the publishable view."""
    if row is None:
        return None
    from metrics.privacy import suppression_mask

    frame = pd.DataFrame([row])
    hidden = suppression_mask(frame, access.threshold()).iloc[0]
    return {k: (float("nan") if hidden.get(k, False) else v) for k, v in row.items()} | {
        "suppressed": bool(hidden.any())}


def publishable_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as it may leave the service: withheld cells 'c', rates and shares to one decimal place."""
    from metrics.privacy import DERIVED_COLUMNS, publishable

    out = publishable(frame, access.threshold())
    for column in out.columns:
        if column in DERIVED_COLUMNS:
            out[column] = out[column].map(lambda v: v if isinstance(v, str) or is_missing(v) else f"{float(v):.1f}")
        elif (out[column].astype(str) == SUPPRESSED).any():  # counts and 'c' in one column: text, for Arrow and CSV
            out[column] = out[column].map(lambda v: v if isinstance(v, str) or is_missing(v) else f"{int(v):d}")
    return out


def withheld(frame: pd.DataFrame) -> pd.DataFrame:
    """For a chart drawn outside `chart()`: in the publishable view, withheld cells blank (NA); else the frame."""
    from metrics.privacy import suppress_small_counts

    return suppress_small_counts(frame, access.threshold()) if access.publishable_view() else frame


def count_tile(label: str, value: int, **kwargs: Any) -> None:
    """A tile showing a count of children or events: 'c' for 1 to threshold-1 in the publishable view."""
    small = access.publishable_view() and 0 < int(value) < access.threshold()
    st.metric(label, SUPPRESSED if small else f"{int(value):,}", **kwargs)


def shown_counts(parts: dict[str, Any]) -> dict[str, str]:
    """Counts that add up to a published total, as shown: formatted, or in the publishable view 'c' where withheld
    (with a partner, so the total cannot give a lone one away)."""
    from metrics.privacy import suppression_mask

    text = {k: count(v) for k, v in parts.items()}
    if not access.publishable_view():
        return text
    frame = pd.DataFrame({"count": [0 if is_missing(v) else int(v) for v in parts.values()]}, index=list(parts))
    hidden = suppression_mask(frame, access.threshold())["count"]
    return {k: SUPPRESSED if hidden[k] else t for k, t in text.items()}


def _needs_suppression(frame: pd.DataFrame) -> bool:
    from metrics.privacy import suppression_mask

    return bool(suppression_mask(frame, access.threshold()).to_numpy().any())


def chart(fig: go.Figure, frame: pd.DataFrame, name: str, key: str) -> None:
    """A chart with the CSV of exactly its data beside it; in the publishable view a chart that would show a small
    count is replaced by its publishable table."""
    if access.publishable_view() and _needs_suppression(frame):
        st.caption("Publishable view: this chart would show small numbers, so its figures are shown as a table with "
                   "the small numbers withheld ('c').")
        table(frame, name, key=key, rates=())
        return
    st.plotly_chart(fig, key=f"{key}_chart", config={"displaylogo": False})
    download_csv(publishable_frame(frame) if access.publishable_view() else frame, name, key=f"{key}_csv",
                 label="Download this chart's data (CSV)")


def table(frame: pd.DataFrame, name: str, key: str, *, rates: tuple[str, ...] = ("rate",), personal: bool = False,
          hide_index: bool = True) -> None:
    """A table (readable headings, rates to one decimal place) with the CSV of exactly its rows; publishable (small
    numbers 'c') in the publishable view."""
    if access.publishable_view() and not personal:
        frame, rates = publishable_frame(frame), ()
    config = {c: st.column_config.NumberColumn(human_label(c), format="%.1f%%") for c in rates if c in frame}
    config.update({c: human_label(c) for c in frame.columns if c not in config})
    st.dataframe(frame, hide_index=hide_index, column_config=config, key=f"{key}_table")
    download_csv(frame, name, key=f"{key}_csv", personal=personal,
                 label="Download these rows (CSV)" if personal else "Download this table (CSV)")


def may_see(grant: str = access.CHILD_LISTS) -> bool:
    """Whether the current role may see child-level rows of this kind (lists, or data-quality failing rows)."""
    return access.current().can(grant)


def sensitive_list(title: str, frame: pd.DataFrame, name: str, key: str, *, empty: str,
                   grant: str = access.CHILD_LISTS) -> None:
    """A child-level list, only for roles granted it (absent for the others), in an expander whose rows are sent to
    the browser only when opened; each opening is one audit entry; its download is marked personal data."""
    if not may_see(grant):
        return
    rows = f"{len(frame):,} row{'' if len(frame) == 1 else 's'}"
    expander = st.expander(f"🔒 Sensitive — {title} ({rows}, child-level personal data)", key=f"{key}_open",
                           on_change="rerun")
    with expander:
        if not expander.open:
            st.session_state.pop(f"{key}_audited", None)
            return
        st.caption("Special-category personal data. Open only if your role needs it; do not share outside the service.")
        if frame.empty:
            st.info(empty)
            return
        _audit_view(name, key, len(frame))
        table(frame, name, key, personal=True, rates=())


def _audit_view(name: str, key: str, rows: int) -> None:
    """One audit entry per opening of a list (and again when the filters change while it is open)."""
    from ui.downloads import audit_filters

    filters = audit_filters()
    seen = (name, rows, tuple(sorted(filters.items())))
    if st.session_state.get(f"{key}_audited") != seen:
        access.record("view_list", what=name, rows=rows, filters=filters)
        st.session_state[f"{key}_audited"] = seen


def drilldown(metric: Callable[..., pd.DataFrame], view: View, label: str, key: str) -> None:
    """From the authority to a team to its workers: rates by team, then by worker for a chosen team."""
    from metrics.params import Filters
    from ui.charts import breakdown_bar
    from ui.formatting import extremes_title

    overall = first_row(metric(view.period, view.filters, None)).get("rate")
    team = view.filters.team
    if team is None:
        by_team = metric(view.period, view.filters, "team")
        if by_team.empty:
            nothing_matches(label.lower(), view)
            return
        chart(breakdown_bar(by_team, "team", extremes_title(label, by_team, "team", "team"), overall=overall),
              by_team, f"{key}_by_team", key=f"{key}_team")
        teams = [str(t) for t in by_team["team"].dropna()]
        team = st.selectbox("Drill into a team to see its workers", ["—"] + teams, key=f"{key}_drill")
        if team == "—":
            return
    by_worker = metric(view.period, Filters(team=team, worker=view.filters.worker), "worker")
    if by_worker.empty:
        nothing_matches(label.lower(), view)
        return
    team_rate = first_row(metric(view.period, Filters(team=team), None)).get("rate")
    chart(breakdown_bar(by_worker, "worker", extremes_title(f"{label} in {team}", by_worker, "worker", "worker"),
                        overall=team_rate),
          by_worker, f"{key}_{team}_by_worker", key=f"{key}_worker")


def trend(metric: Callable[..., pd.DataFrame], view: View, label: str, good_direction: str, key: str) -> None:
    """The monthly rate over the period with SPC limits and signals, its finding as the title, and its CSV."""
    from ui.charts import trend_chart
    from ui.formatting import trend_title

    monthly = data.with_spc(metric(view.period, view.filters, "month"))
    if monthly.empty or monthly["denominator"].fillna(0).sum() == 0:
        nothing_matches(label.lower(), view)
        return
    chart(trend_chart(monthly, trend_title(label, monthly, good_direction)), monthly, f"{key}_by_month", key=key)


def breakdown(metric: Callable[..., pd.DataFrame], view: View, label: str, dimension: str, noun: str, key: str,
              names: dict[str, str] | None = None) -> None:
    """The rate by one dimension (source, closure reason, record type...) as bars with the overall line."""
    from ui.charts import breakdown_bar
    from ui.formatting import extremes_title

    frame = metric(view.period, view.filters, dimension)
    if frame.empty:
        nothing_matches(label.lower(), view)
        return
    overall = first_row(metric(view.period, view.filters, None)).get("rate")
    fig = breakdown_bar(frame, dimension, extremes_title(label, frame, dimension, noun, names), overall=overall,
                        labels=names)
    chart(fig, frame, f"{key}_by_{dimension}", key=key)


def headline(metric: Callable[..., pd.DataFrame], view: View, label: str, good_direction: str) -> dict[str, Any]:
    """A headline tile for a page (bordered, with the counts and the change on the previous period); returns the row."""
    current = first_row(metric(view.period, view.filters, None))
    previous = first_row(metric(view.previous, view.filters, None))
    with st.container(border=True):
        rate_tile(label, current, previous, good_direction, help=f"{view.label}, {view.scope}",
                  against=view.previous_label)
    return current
