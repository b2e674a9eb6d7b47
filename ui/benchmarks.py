"""Compared with whom: published DfE re-referral rates for England, the region, the statistical neighbours and the authority."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import metrics.benchmarks
from ui import data
from ui.charts import benchmark_chart
from ui.components import chart


def year_label(year: int) -> str:
    """DfE years end on 31 March: 2025 -> '2024-25'."""
    return f"{year - 1}-{str(year)[-2:]}"


def benchmarks() -> pd.DataFrame:
    """Published rates by year; the authority is FRONTDOOR_LA_CODE (else the metrics default)."""
    code = data.la_code()
    return data.frame_pure(metrics.benchmarks.re_referral_benchmarks, **({"la_code": code} if code else {}))


def authority_name(bench: pd.DataFrame) -> str:
    """The authority's own area name (its row comes last in each year)."""
    return str(bench[bench["year"] == bench["year"].max()].iloc[-1]["area"])


def benchmark_title(bench: pd.DataFrame, authority: str) -> str:
    """The finding: how far the authority's latest published rate is from England's."""
    latest_year = int(bench["year"].max())
    latest = bench[bench["year"] == latest_year].set_index("area")["rate"]
    if authority not in latest or "England" not in latest:
        return "Published re-referral rates by year"
    change = float(latest[authority] - latest["England"])
    side = "below" if change < 0 else "above" if change > 0 else "level with"
    gap = f"{abs(change):.1f} pts " if change else ""
    return f"{authority}'s published re-referral rate was {gap}{side} England in {year_label(latest_year)}"


def benchmark_section(key: str) -> None:
    """The benchmark chart with its CSV."""
    bench = benchmarks()
    if bench.empty:
        st.info("No published benchmark figures are available for this authority (set FRONTDOOR_LA_CODE).")
        return
    authority = authority_name(bench)
    chart(
        benchmark_chart(bench, benchmark_title(bench, authority), highlight=authority),
        bench,
        "re_referral_benchmarks",
        key=key,
    )
