"""Data quality: what the expectations found on each load, the failing rows to fix at source, and the Data Docs."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import expectations.dfe_cin.readiness
import expectations.report
from ui import data
from ui.access import FAILING_ROWS
from ui.charts import dq_trend_chart, readiness_trend_chart
from ui.components import chart, may_see, page_header, require, section, sensitive_list, table
from ui.downloads import download_csv

FAILURE_COLUMNS = ["child_id", "source_file", "sheet", "row_number", "value", "problem"]


def summary() -> None:
    frame = data.frame(expectations.report.dq_summary)
    if frame.empty:
        st.info("No expectation results yet: checks run on every load (`python -m ingest FILE... --store PATH`).")
        return
    failed = int(frame["checks_failed"].sum()) if "checks_failed" in frame else 0
    st.metric(
        "Failing expectations on the latest load",
        f"{failed:,}",
        border=True,
        help="Expectations (DfE validation rules and house checks) that failed on the latest load.",
    )
    table(frame, "data_quality_summary", key="dq_summary", rates=())


def per_load(trend: pd.DataFrame) -> pd.DataFrame:
    """Failing checks and failing rows per load and severity, from the per-check results."""
    failed = trend.assign(
        failed=~trend["success"].astype(bool), failing_rows=trend["unexpected_count"].fillna(0).astype("int64")
    )
    keys = ["load_id", "load"] if "load" in failed else ["load_id"]
    return failed.groupby([*keys, "severity"], as_index=False).agg(
        as_of=("as_of", "max"),
        checks=("check_id", "count"),
        failed=("failed", "sum"),
        failing_rows=("failing_rows", "sum"),
    )


def trend() -> None:
    frame = data.frame(expectations.report.dq_trend)
    if frame.empty:
        st.info("The trend appears after the first load with checks.")
        return
    loads = per_load(frame)
    x = "load" if "load" in loads else "load_id"  # the load's date and file name, not its internal id
    chart(dq_trend_chart(loads, x=x), loads, "data_quality_trend", key="dq_trend")


def failing_checks() -> None:
    checks = data.frame(expectations.report.dq_failing_checks)
    if checks.empty:
        st.success("Every expectation passed on the latest load.")
        return
    st.markdown(f"**{len(checks):,} failing expectation{'s' if len(checks) != 1 else ''}** on the latest load.")
    table(checks, "data_quality_failing_checks", key="dq_checks", rates=("unexpected_percent",))
    if not may_see(FAILING_ROWS):
        return  # failing rows carry child ids: absent for roles without them
    ids = [str(c) for c in checks["check_id"]]
    described = dict(zip(ids, checks.get("title", ids)))
    check = st.selectbox(
        "Failing rows of one expectation",
        ids,
        key="dq_check",
        format_func=lambda c: f"{c} — {described.get(c, '')}"[:120],
    )
    rows = data.rows(expectations.report.dq_failure_rows, check_id=check)
    rows = rows[[c for c in FAILURE_COLUMNS if c in rows.columns]]
    sensitive_list(
        f"rows failing {check}",
        rows,
        f"data_quality_failures_{check}",
        key="dq_rows",
        empty="No row-level detail is kept for this expectation.",
        grant=FAILING_ROWS,
    )


def all_failures() -> None:
    rows = data.rows(expectations.report.dq_failure_rows)
    rows = rows[[c for c in FAILURE_COLUMNS if c in rows.columns]]
    st.markdown(
        f"All failing rows of the latest load: **{len(rows):,}** (child id, source file, sheet, row number, "
        "value, what is wrong) — to fix at source."
    )
    if not rows.empty:
        download_csv(
            rows, "data_quality_failing_rows", key="dq_all_csv", personal=True, label="Download all failing rows (CSV)"
        )


def _file_label(files: pd.DataFrame) -> dict[int, str]:
    return {
        int(r.load_id): f"{r.source_file} — census {r.census_year}, loaded {r.loaded_on:%Y-%m-%d}"
        for r in files.itertuples()
    }


def return_readiness() -> None:
    """Per CIN census file: DfE errors that block the return, queries to explain, by rule, and the rows to fix."""
    files = data.frame(expectations.dfe_cin.readiness.return_files)
    if files.empty:
        st.info("No CIN census file loaded yet: DfE's rules run on each CIN census file as it is loaded.")
        return
    labels = _file_label(files)
    load_id = st.selectbox("CIN census file", list(labels), key="dq_return_file", format_func=labels.get)
    chosen = files[files["load_id"] == load_id].iloc[0]
    left, right = st.columns(2)
    left.metric(
        "Errors that would block the return",
        f"{int(chosen['errors']):,}",
        border=True,
        help="Findings of DfE error rules on this file as submitted: fix each before the return goes in.",
    )
    right.metric(
        "Queries to correct or explain",
        f"{int(chosen['queries']):,}",
        border=True,
        help="Findings of DfE query rules: correct them, or give DfE a reason.",
    )
    if int(chosen["errors"]) == 0:
        st.success("No DfE error on this file: nothing blocks the return.")
    by_rule = data.frame(expectations.dfe_cin.readiness.rule_counts, load_id)
    if not by_rule.empty:
        table(by_rule, f"dfe_rules_{chosen['source_file']}", key="dq_return_rules", rates=())
    rows = data.rows(expectations.dfe_cin.readiness.return_rows, load_id)
    sensitive_list(
        f"DfE findings in {chosen['source_file']}",
        rows,
        f"dfe_findings_{chosen['source_file']}",
        key="dq_return_rows",
        empty="No DfE finding on this file.",
        grant=FAILING_ROWS,
    )
    trend = data.frame(expectations.dfe_cin.readiness.readiness_trend)
    chart(readiness_trend_chart(trend), trend, "dfe_readiness_trend", key="dq_return_trend")


def render() -> None:
    page_header("Data quality", "What did the checks find on each load, and which rows need fixing at source?")
    if require("contacts", "referrals", "assessments", "cin_episodes", "recordings") is None:
        return
    st.subheader("CIN census return readiness (DfE rules, per file as submitted)")
    with section("Return readiness"):
        return_readiness()
    with section("Data Docs"):
        url = data.call_pure(expectations.report.data_docs_url)
        if url:
            st.link_button(
                "Open the Data Docs (full expectation results)", url, key="dq_docs", icon=":material/open_in_new:"
            )
        else:
            st.caption("Data Docs have not been built for this store yet: they are written on each load.")
    st.subheader("Summary by table and severity")
    with section("Summary"):
        summary()
    st.subheader("Over loads")
    with section("Trend"):
        trend()
    st.subheader("Failing expectations")
    with section("Failing expectations"):
        failing_checks()
    if may_see(FAILING_ROWS):
        with section("All failing rows"):
            all_failures()


render()
