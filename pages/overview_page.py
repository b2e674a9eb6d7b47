"""Overview, the landing page: are we getting better, where, and compared with whom."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import metrics.coverage
import metrics.funnel
import metrics.re_referrals
from metrics.params import MIN_DENOMINATOR
from metrics.registry import scope_note
from ui import data
from ui.benchmarks import authority_name, benchmark_section, benchmarks, year_label
from ui.charts import sparkline
from ui.components import first_row, monthly_series, page_header, rate_tile, require, section, table, withheld
from ui.filters import View
from ui.formatting import count, delta_colour, pct, points_change
from ui.headlines import HEADLINES, Headline, Measure


def history_warnings(view: View) -> None:
    for warning in data.call(metrics.coverage.history_warnings, view.period):
        st.warning(warning, icon=":material/warning:")


def headline_tile(headline: Headline, view: View) -> None:
    """One tile: the rate, counts, change on the previous period, and the monthly trend with SPC signals."""
    current = first_row(headline.rate(view.period, view.filters))
    previous = first_row(headline.rate(view.previous, view.filters))
    note = scope_note(headline.code, view.filters)
    rate_tile(
        headline.label,
        current,
        previous,
        headline.good_direction,
        help=f"{headline.definition.wording} {view.label}, {view.scope if note is None else 'the authority'}; "
        f"change against {view.previous_label}.",
        against=view.previous_label,
        note=note,
    )
    if not current.get("denominator"):
        st.caption(f"No {headline.what} in this period for {view.scope}.")
        return
    monthly = withheld(monthly_series(headline, view, **headline.provisional))
    signals = monthly["signal"].notna().sum() if "signal" in monthly else 0
    st.plotly_chart(sparkline(monthly), key=f"overview_{headline.key}_spark", config={"displayModeBar": False})
    notes = []
    if "provisional" in monthly and monthly["provisional"].any():
        notes.append(f"{int(monthly['provisional'].sum())} provisional month(s), hollow, not scored")
    if "mostly_not_recorded" in monthly and monthly["mostly_not_recorded"].any():
        notes.append(f"{int(monthly['mostly_not_recorded'].sum())} month(s) mostly not recorded, not drawn")
    if signals:
        where = f"see the {headline.page} page" if headline.page else "hover the chart for the months"
        notes.append(f"⚠ {signals} month(s) with an SPC signal: {where}")
    if notes:
        st.caption("; ".join(notes) + ".")


def headline_tiles(state: data.StoreState, view: View) -> None:
    shown = [h for h in HEADLINES if state.has(h.entity)]
    missing = sorted({h.entity for h in HEADLINES if not state.has(h.entity)})
    for row_start in range(0, len(shown), 3):
        columns = st.columns(3)
        for column, headline in zip(columns, shown[row_start : row_start + 3]):
            with column, st.container(border=True, height="stretch"), section(headline.label):
                headline_tile(headline, view)
    if missing:
        st.info(
            "Not shown because not loaded: "
            + ", ".join(data.ENTITY_LABELS[e] for e in missing)
            + f". Load them with `{state.load_hint()}`."
        )


def compared_with_whom(view: View) -> None:
    """The re-referral rate against England, the region and the statistical neighbours (latest published year)."""
    bench = benchmarks()
    if bench.empty:
        st.info("No published benchmark figures are available for this authority (set FRONTDOOR_LA_CODE).")
        return
    rate = Measure(metrics.re_referrals.re_referral_rate)
    local = first_row(rate(view.period, view.filters))
    latest_year = int(bench["year"].max())
    authority = authority_name(bench)
    comparators = bench[(bench["year"] == latest_year) & (bench["area"] != authority)]
    columns = st.columns(len(comparators) + 1)
    with columns[0], st.container(border=True, height="stretch"):
        rate_tile(
            f"Here, {view.label}",
            local,
            None,
            rate.good_direction,
            help="This period's local rate, from the loaded data.",
        )
    for column, (_, row) in zip(columns[1:], comparators.iterrows()):
        change = points_change(local.get("rate"), row["rate"])
        with column, st.container(border=True, height="stretch"):
            st.metric(
                f"{row['area']} ({year_label(latest_year)})",
                pct(row["rate"]),
                delta=None if change is None else f"{change:+.1f} pts",
                delta_description=None if change is None else "here vs there",
                delta_color=delta_colour(rate.good_direction) if change else "off",
                help="Published DfE re-referral rate; the delta is this period's local rate minus it.",
            )
            st.caption(f"{pct(row['rate'])} ({count(row['re_referrals'])} of {count(row['referrals'])})")
    benchmark_section("overview_benchmarks")


def where(state: data.StoreState, view: View) -> None:
    """Which teams stand out on re-referrals and assessment timeliness."""
    if view.filters.team is not None:
        st.caption(f"Filtered to {view.scope}: see the Re-referrals and Timeliness pages for workers.")
    rows = []
    for headline in HEADLINES[:2]:
        if not state.has(headline.entity):
            continue
        by_team = headline.rate(view.period, view.filters, by="team")
        overall = first_row(headline.rate(view.period, view.filters)).get("rate")
        if by_team.empty or overall is None or pd.isna(overall):
            continue
        placed = data.call_pure(metrics.funnel.funnel_limits, frame=by_team, target_pct=float(overall))
        for _, r in placed.iterrows():
            rows.append(
                {
                    "measure": headline.label,
                    "team": r["team"],
                    "numerator": r["numerator"],
                    "denominator": r["denominator"],
                    "rate": r["rate"],
                    "against_the_authority": r["position"],
                }
            )
    if rows:
        table(pd.DataFrame(rows), "overview_by_team", key="overview_by_team")
        st.caption(
            f"'Against the authority' places each team on a funnel plot (exact binomial 95% and 99.8% limits "
            f"around the authority's rate): within the limits is what chance alone would give; teams with "
            f"fewer than {MIN_DENOMINATOR} records are not compared."
        )


def render() -> None:
    page_header(
        "Overview",
        "Are we getting better, where, and compared with whom? "
        "Rates are percentages to one decimal place, with the counts behind them.",
    )
    ready = require("referrals", "assessments", "contacts", "recordings", "cin_episodes")
    if ready is None:
        return
    state, view = ready
    st.markdown(f"**{view.label}** · {view.scope} · compared with {view.previous_label}")
    with section("History warnings"):
        history_warnings(view)
    headline_tiles(state, view)
    if state.has("referrals"):
        st.subheader("Compared with whom: re-referrals against England, the region and statistical neighbours")
        with section("Benchmarks"):
            compared_with_whom(view)
    st.subheader("Where: by team")
    with section("By team"):
        where(state, view)


render()
