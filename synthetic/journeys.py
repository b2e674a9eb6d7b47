"""Children's journeys through the front door: contacts, referrals, assessments and CIN episodes (the truth).

Each referral opens one episode (as the CIN census counts them). An episode ends with no further
action, a closure after assessment (RC8/RC9), or a child-in-need plan that closes later; after a
closure the child may be referred again. All dates are simulated to their destiny, possibly after
the extract date; what a system shows on a given day is cut by `synthetic.snapshot`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic.calendar import add_working_days, roll_to_working_day
from synthetic.params import RATES, TEAM_BY_NAME, Params, Rates

SOURCE_MIX: dict[str, float] = {
    "6": 29,
    "2A": 19,
    "2B": 1,
    "3A": 3,
    "3B": 3,
    "3C": 1,
    "3D": 2,
    "3E": 4,
    "3F": 3,
    "5A": 4,
    "5B": 3,
    "5C": 2,
    "5D": 3,
    "1A": 4,
    "1B": 1,
    "1C": 1,
    "1D": 1,
    "4": 2,
    "7": 2,
    "8": 4,
    "9": 2,
    "10": 1,
}
CONTACT_SOURCE_MIX: dict[str, float] = {**SOURCE_MIX, "6": 36, "9": 3, "1A": 6}
NEED_MIX: dict[str, float] = {
    "N1": 50,
    "N2": 5,
    "N3": 5,
    "N4": 13,
    "N5": 16,
    "N6": 3,
    "N7": 1,
    "N8": 3,
    "N0": 1,
    "N9": 3,
}
SUPPORT_CLOSURE_MIX: dict[str, float] = {"RC7": 84, "RC5": 6, "RC3": 3, "RC4": 3, "RC6": 2, "RC1": 1, "RC2": 1}
NEXT_REFERRAL_P: dict[str, float] = {
    "RC1": 0.02,
    "RC2": 0.0,
    "RC3": 0.15,
    "RC4": 0.1,
    "RC5": 0.08,
    "RC6": 0.0,
    "RC7": 0.24,
    "RC8": 0.34,
    "RC9": 0.3,
}
FACTORS = (
    "1B",
    "2B",
    "3A",
    "3B",
    "4B",
    "5A",
    "6B",
    "8B",
    "9A",
    "10A",
    "11A",
    "14A",
    "16A",
    "18B",
    "19B",
    "20",
    "21",
    "22A",
)
MAX_REFERRALS = 10


def _choice(rng: np.random.Generator, mix: dict, n: int) -> np.ndarray:
    keys = np.array(list(mix), dtype=object)
    p = np.array(list(mix.values()), dtype=float)
    return keys[rng.choice(len(keys), size=n, p=p / p.sum())]


def pick_workers(rng: np.random.Generator, teams: np.ndarray, workers: pd.DataFrame) -> np.ndarray:
    """A worker of each row's team, drawn at random."""
    out = np.empty(len(teams), dtype=object)
    for team, names in workers.groupby("team")["worker"]:
        mask = teams == team
        out[mask] = names.to_numpy()[rng.integers(0, len(names), mask.sum())]
    return out


def _assessment_team(rng: np.random.Generator, kids: pd.DataFrame) -> np.ndarray:
    n = len(kids)
    north = kids["area"].to_numpy() == "North"
    p_team1 = np.where(north, 0.68, 0.32)
    team = np.where(rng.random(n) < p_team1, "Assessment Team 1", "Assessment Team 2").astype(object)
    cwd = kids["disabled"].to_numpy() & (rng.random(n) < 0.65)
    team[cwd] = "Children with Disabilities"
    return team


def _durations(rng: np.random.Generator, teams: np.ndarray, speed: np.ndarray, rates: Rates) -> np.ndarray:
    """Assessment durations in working days: lognormal by team and worker, with a late tail."""
    median = np.array([TEAM_BY_NAME[t].assessment_median_wd for t in teams]) * speed
    sigma = np.array([TEAM_BY_NAME[t].assessment_sigma for t in teams])
    days = np.exp(np.log(median) + sigma * rng.standard_normal(len(teams)))
    tail = rng.random(len(teams)) < 0.03
    days = np.where(tail, days * rng.uniform(1.5, 3.5, len(teams)), days)
    same_day = rng.random(len(teams)) < 0.01
    return np.where(same_day, 0, np.maximum(np.rint(days), 1)).astype(np.int64)


def _one_round(
    rng: np.random.Generator, kids: pd.DataFrame, referral: np.ndarray, workers: pd.DataFrame, rates: Rates
) -> pd.DataFrame:
    """One referral per child in `kids` on `referral`, followed to its closure."""
    n = len(kids)
    nfa = rng.random(n) < rates.nfa_share
    a_team = _assessment_team(rng, kids)
    a_worker = pick_workers(rng, a_team, workers)
    speed = workers.set_index("worker").loc[a_worker, "assessment_speed"].to_numpy()
    delay = rng.choice([0, 0, 0, 0, 0, 1, 1, 1, 2, 3, 5], size=n)
    start = add_working_days(referral, delay)
    authorised = add_working_days(start, _durations(rng, a_team, speed, rates))
    support = rng.random(n) < np.where(kids["disabled"].to_numpy(), 0.7, rates.requires_support)
    cin_team = np.where(kids["area"].to_numpy() == "North", "Locality North", "Locality South").astype(object)
    cin_team[a_team == "Children with Disabilities"] = "Children with Disabilities"
    early_p = np.array([TEAM_BY_NAME[t].early_closure for t in cin_team])
    early = support & (rng.random(n) < early_p)
    plan_days = np.exp(np.log(rates.cin_median_days) + 0.65 * rng.standard_normal(n)).astype(np.int64)
    plan_days = np.where(early, rng.integers(15, 45, n), np.maximum(plan_days, 30))
    closure = np.where(
        nfa,
        referral,
        np.where(
            support,
            roll_to_working_day(authorised + plan_days.astype("timedelta64[D]")),
            add_working_days(authorised, rng.integers(0, 6, n)),
        ),
    )
    reason = np.where(rng.random(n) < 0.72, "RC8", "RC9").astype(object)
    reason[support] = _choice(rng, SUPPORT_CLOSURE_MIX, int(support.sum()))
    reason[early] = "RC7"
    reason[nfa] = "RC8"
    source = _choice(rng, SOURCE_MIX, n)
    need = _choice(rng, NEED_MIX, n)
    need[nfa | (~support & (rng.random(n) < 0.35))] = "N9"
    need[support & (cin_team == "Children with Disabilities")] = "N2"
    ref_team = np.where(nfa, "MASH", a_team).astype(object)
    ref_worker = np.where(nfa, pick_workers(rng, np.full(n, "MASH", dtype=object), workers), a_worker)
    current_team = np.where(support, cin_team, a_team)
    return pd.DataFrame(
        {
            "child_id": kids["child_id"].to_numpy(),
            "referral_date": referral.astype("datetime64[ns]"),
            "referral_source": source,
            "nfa": nfa,
            "referral_team": ref_team,
            "referral_worker": ref_worker,
            "assessment_start": pd.to_datetime(np.where(nfa, np.datetime64("NaT"), start)),
            "assessment_authorised": pd.to_datetime(np.where(nfa, np.datetime64("NaT"), authorised)),
            "assessment_team": np.where(nfa, None, a_team),
            "assessment_worker": np.where(nfa, None, a_worker),
            "child_seen": ~nfa & (rng.random(n) < 0.93),
            "requires_support": np.where(nfa, False, support),
            "primary_need": need,
            "cin_team": np.where(nfa, "MASH", current_team),
            "cin_worker": np.where(nfa, ref_worker, np.where(support, pick_workers(rng, cin_team, workers), a_worker)),
            "closure_date": closure.astype("datetime64[ns]"),
            "closure_reason": reason,
            "closed_early": early,
        }
    )


def _next_referral(rng: np.random.Generator, round_: pd.DataFrame, rates: Rates) -> np.ndarray:
    """Date of each child's next referral after this closure (NaT when none)."""
    n = len(round_)
    reason = round_["closure_reason"].to_numpy()
    early = round_["closed_early"].to_numpy()
    p = np.array([NEXT_REFERRAL_P[r] for r in reason]) * (rates.p_re_referral / 0.3)
    p = np.where(round_["nfa"].to_numpy(), 0.30 * rates.p_re_referral / 0.3, p)
    p = np.where(early, 0.7, p)
    again = rng.random(n) < p
    soon = early | (rng.random(n) < rates.p_soon)
    gap = np.where(
        soon,
        rng.exponential(rates.soon_mean_days, n),
        np.exp(np.log(rates.later_median_days) + 0.6 * rng.standard_normal(n)),
    )
    gap = np.maximum(gap.astype(np.int64), 1)
    closure = round_["closure_date"].to_numpy().astype("datetime64[D]")
    nxt = roll_to_working_day(closure + gap.astype("timedelta64[D]"))
    return np.where(again, nxt, np.datetime64("NaT"))


def referrals(
    params: Params, rng: np.random.Generator, kids: pd.DataFrame, workers: pd.DataFrame, rates: Rates = RATES
) -> pd.DataFrame:
    """Every referral (= CIN episode) of every child, with its assessment and closure, in date order."""
    end = np.datetime64(params.end)
    active = kids.loc[~kids["contact_only"]].reset_index(drop=True)
    date = roll_to_working_day(active["first_event"].to_numpy().astype("datetime64[D]"))
    rounds = []
    for _ in range(MAX_REFERRALS):
        keep = date <= end
        active, date = active.loc[keep].reset_index(drop=True), date[keep]
        if active.empty:
            break
        round_ = _one_round(rng, active, date, workers, rates)
        rounds.append(round_)
        date = _next_referral(rng, round_, rates)
        keep = ~np.isnat(date)
        active, date = active.loc[keep].reset_index(drop=True), date[keep]
    frame = pd.concat(rounds, ignore_index=True)
    frame["factors"] = _factors(rng, len(frame))
    return frame.sort_values(["referral_date", "child_id"], kind="stable").reset_index(drop=True)


def _factors(rng: np.random.Generator, n: int) -> list[list[str]]:
    counts = rng.integers(1, 4, n)
    picks = rng.integers(0, len(FACTORS), size=(n, 3))
    return [sorted({FACTORS[j] for j in picks[i, : counts[i]]}) for i in range(n)]


def contacts(
    params: Params, rng: np.random.Generator, kids: pd.DataFrame, refs: pd.DataFrame, rates: Rates = RATES
) -> pd.DataFrame:
    """Contacts: one shortly before each referral, plus contacts that went no further."""
    n_ref = len(refs)
    lead = rng.choice([0, 0, 0, 0, 0, 0, 1, 2, 3, 5], size=n_ref).astype("timedelta64[D]")
    same_source = rng.random(n_ref) < 0.9
    before = pd.DataFrame(
        {
            "child_id": refs["child_id"].to_numpy(),
            "contact_date": (refs["referral_date"].to_numpy().astype("datetime64[D]") - lead).astype("datetime64[ns]"),
            "contact_source": np.where(
                same_source, refs["referral_source"].to_numpy(), _choice(rng, CONTACT_SOURCE_MIX, n_ref)
            ),
            "led_to_referral": True,
        }
    )
    per_child = rng.poisson(rates.extra_contacts_mean, len(kids)) + kids["contact_only"].to_numpy().astype(int)
    idx = np.repeat(np.arange(len(kids)), per_child)
    sim_start = np.datetime64(params.simulation_start)
    end = np.datetime64(params.end)
    first = kids["first_event"].to_numpy().astype("datetime64[D]")[idx]
    lo = np.maximum(first - np.timedelta64(200, "D"), sim_start)
    span = (end - lo).astype(int)
    offset = (rng.random(len(idx)) * (span + 1)).astype(np.int64).astype("timedelta64[D]")
    extra = pd.DataFrame(
        {
            "child_id": kids["child_id"].to_numpy()[idx],
            "contact_date": (lo + offset).astype("datetime64[ns]"),
            "contact_source": _choice(rng, CONTACT_SOURCE_MIX, len(idx)),
            "led_to_referral": False,
        }
    )
    frame = pd.concat([before, extra], ignore_index=True)
    police = frame["contact_source"].to_numpy() == "6"
    weekday = roll_to_working_day(frame["contact_date"].to_numpy().astype("datetime64[D]")).astype("datetime64[ns]")
    frame["contact_date"] = np.where(police, frame["contact_date"].to_numpy(), weekday)
    frame = frame.loc[(frame["contact_date"] >= pd.Timestamp(sim_start)) & (frame["contact_date"] <= pd.Timestamp(end))]
    frame = frame.drop_duplicates(["child_id", "contact_date", "contact_source"])
    return frame.sort_values(["contact_date", "child_id", "contact_source"], kind="stable").reset_index(drop=True)
