"""How numbers read on the dashboard: rates as percentages to one decimal place with the counts beside them."""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any, Literal

from metrics.params import MIN_DENOMINATOR
from metrics.privacy import SUPPRESSED as SUPPRESSION_MARK  # noqa: F401 - one place for the mark

# Every ASCII punctuation character: CommonMark lets each be escaped with a backslash, which turns off links,
# images, emphasis, HTML, LaTeX ($) and Streamlit's :colour[...] directives.
_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# GFM turns bare URLs and e-mail addresses into links whatever the escapes: an invisible word joiner (U+2060)
# before "://", inside "www." and before "@" stops it and leaves the text as it reads.
_AUTOLINK = re.compile(r"(?i)(?=://)|(?<=w)(?=ww\.)|(?=@)")
WORD_JOINER = "\u2060"


def md_text(value: Any) -> str:
    """Text from the data or the URL made safe to put inside Markdown: shown as typed, never as a link, image or formula."""
    flat = " ".join(str(value).split())  # no line breaks: no headings, lists or code blocks either
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", _AUTOLINK.sub(WORD_JOINER, flat))


def is_missing(value: Any) -> bool:
    """True for None and NaN (pandas NA included)."""
    if value is None:
        return True
    try:
        return bool(math.isnan(value))
    except (TypeError, ValueError):
        return str(value) in {"<NA>", "NaT"}


def pct(rate: Any) -> str:
    """A 0–100 rate as the DfE prints it: one decimal place and a percent sign; a dash when undefined."""
    if is_missing(rate):
        return "–"
    return f"{float(rate):.1f}%"


def count(value: Any) -> str:
    """A count with thousands separators; a dash when missing."""
    if is_missing(value):
        return "–"
    return f"{int(value):,}"


def rate_with_counts(rate: Any, numerator: Any, denominator: Any) -> str:
    """'21.5% (123 of 572)': the percentage and how many children it is."""
    return f"{pct(rate)} ({count(numerator)} of {count(denominator)})"


def points_change(current: Any, previous: Any) -> float | None:
    """Difference between two rates in percentage points, or None when either is undefined."""
    if is_missing(current) or is_missing(previous):
        return None
    return round(float(current) - float(previous), 1)


def change_description(against: str, change: float | None, good_direction: str) -> str | None:
    """'Worse: this period vs Apr 2023 – Mar 2024': in words whether the change is good (colour is not enough), then
    the comparison; the verdict comes first because a narrow tile cuts the end of the line off."""
    if change is None:
        return None
    word = direction_word(change, good_direction)
    verdict = f"{word.capitalize()}: " if word in {"better", "worse", "about the same"} else ""
    return verdict + tile_comparison(against)


def delta_colour(good_direction: str) -> Literal["normal", "inverse", "off"]:
    """st.metric delta colour for a metric whose good direction is up, down or neither."""
    if good_direction == "up":
        return "normal"
    return "inverse" if good_direction == "down" else "off"


def direction_word(change: float | None, good_direction: str) -> str:
    """'better', 'worse' or 'about the same' for a change in points."""
    if change is None:
        return "not comparable"
    if abs(change) < 0.05:
        return "about the same"
    if good_direction not in {"up", "down"}:
        return "higher" if change > 0 else "lower"
    improved = change > 0 if good_direction == "up" else change < 0
    return "better" if improved else "worse"


def period_label(start: date, end: date) -> str:
    """'Oct 2024 – Sep 2025' (or exact dates when the period is not whole months)."""
    if start.day == 1 and _is_month_end(end):
        return f"{start:%b %Y} – {end:%b %Y}"
    return f"{start:%d %b %Y} – {end:%d %b %Y}"


def _is_month_end(day: date) -> bool:
    return date.fromordinal(day.toordinal() + 1).day == 1


def trend_finding(label: str, first: Any, last: Any, good_direction: str, first_when: str, last_when: str) -> str:
    """A title that states the finding: 'Re-referral rate fell from 30.0% (Apr–Jun 2024) to 22.0% (Jan–Mar 2025): better'."""
    change = points_change(last, first)
    if change is None:
        return f"{label}: not enough data to show a trend"
    if abs(change) < 0.05:
        return f"{label} held steady at {pct(last)} ({first_when} to {last_when})"
    verb = "rose" if change > 0 else "fell"
    verdict = direction_word(change, good_direction)
    tail = f": {verdict}" if verdict in {"better", "worse"} else ""
    return f"{label} {verb} from {pct(first)} ({first_when}) to {pct(last)} ({last_when}){tail}"


def month_text(value: Any) -> str:
    """'Oct 2024' for a month start date."""
    return f"{value:%b %Y}" if hasattr(value, "strftime") else str(value)


def pooled_rate(rows: Any) -> float:
    """Numerator over denominator summed across rows, as a percentage (NaN when the denominator is 0)."""
    denominator = float(rows["denominator"].fillna(0).sum())
    return float(rows["numerator"].fillna(0).sum()) / denominator * 100 if denominator else float("nan")


def scored_months(monthly: Any) -> Any:
    """The months a trend verdict may read: with a denominator, not provisional, not mostly unrecorded."""
    if not len(monthly):
        return monthly
    keep = monthly["denominator"].fillna(0) > 0
    for flag in ("provisional", "mostly_not_recorded"):
        if flag in monthly:
            keep &= ~monthly[flag].fillna(False).astype(bool)
    return monthly[keep]


def trend_change(monthly: Any, window: int = 3) -> float | None:
    """Points between the pooled first and last `window` scored months (None with fewer than two)."""
    rows = scored_months(monthly)
    if len(rows) < 2:
        return None
    span = min(window, len(rows) // 2)
    return points_change(pooled_rate(rows.iloc[-span:]), pooled_rate(rows.iloc[:span]))


def provisional_note(monthly: Any, reason: str) -> str | None:
    """'2 provisional months (…) are drawn hollow and not scored' (None when there are none)."""
    if not len(monthly) or "provisional" not in monthly:
        return None
    count_ = int(monthly["provisional"].fillna(False).astype(bool).sum())
    if not count_:
        return None
    months = "month" if count_ == 1 else "months"
    return (
        f"{count_} provisional {months} ({reason}) drawn hollow and left out of the control limits and the "
        "trend verdict."
    )


def verdict_clash(
    tile_change: float | None,
    chart_change: float | None,
    good_direction: str,
    previous_label: str,
    chart_signalled: bool = True,
) -> str | None:
    """Why the tile and the chart read differently, when they move opposite ways (None when they agree).

    `chart_signalled` False: the chart has no SPC signal, so its title gives no verdict; the caption says so.
    """
    tile, chart_ = direction_word(tile_change, good_direction), direction_word(chart_change, good_direction)
    opposite = {tile, chart_} in ({"better", "worse"}, {"higher", "lower"})
    if not opposite:
        return None
    if not chart_signalled:
        moved = "rose" if (chart_change or 0) > 0 else "fell"
        return (
            f"The tile compares the whole period with {previous_label} ({tile}). Within the period the monthly "
            f"rate {moved}, but by no more than normal variation (no SPC signal), so the chart gives no verdict "
            "and does not contradict the tile."
        )
    return (
        f"The tile and the chart answer different questions: the tile compares the whole period with "
        f"{previous_label} ({tile}); the chart compares the first and last months within the period ({chart_}). "
        "Both are true; neither is a verdict on its own."
    )


def tile_comparison(previous_label: str) -> str:
    """The tile's comparison in words."""
    return f"this period vs {previous_label}"


def trend_title(label: str, monthly: Any, good_direction: str, window: int = 3) -> str:
    """The finding of a monthly series: the first `window` months with data against the last, and any SPC signals.

    Provisional months and months mostly not recorded are not read.
    """
    rows = scored_months(monthly)
    if len(rows) < 2:
        return f"{label}: not enough months to show a trend"
    span = min(window, len(rows) // 2)
    first, last = rows.iloc[:span], rows.iloc[-span:]

    def when(part: Any) -> str:
        start, end = month_text(part["month"].iloc[0]), month_text(part["month"].iloc[-1])
        return start if start == end else f"{start}–{end}"

    signals = int(rows["signal"].notna().sum()) if "signal" in rows else 0  # provisional months carry none
    if "signal" in rows and not signals:
        # No special cause: the movement is within normal variation, so the title gives no verdict on it.
        finding = trend_finding(label, pooled_rate(first), pooled_rate(last), "neither", when(first), when(last))
        return finding + "; within normal variation (no SPC signal)"
    title = trend_finding(label, pooled_rate(first), pooled_rate(last), good_direction, when(first), when(last))
    title += f"; {signals} month{'s' if signals > 1 else ''} with an SPC signal" if signals else "; no SPC signal"
    return title


def extremes_title(
    label: str,
    frame: Any,
    dimension: str,
    noun: str,
    names: dict[str, str] | None = None,
    min_denominator: int = MIN_DENOMINATOR,
) -> str:
    """'Re-referrals by team: highest in Team A (31.0%), lowest in Team B (12.5%)'.

    Groups with fewer than `min_denominator` in the denominator are never named highest or lowest.
    """
    with_data = frame[frame["denominator"].fillna(0) > 0] if len(frame) else frame
    if len(with_data) == 0:
        return f"{label} by {noun}: no data"
    rows = with_data[with_data["denominator"] >= min_denominator].sort_values("rate")
    small = len(with_data) - len(rows)
    if len(rows) == 0:
        return f"{label} by {noun}: none has {min_denominator} or more to compare, so none is ranked"
    tail = f"; {small} with fewer than {min_denominator} not ranked" if small else ""
    return _extremes(label, rows, dimension, noun, names) + tail


def _extremes(label: str, rows: Any, dimension: str, noun: str, names: dict[str, str] | None) -> str:

    def name(value: Any) -> str:
        text = "not recorded" if is_missing(value) else str(value)
        return names.get(text, text) if names else text

    high = rows.iloc[-1]
    if len(rows) == 1:
        return f"{label} by {noun}: {name(high[dimension])} {pct(high['rate'])}"
    low = rows.iloc[0]
    return (
        f"{label} by {noun}: highest {name(high[dimension])} ({pct(high['rate'])}), "
        f"lowest {name(low[dimension])} ({pct(low['rate'])})"
    )


def decimal(value: Any, places: int = 1) -> str:
    """A number to `places` decimal places; a dash when missing."""
    return "–" if is_missing(value) else f"{float(value):.{places}f}"


def funnel_title(label: str, frame: Any, dimension: str, noun: str, target: float) -> str:
    """'Re-referrals by team against the authority (21.5%): Team A above the 99.8% limit; 3 within'."""
    if not len(frame) or "position" not in frame:
        return f"{label} by {noun}: no data"
    outside = frame[frame["position"].str.startswith(("above", "below"))]
    within = int((frame["position"] == "within limits").sum())
    small = int((frame["position"] == "too few to compare").sum())
    parts = [
        f"{'not recorded' if is_missing(r[dimension]) else r[dimension]} {r['position']}" for _, r in outside.iterrows()
    ]
    body = "; ".join(parts) if parts else f"every {noun} with enough records is within the limits"
    tail = f"; {within} within" if parts and within else ""
    tail += f"; {small} too few to compare" if small else ""
    return f"{label} by {noun} against the authority ({pct(target)}): {body}{tail}"
