"""Page furniture shared by every page: headers, empty-data notices, headline tiles, charts and tables with their downloads (publishable when asked), child-level lists for the roles that may see them, drill-downs."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import metrics.funnel
import metrics.provisional
from metrics.params import MIN_DENOMINATOR
from ui import access, data
from ui.downloads import download_csv, human_label
from ui.filters import View
from ui.formatting import SUPPRESSION_MARK as SUPPRESSED
from ui.formatting import (
    change_description,
    count,
    delta_colour,
    is_missing,
    pct,
    points_change,
    provisional_note,
    rate_with_counts,
    scored_months,
    trend_change,
    verdict_clash,
)
from ui.headlines import Measure

log = logging.getLogger(__name__)
STRICT_ENV = "FRONTDOOR_STRICT_PAGES"
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
        st.warning(
            f"**The store is empty**: `{state.path}` has no contacts, referrals, assessments, "
            "children-in-need episodes or recordings yet."
        )
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
    st.info(
        f"No {what} for {view.scope} in {view.label}. Widen the period or choose another team or worker in the sidebar."
    )


@contextmanager
def section(name: str) -> Iterator[None]:
    """Draw a section; if it fails, say so in words (never a traceback) and carry on with the page.

    With FRONTDOOR_STRICT_PAGES set (the test suite sets it) the error is raised instead, so a renamed or broken
    metric fails its page's test rather than shipping as a polite message.
    """
    try:
        yield
    except data.StoreNotFound:
        st.warning(f"{name}: the store has gone since this page opened; reload the page.")
    except Exception as exc:
        if os.environ.get(STRICT_ENV):  # the tests: a broken metric fails the page test, it is not a message
            raise
        # Only the exception type is logged: messages can carry child-level values.
        log.warning("section %s failed: %s", name, type(exc).__name__)
        st.error(f"{name} could not be drawn ({type(exc).__name__}). The rest of the page is unaffected.")


def first_row(frame: pd.DataFrame) -> dict[str, Any]:
    """The single row of an overall (by=None) metric frame as a dict (zeros when empty)."""
    if frame.empty:
        return {"numerator": 0, "denominator": 0, "rate": float("nan")}
    return frame.iloc[0].to_dict()


def rate_tile(
    label: str,
    current: dict[str, Any],
    previous: dict[str, Any] | None,
    good_direction: str,
    *,
    help: str | None = None,
    against: str = "previous period",
    note: str | None = None,
) -> None:
    """A headline: the rate to one decimal place, the change in points against the previous period, the counts below.

    `note` says when a set filter does not apply to this measure (e.g. 'authority-wide (team not recorded on contacts)').
    """
    if access.publishable_view():
        current, previous = _publishable_row(current) or {}, _publishable_row(previous)
    change = points_change(current.get("rate"), previous.get("rate")) if previous else None
    st.metric(
        label,
        SUPPRESSED if current.get("suppressed") and is_missing(current.get("rate")) else pct(current.get("rate")),
        delta=None if change is None else f"{change:+.1f} pts",
        delta_color=delta_colour(good_direction) if change else "off",
        delta_description=change_description(against, change, good_direction),
        help=help,
    )
    counts = rate_with_counts(current.get("rate"), current.get("numerator"), current.get("denominator"))
    if current.get("suppressed"):
        counts = f"{SUPPRESSED} — small numbers withheld (publishable view): " + " of ".join(
            SUPPRESSED if is_missing(current.get(k)) else f"{int(current[k]):,}" for k in ("numerator", "denominator")
        )
    if previous is not None and change is None:
        counts += (
            " · no figure for the previous period (mostly not recorded there)"
            if previous.get("mostly_not_recorded")
            else " · no figure for the previous period"
        )
    not_recorded = current.get("not_recorded")
    if not_recorded is not None and not is_missing(not_recorded) and int(not_recorded):
        counts += f" · {count(not_recorded)} not recorded (left out of the rate)"
    st.caption(counts)
    if note:
        st.caption(
            f"⚠ {note.capitalize()}: the team and worker filters do not change this figure."
            if note.startswith("authority-wide")
            else f"⚠ {note.capitalize()}."
        )


def _publishable_row(row: dict[str, Any] | None) -> dict[str, Any] | None:
    """A headline row with a small numerator or denominator (and its rate) withheld, for the publishable view."""
    if row is None:
        return None
    from metrics.privacy import suppression_mask

    frame = pd.DataFrame([row])
    hidden = suppression_mask(frame, access.threshold()).iloc[0]
    return {k: (float("nan") if hidden.get(k, False) else v) for k, v in row.items()} | {
        "suppressed": bool(hidden.any())
    }


def publishable_frame(frame: pd.DataFrame, threshold: int | None = None) -> pd.DataFrame:
    """The frame as it may leave the service: withheld cells 'c', rates and shares to one decimal place (small
    numbers below `threshold`, else the access settings' threshold)."""
    from metrics.privacy import DERIVED_COLUMNS, publishable

    out = publishable(frame, access.threshold() if threshold is None else threshold)
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


CHART_DATA_LABEL = "Chart data as a table"
# Plotly's toolbar keeps only "Download plot as a PNG": each of its other buttons would be one more stop for
# every chart on the way through a page by keyboard, and the table gives the figures exactly.
CHART_CONFIG = {
    "displaylogo": False,
    "modeBarButtonsToRemove": [
        "zoom2d",
        "pan2d",
        "select2d",
        "lasso2d",
        "zoomIn2d",
        "zoomOut2d",
        "autoScale2d",
        "resetScale2d",
    ],
}


def _period_text() -> str | None:
    view = current_view()
    return f"{view.label} ({view.period.start.isoformat()} to {view.period.end.isoformat()})" if view else None


def chart(
    fig: go.Figure,
    frame: pd.DataFrame,
    name: str,
    key: str,
    labels: dict[str, dict[str, str]] | None = None,
    *,
    measure: str | None = None,
    headings: dict[str, str] | None = None,
) -> None:
    """A chart with, one click away, its data as a table (the text equivalent for screen readers), and the CSV of
    exactly its data; in the publishable view a chart that would show a small count is replaced by its publishable
    table."""
    if access.publishable_view() and _needs_suppression(frame):
        st.caption(
            "Publishable view: this chart would show small numbers, so its figures are shown as a table with "
            "the small numbers withheld ('c')."
        )
        table(frame, name, key=key, rates=(), measure=measure, headings=headings)
        return
    st.plotly_chart(fig, key=f"{key}_chart", config=CHART_CONFIG)
    with st.expander(CHART_DATA_LABEL, icon=":material/table:"):
        table(chart_table(frame, labels), name, key=f"{key}_data", rates=CHART_RATES, download=False, headings=headings)
    download_csv(  # the CSV is made when its button is clicked, outside this run: the threshold is read now
        functools.partial(publishable_frame, frame, access.threshold()) if access.publishable_view() else frame,
        name,
        key=f"{key}_csv",
        label="Download this chart's data (CSV)",
        measure=measure,
        period=_period_text(),
        headings=headings,
    )


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


def table(
    frame: pd.DataFrame,
    name: str,
    key: str,
    *,
    rates: tuple[str, ...] = ("rate",),
    personal: bool = False,
    hide_index: bool = True,
    download: bool = True,
    measure: str | None = None,
    headings: dict[str, str] | None = None,
) -> None:
    """A table (readable headings, rates to one decimal place) with the CSV of exactly its rows; publishable (small
    numbers 'c') in the publishable view.

    The table's own toolbar has no download (client.disableDataExport): only the project's labelled, neutralised one.
    """
    if access.publishable_view() and not personal:
        frame, rates = publishable_frame(frame), ()
    config = {c: st.column_config.NumberColumn(human_label(c, headings), format="%.1f%%") for c in rates if c in frame}
    config.update({c: human_label(c, headings) for c in frame.columns if c not in config})
    st.dataframe(frame, hide_index=hide_index, column_config=config, key=f"{key}_table")
    if download:
        download_csv(
            frame,
            name,
            key=f"{key}_csv",
            personal=personal,
            label="Download these rows (CSV)" if personal else "Download this table (CSV)",
            measure=None if personal else measure,
            period=None if personal or measure is None else _period_text(),
            headings=headings,
        )


def may_see(grant: str = access.CHILD_LISTS) -> bool:
    """Whether the current role may see child-level rows of this kind (lists, or data-quality failing rows)."""
    return access.current().can(grant)


def sensitive_list(
    title: str,
    frame: pd.DataFrame | Callable[[], pd.DataFrame],
    name: str,
    key: str,
    *,
    empty: str,
    grant: str = access.CHILD_LISTS,
    rows_known: int | None = None,
) -> None:
    """A child-level list, only for roles granted it (absent for the others), in an expander whose rows are sent to
    the browser only when opened; each opening is one audit entry; its download is marked personal data.

    `frame` may be a function giving the list, with `rows_known` its number of rows: the list is then
    fetched only when the expander is opened, so a costly list does not slow the page's first view.
    """
    if not may_see(grant):
        return
    if rows_known is None:
        frame = _list_frame(frame)
    n = len(frame) if isinstance(frame, pd.DataFrame) else int(rows_known or 0)
    rows = f"{n:,} row{'' if n == 1 else 's'}"
    expander = st.expander(
        f"🔒 Sensitive — {title} ({rows}, child-level personal data)", key=f"{key}_open", on_change="rerun"
    )
    with expander:
        if not expander.open:
            st.session_state.pop(f"{key}_audited", None)
            return
        st.caption("Special-category personal data. Open only if your role needs it; do not share outside the service.")
        frame = _list_frame(frame)
        if frame.empty:
            st.info(empty)
            return
        audit_view(name, key, len(frame))
        table(frame, name, key, personal=True, rates=())


def _list_frame(frame: pd.DataFrame | Callable[[], pd.DataFrame]) -> pd.DataFrame:
    return frame() if callable(frame) else frame


def audit_view(name: str, key: str, rows: int) -> None:
    """One audit entry per opening of a list (and again when the filters change while it is open)."""
    from ui.downloads import audit_filters

    filters = audit_filters()
    seen = (name, rows, tuple(sorted(filters.items())))
    if st.session_state.get(f"{key}_audited") != seen:
        access.record("view_list", what=name, rows=rows, filters=filters)
        st.session_state[f"{key}_audited"] = seen


def about(measure: Measure, label: str | None = None) -> dict[str, Any]:
    """What a chart or table of the measure says about it, from the registry: the CSV's measure and its headings."""
    return {"measure": label or measure.label, "headings": measure.definition.headings()}


def drilldown(measure: Measure, view: View, key: str) -> None:
    """From the authority to a team to its workers: rates by team, then by worker for a chosen team."""
    from metrics.params import Filters
    from ui.charts import breakdown_bar
    from ui.formatting import extremes_title

    label, axis, of = measure.label, measure.definition.value_title, measure.definition.records
    overall = first_row(measure(view.period, view.filters, None)).get("rate")
    team = view.filters.team
    if team is None:
        by_team = measure(view.period, view.filters, "team")
        if by_team.empty:
            nothing_matches(label.lower(), view)
            return
        funnel(by_team, "team", "team", measure, overall, key=f"{key}_team")
        with st.expander("The same as bars, with n on each"):
            chart(
                breakdown_bar(
                    by_team,
                    "team",
                    extremes_title(label, by_team, "team", "team"),
                    overall=overall,
                    value_title=axis,
                    of=of,
                ),
                by_team,
                f"{key}_by_team",
                key=f"{key}_team_bars",
                **about(measure),
            )
        teams = [str(t) for t in by_team["team"].dropna()]
        team = st.selectbox("Drill into a team to see its workers", ["—"] + teams, key=f"{key}_drill")
        if team == "—":
            return
    by_worker = measure(view.period, Filters(team=team, worker=view.filters.worker), "worker")
    if by_worker.empty:
        nothing_matches(label.lower(), view)
        return
    team_rate = first_row(measure(view.period, Filters(team=team), None)).get("rate")
    funnel(by_worker, "worker", "worker", measure, team_rate, key=f"{key}_worker", within=str(team))
    with st.expander("The same as bars, with n on each"):
        chart(
            breakdown_bar(
                by_worker,
                "worker",
                extremes_title(f"{label} in {team}", by_worker, "worker", "worker"),
                overall=team_rate,
                value_title=axis,
                of=of,
            ),
            by_worker,
            f"{key}_{team}_by_worker",
            key=f"{key}_worker_bars",
            **about(measure, f"{label} in {team}"),
        )


def funnel(
    frame: pd.DataFrame, dimension: str, noun: str, measure: Measure, target: Any, key: str, within: str | None = None
) -> None:
    """Teams or workers (`within` a team) on a funnel plot around `target` (the rate of the level above), with its CSV."""
    from ui.charts import funnel_chart
    from ui.formatting import funnel_title

    if is_missing(target):
        return
    label = measure.label if within is None else f"{measure.label} in {within}"
    placed = data.call_pure(metrics.funnel.funnel_limits, frame=frame, target_pct=float(target))
    curve = data.call_pure(
        metrics.funnel.funnel_curve, target_pct=float(target), max_n=float(frame["denominator"].max() or 1)
    )
    chart(
        funnel_chart(
            placed,
            curve,
            dimension,
            funnel_title(label, placed, dimension, noun, float(target)),
            float(target),
            value_title=measure.definition.value_title,
            of=measure.definition.records,
        ),
        placed,
        f"{key}_funnel",
        key=f"{key}_funnel",
        **about(measure, label),
    )
    st.caption(
        "Each dot is one " + noun + ": rate against its number of records. Inside the dashed (95%) and dotted "
        "(99.8%) limits, a difference from the authority is what chance alone would give; grey dots have "
        f"fewer than {MIN_DENOMINATOR} records "
        "and are not compared."
    )


def monthly_series(measure: Measure, view: View, **provisional: Any) -> pd.DataFrame:
    """The monthly rate with provisional months marked (see metrics.provisional) and SPC limits."""
    monthly = measure(view.period, view.filters, "month")
    if not monthly.empty:
        start = data.call(metrics.provisional.provisional_from, measure.code, **provisional)
        monthly = data.call_pure(metrics.provisional.mark_provisional, monthly=monthly, start=start)
    made_from = data.plain_key(
        (data.qualified_name(measure.function), sorted(measure.params.items()), view.period, view.filters)
        + tuple(sorted(provisional.items()))
    )
    return data.with_spc(monthly, made_from)


def trend(measure: Measure, view: View, key: str, **provisional: Any) -> None:
    """The monthly rate over the period with SPC limits and signals, its finding as the title, and its CSV.

    Months not yet due are provisional (hollow, unscored) and a set filter that does not apply is said; when
    the chart's verdict is the opposite of the tile's, a caption says why. Label and direction: the registry's.
    """
    from metrics.provisional import REASONS
    from metrics.registry import scope_note
    from ui.charts import trend_chart
    from ui.formatting import trend_title

    label, good_direction, definition = measure.label, measure.good_direction, measure.definition
    monthly = monthly_series(measure, view, **provisional)
    if monthly.empty or monthly["denominator"].fillna(0).sum() == 0:
        nothing_matches(label.lower(), view)
        return
    note = scope_note(measure.code, view.filters)
    title = trend_title(label, monthly, good_direction) + (f" — {note}" if note else "")
    fig = trend_chart(monthly, title, y_title=definition.value_title, of=definition.records)
    chart(fig, monthly, f"{key}_by_month", key=key, **about(measure))
    captions = [provisional_note(monthly, REASONS.get(measure.code, "not yet due"))]
    if "mostly_not_recorded" in monthly and monthly["mostly_not_recorded"].any():
        months = int(monthly["mostly_not_recorded"].sum())
        captions.append(
            f"{months} month{'s' if months > 1 else ''} where most values are not recorded: shaded, "
            "with no rate drawn (not recorded is not 'no')."
        )
    tile = points_change(
        first_row(measure(view.period, view.filters, None)).get("rate"),
        first_row(measure(view.previous, view.filters, None)).get("rate"),
    )
    scored = scored_months(monthly)
    signalled = "signal" not in scored or bool(scored["signal"].notna().any())
    captions.append(verdict_clash(tile, trend_change(monthly), good_direction, view.previous_label, signalled))
    for caption in filter(None, captions):
        st.caption(caption)


def breakdown(
    measure: Measure,
    view: View,
    dimension: str,
    noun: str,
    key: str,
    names: dict[str, str] | None = None,
) -> None:
    """The rate by one dimension (source, closure reason, record type...) as bars with the overall line."""
    from ui.charts import breakdown_bar
    from ui.formatting import extremes_title

    label = measure.label
    frame = measure(view.period, view.filters, dimension)
    if frame.empty:
        nothing_matches(label.lower(), view)
        return
    overall = first_row(measure(view.period, view.filters, None)).get("rate")
    fig = breakdown_bar(
        frame,
        dimension,
        extremes_title(label, frame, dimension, noun, names),
        overall=overall,
        labels=names,
        value_title=measure.definition.value_title,
        of=measure.definition.records,
    )
    chart(fig, frame, f"{key}_by_{dimension}", key=key, labels={dimension: names} if names else None, **about(measure))


def headline(measure: Measure, view: View) -> dict[str, Any]:
    """A headline tile for a page (bordered, with the counts and the change on the previous period); returns the row.

    Label, good direction and whether each set filter applies come from the measure's registry entry.
    """
    from metrics.registry import scope_note

    current = first_row(measure(view.period, view.filters, None))
    previous = first_row(measure(view.previous, view.filters, None))
    with st.container(border=True):
        rate_tile(
            measure.label,
            current,
            previous,
            measure.good_direction,
            help=f"{measure.definition.wording} {view.label}, {view.scope}.",
            against=view.previous_label,
            note=scope_note(measure.code, view.filters),
        )
    return current
