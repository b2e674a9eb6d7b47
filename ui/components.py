"""Page furniture shared by every page: headers, empty-data notices, headline tiles, charts and tables with their downloads, sensitive lists, drill-downs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from ui import data
from ui.downloads import download_csv, human_label
from ui.filters import View
from ui.formatting import change_description, delta_colour, pct, points_change, points_text, rate_with_counts

log = logging.getLogger(__name__)
VIEW_KEY = "frontdoor_view"
DEMO_HINT = "python -m synthetic demo"


def page_header(title: str, question: str) -> None:
    """The page title and the question it answers."""
    st.title(title)
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
    change = points_change(current.get("rate"), previous.get("rate")) if previous else None
    st.metric(
        label,
        pct(current.get("rate")),
        delta=None if change is None else f"{change:+.1f} pts",
        delta_color=delta_colour(good_direction) if change else "off",
        delta_description=change_description(against, change, good_direction),
        help=help,
    )
    counts = rate_with_counts(current.get("rate"), current.get("numerator"), current.get("denominator"))
    if previous is not None and change is None:
        counts += " · no figure for the previous period"
    st.caption(counts)


CHART_DATA_LABEL = "Chart data as a table"
# Plotly's toolbar keeps only "Download plot as a PNG": each of its other buttons would be one more stop for
# every chart on the way through a page by keyboard, and the table gives the figures exactly.
CHART_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": [
    "zoom2d", "pan2d", "select2d", "lasso2d", "zoomIn2d", "zoomOut2d", "autoScale2d", "resetScale2d"]}


def chart(fig: go.Figure, frame: pd.DataFrame, name: str, key: str,
          labels: dict[str, dict[str, str]] | None = None) -> None:
    """A chart with, one click away, its data as a table (the text equivalent for screen readers), and the CSV of exactly its data."""
    st.plotly_chart(fig, key=f"{key}_chart", config=CHART_CONFIG)
    with st.expander(CHART_DATA_LABEL, icon=":material/table:"):
        table(chart_table(frame, labels), name, key=f"{key}_data", rates=CHART_RATES, download=False)
    download_csv(frame, name, key=f"{key}_csv", label="Download this chart's data (CSV)")


CHART_RATES = ("rate", "lcl", "ucl", "centre", "share", "population_share")


def chart_table(frame: pd.DataFrame, labels: dict[str, dict[str, str]] | None = None) -> pd.DataFrame:
    """A chart's frame as the chart labels it: category codes as their names, SPC signals in words."""
    from ui.charts import SIGNAL_TEXT

    out = frame.copy()
    for column, names in (labels or {}).items():
        if column in out:
            out[column] = out[column].map(lambda v, n=names: n.get(str(v), v) if pd.notna(v) else "Not recorded")
    if "signal" in out:
        out["signal"] = out["signal"].map(lambda s: SIGNAL_TEXT.get(str(s), str(s)) if pd.notna(s) else "none")
    return out


def table(frame: pd.DataFrame, name: str, key: str, *, rates: tuple[str, ...] = ("rate",), personal: bool = False,
          hide_index: bool = True, download: bool = True) -> None:
    """A table (readable headings, rates to one decimal place) with the CSV of exactly its rows.

    The table's own toolbar has no download (client.disableDataExport): only the project's labelled, neutralised one.
    """
    config = {c: st.column_config.NumberColumn(human_label(c), format="%.1f%%") for c in rates if c in frame}
    config.update({c: human_label(c) for c in frame.columns if c not in config})
    st.dataframe(frame, hide_index=hide_index, column_config=config, key=f"{key}_table")
    if download:
        download_csv(frame, name, key=f"{key}_csv", personal=personal,
                     label="Download these rows (CSV)" if personal else "Download this table (CSV)")


def sensitive_list(title: str, frame: pd.DataFrame, name: str, key: str, *, empty: str) -> None:
    """A child-level list behind an expander and a toggle marked sensitive; its download is marked personal data."""
    rows = f"{len(frame):,} row{'' if len(frame) == 1 else 's'}"
    with st.expander(f"🔒 Sensitive — {title} ({rows}, child-level personal data)"):
        st.caption("Special-category personal data. Open only if your role needs it; do not share outside the service.")
        if frame.empty:
            st.info(empty)
            return
        if st.toggle("Show child-level rows", key=f"{key}_show", value=False):
            table(frame, name, key, personal=True, rates=())


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
    chart(fig, frame, f"{key}_by_{dimension}", key=key, labels={dimension: names} if names else None)


def headline(metric: Callable[..., pd.DataFrame], view: View, label: str, good_direction: str) -> dict[str, Any]:
    """A headline tile for a page (bordered, with the counts and the change on the previous period); returns the row."""
    current = first_row(metric(view.period, view.filters, None))
    previous = first_row(metric(view.previous, view.filters, None))
    with st.container(border=True):
        rate_tile(label, current, previous, good_direction, help=f"{view.label}, {view.scope}",
                  against=view.previous_label)
    return current
