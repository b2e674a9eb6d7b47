"""Published benchmarks, SPC limits and signals, and small-count suppression."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from metrics.benchmarks import re_referral_benchmarks
from metrics.privacy import suppress_small_counts
from metrics.spc import spc_limits


def test_benchmarks_match_the_published_c1_table() -> None:
    frame = re_referral_benchmarks("889")
    y2025 = frame[frame["year"] == 2025].set_index("area")
    assert list(y2025.index) == ["England", "North West", "Statistical neighbours", "Blackburn with Darwen"]
    assert y2025.loc["England", "rate"] == 22.6 and y2025.loc["England", "referrals"] == 632830
    assert y2025.loc["Blackburn with Darwen", "rate"] == 21.5
    assert y2025.loc["Blackburn with Darwen", "re_referrals"] == 604
    assert 15 < y2025.loc["Statistical neighbours", "rate"] < 30
    assert sorted(frame["year"].unique()) == list(range(2013, 2026))


def test_benchmarks_leave_out_suppressed_values() -> None:
    frame = re_referral_benchmarks("889")
    assert frame["rate"].dropna().between(0, 100).all()
    assert re_referral_benchmarks("000").groupby("area").size().index.tolist() == ["England"]  # unknown LA


def _series(rates: list[float], n: int = 100) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month": pd.date_range("2023-01-01", periods=len(rates), freq="MS").date,
            "numerator": [round(r * n / 100) for r in rates],
            "denominator": [n] * len(rates),
            "rate": rates,
        }
    )


def test_p_chart_limits_and_a_point_above() -> None:
    frame = spc_limits(_series([20.0] * 11 + [60.0]))
    centre = (20 * 11 + 60) / 12
    assert frame["centre"].iloc[0] == pytest.approx(centre)
    sigma = math.sqrt(centre / 100 * (1 - centre / 100) / 100) * 100
    assert frame["ucl"].iloc[0] == pytest.approx(centre + 3 * sigma)
    assert frame["signal"].iloc[-1] == "above"
    assert frame["signal"].iloc[:11].isna().all() or frame["signal"].iloc[:11].eq("run").all()


def test_run_of_seven_below_the_centre_is_flagged() -> None:
    rates = [25.0, 24.0, 26.0, 25.0, 24.0, 26.0, 20.0, 21.0, 20.0, 21.0, 20.0, 21.0, 20.0, 30.0, 29.0]
    frame = spc_limits(_series(rates, n=1000), chart="xmr")
    # mean 23.47, mean moving range 2.14 -> limits 17.8 to 29.2
    # points 7-13 (20/21) are seven in a row below the mean -> run; the first six above are one short
    assert frame["signal"].iloc[6:13].tolist() == ["run"] * 7
    assert frame["signal"].iloc[:6].tolist() == [None] * 6
    assert frame["signal"].iloc[13] == "above"  # 30 is over the upper limit


def test_trend_of_six_rising_points() -> None:
    rates = [22.0, 20.0, 22.0, 20.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 20.0]
    frame = spc_limits(_series(rates), chart="xmr")
    # 19 -> 24 rises five times in a row: six points (indexes 4-9) make a trend; no run of 7, none outside
    assert frame["signal"].tolist() == [None] * 4 + ["trend"] * 6 + [None]


def test_empty_months_keep_their_row_without_limits() -> None:
    frame = _series([20.0, 22.0, 21.0])
    frame.loc[1, ["numerator", "denominator", "rate"]] = [0, 0, float("nan")]
    out = spc_limits(frame)
    assert len(out) == 3 and math.isnan(out["ucl"].iloc[1]) and out["signal"].iloc[1] is None
    with pytest.raises(ValueError):
        spc_limits(frame, chart="cusum")


def test_charts_drawn_at_once_in_several_threads_each_get_their_own_limits() -> None:
    """The dashboard draws each page view in a new thread: every chart takes a connection of its own to one in-memory
    database (opened once), so charts drawn at the same time never read each other's series."""
    from concurrent.futures import ThreadPoolExecutor

    from metrics import spc

    series = [_series([20.0 + i] * 11 + [60.0]) for i in range(8)]
    alone = [spc_limits(frame) for frame in series]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(spc_limits, series * 4))
    for i, frame in enumerate(together):
        pd.testing.assert_frame_equal(frame, alone[i % len(series)])
    assert len(spc._DATABASE) == 1


def test_suppress_small_counts() -> None:
    frame = pd.DataFrame(
        {"team": ["A", "B", "C"], "numerator": [3, 0, 10], "denominator": [20, 8, 40], "rate": [15.0, 0.0, 25.0]}
    )
    out = suppress_small_counts(frame)
    # 3 < 5 hidden, 0 shown; 10 hidden too (secondary), else the overall numerator minus 10 would give the 3 away
    assert out["numerator"].isna().tolist() == [True, False, True]
    assert out["rate"].isna().tolist() == [True, False, True]  # the rows' rates go with them
    assert out["denominator"].tolist() == [20, 8, 40]
    assert frame["numerator"].tolist() == [3, 0, 10]  # the input is untouched
