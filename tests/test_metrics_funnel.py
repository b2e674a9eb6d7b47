"""Funnel plot limits: the exact binomial limits checked against a computation by hand (math.comb)."""

from __future__ import annotations

import math
import sys

import numpy as np
import pandas as pd
import pytest

from metrics.funnel import binomial_limits, funnel_curve, funnel_limits


def _cdf(r: int, n: int, p: float) -> float:
    return sum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(0, r + 1)) if r >= 0 else 0.0


def _by_hand(target: float, n: int, q: float) -> float:
    """Spiegelhalter's interpolated binomial quantile, from summed binomial probabilities."""
    p = target / 100
    r = next(r for r in range(n + 1) if _cdf(r, n, p) >= q)
    a = (_cdf(r, n, p) - q) / (_cdf(r, n, p) - _cdf(r - 1, n, p))
    return min(max(100 * (r - a) / n, 0.0), 100.0)  # a limit below 0% is drawn at 0%


@pytest.mark.parametrize(
    "target,n,level",
    [
        (22.6, 40, 0.95),
        (22.6, 40, 0.998),
        (86.0, 150, 0.95),
        (10.0, 12, 0.998),
        (50.0, 500, 0.95),
        (22.6, 1, 0.95),
        (0.0, 20, 0.95),
        (100.0, 20, 0.998),
        (0.5, 3000, 0.998),
    ],
)
def test_limits_match_a_hand_computation(target: float, n: int, level: float) -> None:
    lower, upper = binomial_limits(target, [n], level)
    assert lower[0] == pytest.approx(_by_hand(target, n, (1 - level) / 2), abs=1e-9)
    assert upper[0] == pytest.approx(_by_hand(target, n, 1 - (1 - level) / 2), abs=1e-9)


def test_limits_narrow_as_units_grow_and_nest() -> None:
    curve = funnel_curve(20.0, 1000)
    width95 = curve["upper_95"] - curve["lower_95"]
    assert width95.iloc[-1] < width95.iloc[len(curve) // 4]
    assert (curve["upper_99.8"] >= curve["upper_95"]).all() and (curve["lower_99.8"] <= curve["lower_95"]).all()


def test_positions_and_small_units() -> None:
    frame = pd.DataFrame({"team": ["A", "B", "C", "D"], "numerator": [2, 30, 20, 5], "denominator": [2, 60, 100, 100]})
    frame["rate"] = 100 * frame["numerator"] / frame["denominator"]
    out = funnel_limits(frame, 20.0).set_index("team")
    assert out.loc["A", "position"] == "too few to compare"  # 2 of 2: 100% but n < 10
    assert out.loc["B", "position"] == "above 99.8% limit"  # 50% of 60 against 20%
    assert out.loc["C", "position"] == "within limits"
    assert out.loc["D", "position"].startswith("below")


def test_limits_and_wilson_intervals_need_no_scipy_stats(monkeypatch: pytest.MonkeyPatch) -> None:
    """scipy.stats costs a process ~1.4 s of CPU to import: the dashboard's funnels and ethnicity gaps do without it."""
    from metrics.ethnicity_gaps import wilson_interval

    monkeypatch.setitem(sys.modules, "scipy.stats", None)  # importing it now raises ImportError
    lower, upper = binomial_limits(22.6, [0, 40, 7.5], 0.95)
    assert np.isnan(lower[0]) and np.isnan(upper[2])  # no denominator, or not a whole count: no limit
    assert lower[1] == pytest.approx(_by_hand(22.6, 40, 0.025), abs=1e-9)
    low, high = wilson_interval(np.array([3.0]), np.array([10.0]))
    assert (round(float(low[0]), 4), round(float(high[0]), 4)) == (0.1078, 0.6032)  # 3 of 10 at 95%: Wilson's table
