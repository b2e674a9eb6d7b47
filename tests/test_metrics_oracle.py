"""The headline metrics against an independent plain-pandas computation on seeded random canonical rows."""

from __future__ import annotations

import functools
from datetime import date

import duckdb
import holidays
import numpy as np
import pandas as pd
import pytest

from metrics.params import Filters, Period
from metrics.re_referrals import re_referral_rate
from metrics.report import headline_report
from metrics.timeliness import assessment_timeliness, recording_timeliness
from store.codes import ETHNICITY_GROUPS
from store.connection import open_read
from tests.storekit import build_store

AS_OF = date(2024, 6, 30)
PERIODS = [
    Period(date(2023, 4, 1), date(2024, 3, 31)),
    Period(date(2024, 2, 1), date(2024, 2, 29)),
    Period(date(2020, 1, 1), date(2020, 12, 31)),
]
ETHNICITIES = [*sorted(ETHNICITY_GROUPS), "REFU", "NOBT", None, "ZZZZ"]
TEAMS = ["North", "South", "Duty"]


def _dates(rng: np.random.Generator, n: int, start: str, end: str) -> pd.Series:
    days = (pd.Timestamp(end) - pd.Timestamp(start)).days
    return pd.Series(pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, days + 1, n), unit="D"))


def _generate(seed: int = 20240229) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n_ref = 2500
    referrals = pd.DataFrame(
        {
            "child_id": rng.integers(1, 700, n_ref).astype(str),
            "referral_date": _dates(rng, n_ref, "2021-06-01", "2024-06-30"),
            "team": rng.choice(TEAMS, n_ref),
            "ethnicity": rng.choice(
                np.array(ETHNICITIES, dtype=object), n_ref, p=[0.7 / 18] * 18 + [0.08, 0.08, 0.1, 0.04]
            ),
        }
    )
    # a few same-day duplicates with another team: the canonical table keeps one row per (child, date)
    referrals = pd.concat([referrals, referrals.sample(60, random_state=1).assign(team="Duty")], ignore_index=True)
    n_ass = 1500
    start = _dates(rng, n_ass, "2022-01-01", "2024-06-30")
    length = pd.to_timedelta(rng.integers(0, 110, n_ass), unit="D")
    authorised = (start + length).where((rng.random(n_ass) > 0.1) & (start + length <= pd.Timestamp(AS_OF)))
    assessments = pd.DataFrame(
        {
            "child_id": rng.integers(1, 700, n_ass).astype(str),
            "start_date": start,
            "authorised_date": authorised,
            "team": rng.choice(TEAMS, n_ass),
        }
    )
    assessments = assessments.drop_duplicates(["child_id", "start_date"])
    n_rec = 3000
    event = _dates(rng, n_rec, "2023-01-01", "2024-06-30")
    entered = event + pd.to_timedelta(rng.integers(0, 20, n_rec), unit="D") + pd.Timedelta(hours=10)
    recordings = pd.DataFrame(
        {
            "record_id": [f"r{i}" for i in range(n_rec)],
            "child_id": rng.integers(1, 700, n_rec).astype(str),
            "event_date": event,
            "entered_at": entered.where(rng.random(n_rec) > 0.07),
            "team": rng.choice(TEAMS, n_rec),
        }
    )
    return {"referrals": referrals, "assessments": assessments, "recordings": recordings}


def _rows(frame: pd.DataFrame) -> list[dict]:
    out = frame.astype(object).where(frame.notna(), None)
    for column in out.columns:
        if column.endswith("_date"):
            out[column] = [v.date() if v is not None else None for v in out[column]]
        if column == "entered_at":
            out[column] = [v.to_pydatetime() if v is not None else None for v in out[column]]
    return out.to_dict("records")


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    return _generate()


@pytest.fixture(scope="module")
def con(data: dict[str, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    path = tmp_path_factory.mktemp("oracle") / "store.duckdb"
    build_store(path, {name: _rows(frame) for name, frame in data.items()}, as_of=AS_OF)
    return open_read(path)


# ---- the oracle: plain pandas and numpy, written from the definitions, not from the SQL ----------------------


@functools.cache
def bank_holidays() -> np.ndarray:
    """England & Wales bank holidays 2005-2030 (worked out on first use, not when the module is collected)."""
    return np.array(
        sorted(holidays.country_holidays("GB", subdiv="ENG", years=range(2005, 2031))), dtype="datetime64[D]"
    )


def working_days(a: pd.Series, b: pd.Series) -> pd.Series:
    """Working days w with a < w <= b (NaN where either is missing)."""
    ok = a.notna() & b.notna()
    out = pd.Series(np.nan, index=a.index)
    start = a[ok].values.astype("datetime64[D]") + np.timedelta64(1, "D")
    end = b[ok].values.astype("datetime64[D]") + np.timedelta64(1, "D")
    out[ok] = np.busday_count(start, end, holidays=bank_holidays())
    return out


def canonical_referrals(referrals: pd.DataFrame) -> pd.DataFrame:
    """One referral per child per day; of duplicate rows in one file the later row wins (ingest/merge.py)."""
    return referrals.drop_duplicates(["child_id", "referral_date"], keep="last")


def oracle_re_referrals(
    referrals: pd.DataFrame, period: Period, lookback: str, team: str | None = None
) -> tuple[int, int]:
    r = canonical_referrals(referrals).sort_values(["child_id", "referral_date"]).copy()
    r["previous"] = r.groupby("child_id")["referral_date"].shift()
    if lookback == "12_calendar_months":
        r["cutoff"] = r["referral_date"] - pd.DateOffset(months=12)  # 29 February back to 28 February, as row by row
    else:
        r["cutoff"] = r["referral_date"] - pd.Timedelta(days=365)
    r["re"] = r["previous"].notna() & (r["previous"] >= r["cutoff"])
    in_period = _in(r, "referral_date", period)
    if team is not None:
        in_period = in_period[in_period["team"] == team]
    return int(in_period["re"].sum()), len(in_period)


def _in(frame: pd.DataFrame, column: str, period: Period) -> pd.DataFrame:
    return frame[(frame[column] >= pd.Timestamp(period.start)) & (frame[column] <= pd.Timestamp(period.end))]


def oracle_report(data: dict[str, pd.DataFrame], period: Period) -> dict[str, float | int | None]:
    referrals = _in(canonical_referrals(data["referrals"]), "referral_date", period)
    re_n, ref_d = oracle_re_referrals(data["referrals"], period, "12_calendar_months")
    done = _in(data["assessments"], "authorised_date", period)
    wd = working_days(done["start_date"], done["authorised_date"])
    a = data["assessments"]
    as_of = pd.Timestamp(AS_OF)
    open_ = a[(a["start_date"] <= as_of) & (a["authorised_date"].isna() | (a["authorised_date"] > as_of))]
    overdue = int((working_days(open_["start_date"], pd.Series(as_of, index=open_.index)) > 45).sum())
    rec = _in(data["recordings"], "event_date", period)
    delay = working_days(rec["event_date"], rec["entered_at"].dt.normalize())
    known = int(referrals["ethnicity"].isin(list(ETHNICITY_GROUPS)).sum())

    def pct(n: int, d: int) -> float | None:
        return 100.0 * n / d if d else None

    return {
        "referrals": ref_d,
        "re_referrals": re_n,
        "re_referral_rate": pct(re_n, ref_d),
        "assessments_completed": len(done),
        "assessments_within_45_wd": int((wd <= 45).sum()),
        "assessment_timeliness_rate": pct(int((wd <= 45).sum()), len(done)),
        "open_assessments_overdue": overdue,
        "recordings": len(rec),
        "recorded_within_target": int((delay <= 5).sum()),
        "recording_timeliness_rate": pct(int((delay <= 5).sum()), len(rec)),
        "median_recording_delay_wd": None if delay.dropna().empty else float(delay.median()),
        "referrals_ethnicity_known": known,
        "ethnicity_completeness_rate": pct(known, len(referrals)),
    }


# ---- the comparisons ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("period", PERIODS, ids=["year", "leap-february", "empty"])
def test_headline_report_matches_the_oracle(
    con: duckdb.DuckDBPyConnection, data: dict[str, pd.DataFrame], period: Period
) -> None:
    expected = oracle_report(data, period)
    actual = headline_report(con, period)
    assert list(actual) == list(expected)
    for key, value in expected.items():
        assert actual[key] == (pytest.approx(value) if value is not None else None), key
    if period.start.year == 2023:
        assert expected["re_referrals"] > 100 and expected["open_assessments_overdue"] > 10  # the data exercise it


@pytest.mark.parametrize("lookback", ["12_calendar_months", "365_days"])
def test_re_referral_rate_by_team_matches_the_oracle(
    con: duckdb.DuckDBPyConnection, data: dict[str, pd.DataFrame], lookback: str
) -> None:
    period = PERIODS[0]
    for team in TEAMS:
        row = re_referral_rate(con, period, Filters(team=team), lookback=lookback).iloc[0]
        assert (row["numerator"], row["denominator"]) == oracle_re_referrals(data["referrals"], period, lookback, team)
    by_team = re_referral_rate(con, period, lookback=lookback, by="team")
    assert (by_team["numerator"].sum(), by_team["denominator"].sum()) == oracle_re_referrals(
        data["referrals"], period, lookback
    )


def test_monthly_timeliness_sums_to_the_whole(con: duckdb.DuckDBPyConnection, data: dict[str, pd.DataFrame]) -> None:
    period = PERIODS[0]
    months = assessment_timeliness(con, period, by="month")
    done = _in(data["assessments"], "authorised_date", period)
    expected = done.groupby(done["authorised_date"].dt.to_period("M")).size()
    assert (
        months["denominator"].tolist()
        == expected.reindex(pd.period_range("2023-04", "2024-03", freq="M"), fill_value=0).tolist()
    )
    rec = recording_timeliness(con, period, by="team").set_index("team")
    in_period = _in(data["recordings"], "event_date", period)
    assert rec["denominator"].to_dict() == in_period.groupby("team").size().to_dict()


def test_median_and_p90_by_team_match_pandas(con: duckdb.DuckDBPyConnection, data: dict[str, pd.DataFrame]) -> None:
    period = PERIODS[0]
    rec = _in(data["recordings"], "event_date", period)
    delay = working_days(rec["event_date"], rec["entered_at"].dt.normalize())
    by_team = recording_timeliness(con, period, by="team").set_index("team")
    for team, delays in delay.groupby(rec["team"]):
        assert by_team.loc[team, "median_delay_wd"] == pytest.approx(delays.median()), team
        assert by_team.loc[team, "p90_delay_wd"] == pytest.approx(delays.quantile(0.9)), team
    done = _in(data["assessments"], "authorised_date", period)
    months = assessment_timeliness(con, period, by="month").set_index("month")
    wd = working_days(done["start_date"], done["authorised_date"])
    for month, durations in wd.groupby(done["authorised_date"].dt.to_period("M")):
        assert months.loc[month.start_time.date(), "median_wd"] == pytest.approx(durations.median()), month
