"""Accessibility and safe text without a browser: contrast theme, charts' text equivalents, signals in words, names shown as typed, URL periods clamped, no unneutralised table export."""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from a11y import STATEMENT, streamlit_exemptions
from apptest_kit import open_on
from streamlit.testing.v1 import AppTest
from test_dashboard_fixture import NORTH, PERIOD

from metrics.params import Filters, Period
from ui import charts
from ui.components import chart_table
from ui.filters import View, clamp_to_data, data_bounds
from ui.formatting import change_description, md_text

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboard.py"
LINK = "[Session expired - sign in again](https://evil.example/login)"
HTML_NAME = "<a href='https://evil.example/login'>Team <b>North</b></a>"


def _relative_luminance(hex_colour: str) -> float:
    channels = [int(hex_colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two #RRGGBB colours."""
    high, low = sorted((_relative_luminance(foreground), _relative_luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def blend(colour: str, opacity: float, background: str) -> str:
    """`colour` drawn at `opacity` over `background`, as Streamlit draws captions (text colour at 60%)."""
    parts = [
        round(int(colour[i : i + 2], 16) * opacity + int(background[i : i + 2], 16) * (1 - opacity)) for i in (1, 3, 5)
    ]
    return "#" + "".join(f"{p:02X}" for p in parts)


def shown(markdown: str) -> str:
    """What a reader sees of escaped Markdown text: without the backslashes and the invisible word joiners."""
    return markdown.replace("\\", "").replace("\u2060", "")


@pytest.fixture(scope="module")
def store(dashboard_store: Path) -> Path:
    return dashboard_store  # built once for the run (conftest.py), only read


def run_dashboard(
    monkeypatch: pytest.MonkeyPatch, store: Path, query: dict[str, str], page: str | None = None
) -> AppTest:
    monkeypatch.setenv("FRONTDOOR_STORE", str(store))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update(query)
    open_on(at, page or "pages/overview_page.py")  # as a browser opening the page's URL
    assert not at.exception, [e.value for e in at.exception]
    return at


# --- theme and statement ---------------------------------------------------------------------------------


def test_theme_captions_meet_aa_contrast_on_both_backgrounds() -> None:
    theme = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["theme"]
    for background in (theme["backgroundColor"], theme["secondaryBackgroundColor"]):
        assert contrast(theme["textColor"], background) >= 4.5
        # Captions, help text and metric labels are the text colour at 60% opacity.
        assert contrast(blend(theme["textColor"], 0.6, background), background) >= 4.5, background
    assert contrast("#FFFFFF", theme["primaryColor"]) >= 4.5  # white text on primary buttons


def test_tables_offer_only_the_projects_own_downloads() -> None:
    """st.dataframe's toolbar 'Download as CSV' exports formulas as they are: it is switched off."""
    client = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["client"]
    assert client.get("disableDataExport") is True


def test_statement_lists_streamlits_own_violations_with_their_upstream_issues() -> None:
    exemptions = streamlit_exemptions()
    assert {e.rule for e in exemptions} >= {"list", "listitem"}
    text = STATEMENT.read_text(encoding="utf-8")
    for heading in (
        "Compliance status",
        "Non-accessible content",
        "Preparation of this accessibility statement",
        "Enforcement procedure",
    ):
        assert heading in text
    assert all(e.issue.startswith("https://github.com/streamlit/streamlit/") for e in exemptions)
    assert all(e.selector.startswith('[data-testid="st') for e in exemptions)  # Streamlit's elements only


# --- text from the data and the URL is shown as typed --------------------------------------------------


def test_markdown_in_names_is_escaped() -> None:
    escaped = md_text(LINK + " $x^2$ ![img](https://evil.example/a.png) :red[alert]")
    assert re.search(r"(?<!\\)[\[\]()$!:*<>]", escaped) is None, escaped  # every such character escaped
    assert shown(escaped) == LINK + " $x^2$ ![img](https://evil.example/a.png) :red[alert]"


def test_view_scope_escapes_team_and_worker_names() -> None:
    view = View(Period(*PERIOD), Period(*PERIOD), Filters(team="Team *North*", worker=LINK))
    assert "](https" not in view.scope and "*North*" not in view.scope
    assert shown(view.scope) == f"worker {LINK} (team Team *North*)"


def test_a_link_in_the_url_is_shown_as_text(monkeypatch: pytest.MonkeyPatch, store: Path) -> None:
    at = run_dashboard(monkeypatch, store, {"from": PERIOD[0].isoformat(), "to": PERIOD[1].isoformat(), "worker": LINK})
    notes = [c.value for c in at.sidebar.caption if "not among the choices" in c.value]
    assert notes, [c.value for c in at.sidebar.caption]
    assert "](https" not in notes[0] and "\\[Session expired" in notes[0]


def test_chart_titles_and_labels_show_html_as_text() -> None:
    frame = pd.DataFrame(
        {"team": [HTML_NAME, "South"], "numerator": [3, 1], "denominator": [10, 10], "rate": [30.0, 10.0]}
    )
    fig = charts.breakdown_bar(frame, "team", f"Re-referrals by team: highest {HTML_NAME}", overall=20.0)
    shown = [fig.layout.title.text, *fig.data[0].y]
    assert not any("<a" in text or "<b>" in text for text in shown), shown
    assert "&lt;a href='https://evil.example/login'&gt;" in fig.layout.title.text
    bench = pd.DataFrame({"area": [HTML_NAME], "year": [2025], "rate": [20.0]})
    assert "<a" not in charts.benchmark_chart(bench, "Benchmarks").data[0].name


# --- charts: text equivalent, signals in words ---------------------------------------------------------


def _monthly() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
            "numerator": [1, 2, 9],
            "denominator": [10, 10, 10],
            "rate": [10.0, 20.0, 90.0],
            "centre": [40.0] * 3,
            "lcl": [0.0] * 3,
            "ucl": [80.0] * 3,
            "signal": [None, None, "above"],
        }
    )


def test_spc_signals_are_marked_by_a_word_and_a_symbol_as_well_as_colour() -> None:
    signal = next(t for t in charts.trend_chart(_monthly(), "Rate rose").data if t.name == "SPC signal")
    assert "text" in signal.mode and list(signal.text) == ["above limit"]
    assert signal.marker.symbol == "diamond"


def test_chart_table_uses_the_charts_labels_and_words() -> None:
    table = chart_table(_monthly())
    assert list(table["signal"]) == ["none", "none", charts.SIGNAL_TEXT["above"]]
    assert list(table["numerator"]) == [1, 2, 9]  # the same counts
    coded = pd.DataFrame({"referral_source": ["3A", None], "rate": [1.0, 2.0]})
    assert list(chart_table(coded, {"referral_source": {"3A": "3A: School"}})["referral_source"]) == [
        "3A: School",
        "Not recorded",
    ]


def test_every_chart_has_its_data_as_a_table_one_click_away(monkeypatch: pytest.MonkeyPatch, store: Path) -> None:
    at = run_dashboard(
        monkeypatch, store, {"from": PERIOD[0].isoformat(), "to": PERIOD[1].isoformat()}, "pages/re_referrals_page.py"
    )
    expanders = [e for e in at.expander if e.label == "Chart data as a table"]
    assert expanders, [e.label for e in at.expander]
    assert all(len(e.dataframe) == 1 for e in expanders)
    by_team = [e.dataframe[0].value for e in expanders if "team" in e.dataframe[0].value.columns]
    assert by_team and set(by_team[0]["team"]) == {NORTH, "Team South"}


def test_direction_of_a_change_is_said_in_words() -> None:
    assert change_description("last year", 3.0, "down") == "Worse: this period vs last year"
    assert change_description("last year", -3.0, "down") == "Better: this period vs last year"
    assert change_description("last year", 3.0, "neither") == "this period vs last year"
    assert change_description("last year", None, "up") is None


# --- URL periods: clamped to the data ------------------------------------------------------------------


def test_data_bounds_are_whole_months_up_to_the_extract_date() -> None:
    spans = {
        "referrals": {"earliest": date(2023, 6, 16), "latest": date(2025, 3, 20), "rows": 5},
        "contacts": {"earliest": None, "latest": None, "rows": 0},
    }
    default = Period(date(2024, 4, 1), date(2025, 3, 31))
    assert data_bounds(spans, default) == (date(2023, 6, 1), date(2025, 3, 31))
    assert data_bounds({"referrals": {"earliest": None, "latest": None}}, Period(*PERIOD)) is None
    # Mistyped dates (a recording in 1923, a contact in 2035, as in the synthetic demo) do not stretch it.
    spans |= {
        "recordings": {"earliest": date(1923, 4, 11), "latest": date(2025, 3, 1)},
        "contacts": {"earliest": date(2023, 7, 1), "latest": date(2035, 8, 21)},
    }
    assert data_bounds(spans, default, today=date(2025, 5, 14)) == (date(2023, 6, 1), date(2025, 5, 31))


def test_clamp_to_data_cuts_a_century_and_says_so() -> None:
    bounds = (date(2023, 6, 1), date(2025, 3, 31))
    start, end, note = clamp_to_data(date(2000, 1, 1), date(2099, 12, 31), bounds)
    assert (start, end) == bounds and note and "beyond the loaded data" in note
    assert clamp_to_data(date(2024, 4, 1), date(2025, 3, 31), bounds) == (date(2024, 4, 1), date(2025, 3, 31), None)
    assert clamp_to_data(date(2020, 1, 1), date(2020, 3, 31), bounds)[2] is None  # wholly outside: kept


def test_a_2000_to_2099_link_is_clamped_to_the_stores_data(monkeypatch: pytest.MonkeyPatch, store: Path) -> None:
    at = run_dashboard(monkeypatch, store, {"from": "2000-01-01", "to": "2099-12-31"})
    start, end = at.session_state["filter_from"], at.session_state["filter_to"]
    assert date(2000, 1, 1) < start <= date(2023, 12, 1) and date(2025, 3, 31) <= end < date(2026, 1, 1)
    assert at.query_params["from"] == start.isoformat() and at.query_params["to"] == end.isoformat()
    assert any("beyond the loaded data" in c.value for c in at.sidebar.caption)


def test_chart_text_is_set_on_each_figure_at_aa_contrast() -> None:
    """Streamlit's chart theme draws axis labels in #808495 (3.8:1) unless the figure sets its own colour."""
    frame = pd.DataFrame({"team": ["A", "B"], "numerator": [3, 1], "denominator": [10, 10], "rate": [30.0, 10.0]})
    fig = charts.breakdown_bar(frame, "team", "By team", overall=20.0)
    colours = {
        fig.layout.font.color,
        fig.layout.title.font.color,
        fig.layout.xaxis.tickfont.color,
        fig.layout.yaxis.tickfont.color,
        fig.layout.xaxis.title.font.color,
        fig.layout.annotations[0].font.color,
    }
    assert len(colours) == 1 and None not in colours
    assert contrast(colours.pop(), "#FFFFFF") >= 4.5
