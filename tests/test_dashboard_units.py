"""Unit tests of the dashboard's pure parts: number formatting, CSV downloads, chart functions, period arithmetic."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest

from metrics.params import Period
from ui import charts
from ui.downloads import BOM, csv_bytes, human_label, neutralise, safe_name
from ui.filters import parse_date, previous_period
from ui.formatting import (
    extremes_title,
    pct,
    period_label,
    points_change,
    rate_with_counts,
    trend_finding,
    trend_title,
)


# --- formatting ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "rate, text",
    [(21.456, "21.5%"), (22.6, "22.6%"), (0, "0.0%"), (100, "100.0%"), (float("nan"), "–"), (None, "–"), (pd.NA, "–")],
)
def test_rates_read_as_the_dfe_prints_them(rate: object, text: str) -> None:
    assert pct(rate) == text


def test_counts_sit_beside_the_rate() -> None:
    assert rate_with_counts(21.5, 604, 2806) == "21.5% (604 of 2,806)"


def test_change_is_in_points_and_undefined_without_both_rates() -> None:
    assert points_change(23.4, 20.1) == 3.3
    assert points_change(float("nan"), 20.1) is None


def test_titles_state_the_finding_and_whether_it_is_better() -> None:
    assert (
        trend_finding("Re-referral rate", 30.0, 22.0, "down", "Apr", "Mar")
        == "Re-referral rate fell from 30.0% (Apr) to 22.0% (Mar): better"
    )
    assert trend_finding("Timeliness", 90.0, 80.0, "up", "Apr", "Mar").endswith(": worse")
    assert "held steady at 50.0%" in trend_finding("X", 50.0, 50.0, "up", "a", "b")


def test_trend_title_pools_the_first_and_last_months_and_counts_signals() -> None:
    monthly = pd.DataFrame(
        {
            "month": [date(2024, m, 1) for m in range(1, 7)],
            "numerator": [1, 1, 1, 3, 3, 3],
            "denominator": [10] * 6,
            "rate": [10.0, 10, 10, 30, 30, 30],
            "signal": [None, None, None, None, None, "above"],
        }
    )
    assert (
        trend_title("Rate", monthly, "down")
        == "Rate rose from 10.0% (Jan 2024–Mar 2024) to 30.0% (Apr 2024–Jun 2024): worse; 1 month with an SPC signal"
    )


def test_extremes_title_names_highest_and_lowest() -> None:
    frame = pd.DataFrame(
        {
            "team": ["A", "B", "C"],
            "numerator": [1, 3, 0],
            "denominator": [10, 10, 0],
            "rate": [10.0, 30.0, float("nan")],
        }
    )
    assert extremes_title("Rate", frame, "team", "team") == "Rate by team: highest B (30.0%), lowest A (10.0%)"


def test_small_numbers_are_suppressed_as_the_dfe_marks_them() -> None:
    from metrics.privacy import publishable

    one = [publishable(pd.DataFrame({"count": [v]}), 5)["count"].iloc[0] for v in (0, 1, 4, 5, None)]
    assert one == [0, "c", "c", 5, None]


def test_period_labels_and_the_previous_period() -> None:
    year = Period(date(2024, 4, 1), date(2025, 3, 31))
    assert period_label(year.start, year.end) == "Apr 2024 – Mar 2025"
    assert previous_period(year) == Period(date(2023, 4, 1), date(2024, 3, 31))
    assert previous_period(Period(date(2024, 3, 1), date(2024, 3, 31))) == Period(date(2024, 2, 1), date(2024, 2, 29))
    assert previous_period(Period(date(2024, 3, 10), date(2024, 3, 19))) == Period(date(2024, 2, 29), date(2024, 3, 9))
    assert parse_date("2024-10-01") == date(2024, 10, 1) and parse_date("01/10/2024") is None


# --- downloads -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "cell, safe",
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+44 123", "'+44 123"),
        ("-cmd", "'-cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab", "'\tTab"),
        ("\rCR", "'\rCR"),
        ("-1.5", "-1.5"),
        ("+3", "+3"),
        ("Team North", "Team North"),
        (12, 12),
    ],
)
def test_cells_a_spreadsheet_would_run_are_neutralised(cell: object, safe: object) -> None:
    assert neutralise(cell) == safe


def test_csv_has_a_bom_readable_headings_and_safe_cells() -> None:
    frame = pd.DataFrame({"child_id": ["=1+1", "C02"], "working_days_open": [46, 50], "rate": [12.345, None]})
    data = csv_bytes(frame)
    assert data.startswith(BOM.encode("utf-8"))
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str)
    assert list(back.columns) == ["Child ID", "Working days open", "Rate (%)"]
    assert back["Child ID"].tolist() == ["'=1+1", "C02"]
    assert back["Rate (%)"].tolist()[0] == "12.345"  # unrounded for analysts


def test_headings_and_file_names() -> None:
    assert human_label("median_delay_wd") == "Median delay working days"
    assert human_label("referral_source") == "Referral source"
    assert safe_name("Re-referrals within 12 months_By team") == "Re-referrals_within_12_months_By_team"


# --- charts ----------------------------------------------------------------------------------
def _monthly() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month": [date(2024, m, 1) for m in (1, 2, 3)],
            "numerator": [1, 2, 9],
            "denominator": [10, 10, 10],
            "rate": [10.0, 20.0, 90.0],
            "centre": [40.0] * 3,
            "lcl": [0.0] * 3,
            "ucl": [80.0] * 3,
            "signal": [None, None, "above"],
        }
    )


def _colours(fig: object) -> set[str]:
    found = set()
    for trace in fig.data:
        for part in ("line", "marker"):
            colour = getattr(getattr(trace, part, None), "color", None)
            if isinstance(colour, str):
                found.add(colour.upper())
    return found


def test_trend_chart_shows_counts_on_hover_and_marks_spc_signals() -> None:
    fig = charts.trend_chart(_monthly(), "Rate rose")
    assert fig.layout.template.layout.colorway == charts.OKABE_ITO
    rate = next(t for t in fig.data if t.name == "Rate")
    assert [list(c) for c in rate.customdata] == [[1, 10], [2, 10], [9, 10]]
    assert "customdata[0]" in rate.hovertemplate and "customdata[1]" in rate.hovertemplate
    signal = next(t for t in fig.data if t.name == "SPC signal")
    assert list(signal.y) == [90.0]
    assert _colours(fig) <= {c.upper() for c in (*charts.OKABE_ITO, charts.GREY)}


def test_breakdown_bar_sorts_by_rate_and_draws_the_overall_line() -> None:
    frame = pd.DataFrame({"team": ["A", "B"], "numerator": [3, 1], "denominator": [10, 10], "rate": [30.0, 10.0]})
    fig = charts.breakdown_bar(frame, "team", "By team", overall=20.0)
    assert list(fig.data[0].y) == ["B", "A"]
    assert fig.layout.shapes[0].x0 == 20.0


def test_benchmark_chart_labels_years_as_the_dfe_does() -> None:
    frame = pd.DataFrame(
        {
            "year": [2024, 2025],
            "area": ["England", "England"],
            "rate": [22.4, 22.6],
            "referrals": [100, 100],
            "re_referrals": [22, 23],
        }
    )
    assert list(charts.benchmark_chart(frame, "t").data[0].x) == ["2023-24", "2024-25"]


def test_coverage_chart_names_empty_months() -> None:
    frame = pd.DataFrame({"table": ["referrals"] * 2, "month": [date(2024, 1, 1), date(2024, 4, 1)], "rows": [5, 7]})
    fig = charts.coverage_chart(frame)
    assert "referrals has 2 empty months" in fig.layout.title.text


def test_completeness_bar_stacks_the_dfe_categories() -> None:
    frame = pd.DataFrame(
        {
            "team": ["A"],
            "numerator": [8],
            "denominator": [10],
            "rate": [80.0],
            "refused": [1],
            "not_obtained": [0],
            "missing": [1],
            "invalid": [0],
        }
    )
    fig = charts.completeness_bar(frame, "team", "Ethnicity")
    assert [t.name for t in fig.data] == ["Known code", "Refused", "Not yet obtained", "Missing", "Invalid"]
    assert fig.data[0].x[0] == pytest.approx(80.0)


def test_empty_frames_give_empty_figures_not_errors() -> None:
    empty = pd.DataFrame(columns=["month", "numerator", "denominator", "rate"])
    assert len(charts.trend_chart(empty, "t").data) == 0
    assert len(charts.breakdown_bar(empty.rename(columns={"month": "team"}), "team", "t").data) == 0


def test_long_titles_wrap() -> None:
    assert "<br>" in charts.wrap_title("word " * 40)
