"""Overview, the landing page: are we getting better, where, and compared with whom."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui import data
from ui.benchmarks import authority_name, benchmark_section, benchmarks, year_label
from ui.charts import sparkline
from ui.components import chart, first_row, page_header, rate_tile, require, section, table, withheld
from ui.filters import View
from ui.formatting import count, pct, points_change
from ui.headlines import HEADLINES, Headline


def history_warnings(view: View) -> None:
    for warning in data.call("metrics.coverage.history_warnings", view.period):
        st.warning(warning, icon=":material/warning:")


def headline_tile(headline: Headline, view: View) -> None:
    """One tile: the rate, counts, change on the previous period, and the monthly trend with SPC signals."""
    current = first_row(headline.rate(view.period, view.filters))
    previous = first_row(headline.rate(view.previous, view.filters))
    rate_tile(headline.label, current, previous, headline.good_direction,
              help=f"{view.label}, {view.scope}; change against {view.previous_label}.",
              against=view.previous_label)
    if not current.get("denominator"):
        st.caption(f"No {headline.what} in this period for {view.scope}.")
        return
    monthly = withheld(data.with_spc(headline.rate(view.period, view.filters, by="month")))
    signals = monthly["signal"].notna().sum() if "signal" in monthly else 0
    st.plotly_chart(sparkline(monthly), key=f"overview_{headline.key}_spark", config={"displayModeBar": False})
    if signals:
        st.caption(f"⚠ {signals} month(s) with an SPC signal: see the {headline.label.split()[0].lower()} page.")


def headline_tiles(state: data.StoreState, view: View) -> None:
    shown = [h for h in HEADLINES if state.has(h.entity)]
    missing = sorted({h.entity for h in HEADLINES if not state.has(h.entity)})
    for row_start in range(0, len(shown), 3):
        columns = st.columns(3)
        for column, headline in zip(columns, shown[row_start:row_start + 3]):
            with column, st.container(border=True, height="stretch"), section(headline.label):
                headline_tile(headline, view)
    if missing:
        st.info("Not shown because not loaded: " + ", ".join(data.ENTITY_LABELS[e] for e in missing)
                + f". Load them with `{state.load_hint()}`.")


def compared_with_whom(view: View) -> None:
    """The re-referral rate against England, the region and the statistical neighbours (latest published year)."""
    bench = benchmarks()
    if bench.empty:
        st.info("No published benchmark figures are available for this authority (set FRONTDOOR_LA_CODE).")
        return
    local = first_row(data.frame("metrics.re_referrals.re_referral_rate", period=view.period, filters=view.filters))
    latest_year = int(bench["year"].max())
    authority = authority_name(bench)
    comparators = bench[(bench["year"] == latest_year) & (bench["area"] != authority)]
    columns = st.columns(len(comparators) + 1)
    with columns[0], st.container(border=True, height="stretch"):
        rate_tile(f"Here, {view.label}", local, None, "down", help="This period's local rate, from the loaded data.")
    for column, (_, row) in zip(columns[1:], comparators.iterrows()):
        change = points_change(local.get("rate"), row["rate"])
        with column, st.container(border=True, height="stretch"):
            st.metric(f"{row['area']} ({year_label(latest_year)})", pct(row["rate"]),
                      delta=None if change is None else f"{change:+.1f} pts",
                      delta_description=None if change is None else "here vs there",
                      delta_color="inverse" if change else "off",
                      help="Published DfE re-referral rate; the delta is this period's local rate minus it.")
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
        for _, r in by_team.iterrows():
            rows.append({"measure": headline.label, "team": r["team"], "numerator": r["numerator"],
                         "denominator": r["denominator"], "rate": r["rate"]})
    if rows:
        table(pd.DataFrame(rows), "overview_by_team", key="overview_by_team")


def render() -> None:
    page_header("Overview", "Are we getting better, where, and compared with whom? "
                "Rates are percentages to one decimal place, with the counts behind them.")
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
