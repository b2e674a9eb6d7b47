"""Figures a director can brief from (issue 10): filters that do not apply say so, one verdict per screen,
no ranking from noise, provisional months, point-in-time figures apart, ethnicity gaps, and the /overview link."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from test_dashboard_fixture import NORTH, build_dashboard_store
from test_dashboard_pages import QUERY, open_page, texts

from ui import charts
from ui.formatting import extremes_title, trend_title


@pytest.fixture(scope="module")
def store(dashboard_store: Path) -> Path:
    return dashboard_store  # built once for the run (conftest.py), only read


# --- 3: a filter that does not apply says so ---------------------------------------------------
def test_contacts_tile_says_it_is_authority_wide_under_a_team_filter(
    monkeypatch: pytest.MonkeyPatch, store: Path
) -> None:
    at = open_page(monkeypatch, store, "overview", {**QUERY, "team": NORTH})
    shown = texts(at)
    assert "Authority-wide (team not recorded on contacts)" in shown
    assert shown.count("Authority-wide (team not recorded on") == 1  # only the contacts tile: the others apply


def test_front_door_page_says_the_team_filter_does_not_apply(monkeypatch: pytest.MonkeyPatch, store: Path) -> None:
    at = open_page(monkeypatch, store, "front_door", {**QUERY, "team": NORTH})
    assert any("authority-wide (team not recorded on contacts)" in w.value for w in at.warning)
    at = open_page(monkeypatch, store, "front_door")
    assert not any("authority-wide" in w.value for w in at.warning)


# --- 4: one verdict per screen ------------------------------------------------------------------
def test_tiles_state_their_comparison_in_words(monkeypatch: pytest.MonkeyPatch, store: Path) -> None:
    at = open_page(monkeypatch, store, "re_referrals")
    tile = next(m for m in at.metric if m.label.startswith("Re-referrals within 12 months"))
    assert tile.proto.delta_description.endswith("this period vs Apr 2023 – Mar 2024")  # after 'Better: ' or 'Worse: '


def test_opposite_verdicts_say_why() -> None:
    from ui.formatting import verdict_clash

    clash = verdict_clash(3.9, -7.1, "down", "Apr 2023 – Mar 2024")
    assert clash and "the tile compares the whole period with Apr 2023 – Mar 2024 (worse)" in clash
    assert "first and last months within the period (better)" in clash
    assert verdict_clash(-1.0, -7.1, "down", "x") is None
    quiet = verdict_clash(3.9, -7.1, "down", "Apr 2023 – Mar 2024", chart_signalled=False)
    assert quiet and "no more than normal variation" in quiet and "(worse)" in quiet


def test_a_move_within_normal_variation_gets_no_verdict() -> None:
    monthly = pd.DataFrame(
        {
            "month": [date(2024, m, 1) for m in range(1, 7)],
            "numerator": [24, 22, 25, 17, 18, 16],
            "denominator": [100] * 6,
            "signal": [None] * 6,
        }
    )
    monthly["rate"] = monthly["numerator"].astype(float)
    title = trend_title("Re-referral rate", monthly, "down")
    assert title == (
        "Re-referral rate fell from 23.7% (Jan 2024–Mar 2024) to 17.0% (Apr 2024–Jun 2024); "
        "within normal variation (no SPC signal)"
    )


def test_headline_directions_come_from_the_registry() -> None:
    from metrics.registry import REGISTRY
    from ui.headlines import HEADLINES

    for headline in HEADLINES:
        assert headline.good_direction == REGISTRY[headline.code].good_direction


# --- 5: no ranking from noise --------------------------------------------------------------------
def _by_source() -> pd.DataFrame:
    frame = pd.DataFrame(
        {"referral_source": ["1A", "5B", "3A", "6"], "numerator": [2, 0, 30, 20], "denominator": [2, 3, 100, 120]}
    )
    frame["rate"] = 100.0 * frame["numerator"] / frame["denominator"]
    return frame


def test_groups_below_the_minimum_are_never_named_highest_or_lowest() -> None:
    title = extremes_title("Re-referrals", _by_source(), "referral_source", "source")
    assert title == ("Re-referrals by source: highest 3A (30.0%), lowest 6 (16.7%); 2 with fewer than 10 not ranked")


def test_every_bar_carries_its_n() -> None:
    fig = charts.breakdown_bar(_by_source(), "referral_source", "t")
    assert list(fig.data[0].text) == [
        "0.0% (n=3) too few to rank",
        "16.7% (n=120)",
        "30.0% (n=100)",
        "100.0% (n=2) too few to rank",
    ]
    assert fig.data[0].marker.color[0] == charts.GREY


def test_funnel_chart_draws_units_and_both_limits() -> None:
    from metrics.funnel import funnel_curve, funnel_limits

    placed = funnel_limits(_by_source(), 20.0)
    fig = charts.funnel_chart(placed, funnel_curve(20.0, 120), "referral_source", "t", 20.0)
    names = [t.name for t in fig.data]
    assert names.count("95% limits") == 2 and names.count("99.8% limits") == 2
    units = fig.data[-1]
    assert list(units.x) == [2, 3, 100, 120] and units.customdata[0][2] == "too few to compare"


def test_team_drilldown_is_a_funnel_plot(monkeypatch: pytest.MonkeyPatch, store: Path) -> None:
    at = open_page(monkeypatch, store, "re_referrals")
    assert any("dotted (99.8%) limits" in c.value for c in at.caption)


# --- 6: provisional months and point-in-time figures ----------------------------------------------
def test_provisional_months_are_drawn_apart_and_not_scored() -> None:
    monthly = pd.DataFrame(
        {
            "month": [date(2024, m, 1) for m in range(1, 8)],
            "numerator": [9, 9, 9, 9, 9, 9, 2],
            "denominator": [10] * 7,
            "provisional": [False] * 6 + [True],
        }
    )
    monthly["rate"] = 10.0 * monthly["numerator"]
    assert "fell" not in trend_title("Recordings", monthly, "up")  # the dip of a month not yet due is not read
    assert "fell" in trend_title("Recordings", monthly.drop(columns="provisional"), "up")  # the old reading
    fig = charts.trend_chart(monthly, "t")
    rate = next(t for t in fig.data if t.name == "Rate")
    assert pd.isna(rate.y[-1])
    assert [t.name for t in fig.data if t.name.startswith("Provisional")] == ["Provisional (not yet due)"]


def test_timeliness_marks_provisional_months_and_keeps_point_in_time_apart(
    monkeypatch: pytest.MonkeyPatch, store: Path
) -> None:
    at = open_page(monkeypatch, store, "timeliness")
    shown = texts(at)
    assert "1 provisional month (events whose write-up target had not elapsed" in shown
    assert any(h.value == "Point in time: as at 31 Mar 2025" for h in at.header)
    labels = [m.label for m in at.metric]
    assert "Open assessments past 45 working days, as at 31 Mar 2025" in labels


# --- 2: not recorded is not "no" -------------------------------------------------------------------
def test_a_month_mostly_not_recorded_is_marked_not_drawn_as_zero() -> None:
    monthly = pd.DataFrame(
        {
            "month": [date(2024, m, 1) for m in (1, 2, 3)],
            "numerator": [8, 8, 0],
            "denominator": [10, 10, 1],
            "not_recorded": [0, 0, 40],
            "mostly_not_recorded": [False, False, True],
            "rate": [80.0, 80.0, float("nan")],
        }
    )
    fig = charts.trend_chart(monthly, "t")
    assert any(getattr(a, "text", "") == "mostly not recorded" for a in fig.layout.annotations)
    assert "fell" not in trend_title("Child seen", monthly, "up")


# --- 8: ethnicity gaps ------------------------------------------------------------------------------
def test_ethnicity_page_says_when_gaps_cannot_be_read(monkeypatch: pytest.MonkeyPatch, store: Path) -> None:
    at = open_page(monkeypatch, store, "ethnicity")
    # The fixture's period has 8 of 10 referrals with a known code: under the 90% threshold.
    assert any("Ethnicity is too incomplete for a gap to be read" in w.value and "80.0%" in w.value for w in at.warning)
    assert any("Gaps in service" in s.value for s in at.subheader)


# --- 9 and the definitions page -----------------------------------------------------------------------
def test_overview_has_its_own_url(monkeypatch: pytest.MonkeyPatch, store: Path) -> None:
    at = open_page(monkeypatch, store, "overview")
    urls = {info.get("url_pathname"): Path(str(info.get("script_path"))).name for info in at._registered_pages.values()}
    assert urls.get("overview") == "overview_page.py"  # /overview resolves (was served only at "/")
    assert urls.get("") == "overview_page.py"  # and "/" still lands on the Overview


def test_definitions_state_filters_and_unknowns(monkeypatch: pytest.MonkeyPatch, store: Path) -> None:
    at = open_page(monkeypatch, store, "definitions")
    shown = "\n".join(m.value for m in at.markdown)
    assert (
        "**Filters:** Applies: referral_source, ethnicity_group, age_band, disabled. Does not apply: team, worker "
        "(not recorded on contacts)." in shown
    )
    assert "**How unknowns count:** 'Child seen' not recorded is not 'no'" in shown


# --- 9: small fixes ---------------------------------------------------------------------------------------
def test_csv_carries_measure_period_names_integers_and_c() -> None:
    import io

    from ui.components import publishable_frame
    from ui.downloads import csv_bytes, tidy_frame

    frame = pd.DataFrame(
        {
            "referral_source": ["1A", "6", "2B"],
            "numerator": [3.0, 40.0, 2.0],
            "denominator": [12.0, 175.0, 30.0],
            "rate": [25.0, 23.169999999999998, 6.666666666666667],
        }
    )

    def csv(table: pd.DataFrame) -> pd.DataFrame:
        tidy = tidy_frame(table, measure="Re-referrals within 12 months", period="Apr 2024 – Mar 2025")
        return pd.read_csv(io.StringIO(csv_bytes(tidy).decode("utf-8-sig")), dtype=str)

    back = csv(frame)
    assert list(back.columns) == [
        "Measure",
        "Period",
        "Referral source",
        "Referral source name",
        "Numerator",
        "Denominator",
        "Rate (%)",
    ]
    assert back["Referral source name"].iloc[1] == "Police"
    assert back["Measure"].iloc[0] == "Re-referrals within 12 months"
    assert back["Numerator"].tolist() == ["3", "40", "2"] and back["Denominator"].tolist() == ["12", "175", "30"]
    assert back["Rate (%)"].tolist()[1] == "23.17"  # no float noise
    shared = csv(publishable_frame(frame))  # the same rows as they may leave the service (metrics.privacy)
    assert shared["Numerator"].tolist() == ["c", "40", "c"] and shared["Denominator"].tolist() == ["12", "175", "30"]
    assert shared["Rate (%)"].tolist() == ["c", "23.2", "c"]  # DfE's c where a count is withheld


def test_about_the_data_flags_impossible_dates(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from test_dashboard_fixture import fixture_rows

    rows = fixture_rows()
    rows["contacts"].append({"child_id": "C20", "contact_date": date(2035, 1, 2), "contact_source": "6"})
    rows["recordings"].append(
        {
            "record_id": "R9",
            "child_id": "C01",
            "record_type": "case_note",
            "event_date": date(1923, 5, 1),
            "team": NORTH,
            "worker": "Worker A",
        }
    )
    store = build_dashboard_store(tmp_path / "store.duckdb", rows)
    at = open_page(monkeypatch, store, "about")
    warnings = " ".join(w.value for w in at.warning)
    assert "1 impossible date in contacts** (years 2035)" in warnings
    assert "1 impossible date in recordings** (years 1923)" in warnings
    span = next(d.value for d in at.dataframe if "impossible_dates" in d.value.columns).set_index("list")
    assert span.loc["contacts", "latest"] <= date(2025, 3, 31) and span.loc["recordings", "earliest"].year > 1990


def test_expectations_cli_into_a_closed_pipe_ends_without_a_traceback() -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen(
        [sys.executable, "-m", "expectations", "docs"], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    proc.stdout.close()  # as `| head` does once it has read its lines
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()
    assert b"Traceback" not in err and b"BrokenPipeError" not in err
