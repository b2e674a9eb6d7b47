"""The child population and the workforce: children with ids, sex, ethnicity, birth dates; teams and workers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic.params import RATES, TEAMS, Params, Rates

# Share of each recorded ethnicity among the children (a Lancashire-like mix); NOBT, REFU and
# missing (None) together make the ~5% "not known".
ETHNICITY_MIX: dict[str | None, float] = {
    "WBRI": 55.0,
    "WIRI": 0.5,
    "WIRT": 0.3,
    "WOTH": 3.0,
    "WROM": 0.5,
    "MWBC": 1.5,
    "MWBA": 0.6,
    "MWAS": 2.0,
    "MOTH": 1.5,
    "AIND": 9.5,
    "APKN": 12.0,
    "ABAN": 1.0,
    "AOTH": 1.5,
    "BCRB": 0.5,
    "BAFR": 1.5,
    "BOTH": 0.5,
    "CHNE": 0.3,
    "OOTH": 2.3,
    "NOBT": 2.4,
    "REFU": 1.1,
    None: 1.5,
}
DISABILITIES = ("LD", "COMM", "AUT", "BEH", "MOB", "HEAR", "VIS", "HAND", "PC", "INC", "CON", "DDA")

FIRST_NAMES = (
    "Aisha",
    "Ben",
    "Chloe",
    "Daniel",
    "Ellie",
    "Farah",
    "George",
    "Hannah",
    "Imran",
    "Jade",
    "Kieran",
    "Leah",
    "Mohammed",
    "Nadia",
    "Oliver",
    "Priya",
    "Qasim",
    "Rachel",
    "Sam",
    "Tariq",
    "Una",
    "Victoria",
    "Wasim",
    "Yasmin",
    "Zoe",
    "Amir",
    "Bethany",
    "Callum",
    "Dawn",
    "Ethan",
    "Fiona",
    "Gareth",
    "Hollie",
)
SURNAMES = (
    "Ahmed",
    "Barker",
    "Clegg",
    "Dewhurst",
    "Entwistle",
    "Fielding",
    "Greenhalgh",
    "Hussain",
    "Ingham",
    "Jones",
    "Khan",
    "Lord",
    "Mahmood",
    "Nuttall",
    "O'Brien",
    "Patel",
    "Quinn",
    "Riley",
    "Shah",
    "Taylor",
    "Uddin",
    "Walsh",
    "Yates",
    "Ashworth",
    "Bibi",
    "Crook",
    "Duckworth",
    "Haworth",
    "Iqbal",
)


def children(params: Params, rng: np.random.Generator, rates: Rates = RATES) -> pd.DataFrame:
    """One row per child: id, sex, ethnicity, date of birth (or expected), disability, area, first event date."""
    n = params.children
    numeric = rng.random(n) >= rates.text_id_share
    numbers = rng.choice(np.arange(1_000_000, 9_999_999), size=n, replace=False)
    ids = np.where(numeric, numbers.astype(str), np.char.add("C", np.char.zfill((numbers % 1_000_000).astype(str), 6)))
    sim_start = np.datetime64(params.simulation_start)
    span_days = (np.datetime64(params.end) - sim_start).astype(int)
    first_event = sim_start + rng.integers(0, span_days + 1, n).astype("timedelta64[D]")
    age_days = _age_at_first_event(rng, n)
    unborn = rng.random(n) < rates.unborn_share
    age_days = np.where(unborn, -rng.integers(20, 250, n), age_days)
    codes = list(ETHNICITY_MIX)
    weights = np.array(list(ETHNICITY_MIX.values()))
    ethnicity = np.array(codes, dtype=object)[rng.choice(len(codes), size=n, p=weights / weights.sum())]
    sex = np.where(rng.random(n) < 0.5, "M", "F").astype(object)
    sex[unborn] = "U"
    sex[(~unborn) & (rng.random(n) < 0.01)] = "U"
    disabled = rng.random(n) < rates.disabled_share
    frame = pd.DataFrame(
        {
            "child_id": ids,
            "numeric_id": numeric,
            "sex": sex,
            "ethnicity": ethnicity,
            "date_of_birth": (first_event - age_days.astype("timedelta64[D]")).astype("datetime64[ns]"),
            "disabled": disabled,
            "disability": np.where(disabled, np.array(DISABILITIES)[rng.integers(0, len(DISABILITIES), n)], "NONE"),
            "area": np.where(rng.random(n) < 0.55, "North", "South"),
            "first_event": first_event.astype("datetime64[ns]"),
            "contact_only": rng.random(n) < rates.contact_only_share,
            "upn": _upns(rng, n),
        }
    )
    return frame


def _age_at_first_event(rng: np.random.Generator, n: int) -> np.ndarray:
    """Age in days at the first event: many babies, a bulge in the early teens."""
    weight = np.array([12, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 8, 8, 7, 5, 3], dtype=float)
    age_years = rng.choice(np.arange(18), size=n, p=weight / weight.sum())
    return age_years * 365 + rng.integers(0, 365, n)


def _upns(rng: np.random.Generator, n: int) -> np.ndarray:
    letters = np.array(list("ABCDEFGHJKLMNPQRTUVWXYZ"))
    digits = rng.integers(0, 10, size=(n, 12)).astype(str)
    body = np.array(["".join(row) for row in digits])
    return np.char.add(letters[rng.integers(0, len(letters), n)], body)


def workers(rng: np.random.Generator) -> pd.DataFrame:
    """One row per worker: name, team, recording habits; a few names carry a non-breaking space."""
    rows = []
    used: set[str] = set()
    for team in TEAMS:
        for i in range(team.workers):
            while True:
                name = f"{FIRST_NAMES[rng.integers(len(FIRST_NAMES))]} {SURNAMES[rng.integers(len(SURNAMES))]}"
                if name not in used:
                    used.add(name)
                    break
            rows.append({"worker": name, "team": team.name, "slot": i})
    frame = pd.DataFrame(rows)
    n = len(frame)
    team_median = frame["team"].map({t.name: t.recording_median_wd for t in TEAMS}).to_numpy()
    jitter = np.exp(rng.normal(0.0, 0.25, n))
    frame["recording_median_wd"] = team_median * jitter
    # One worker in each of two teams falls well behind with write-ups: the drill-down finds them.
    slow = (frame["slot"] == 0) & frame["team"].isin(["Assessment Team 2", "Locality South"])
    frame.loc[slow, "recording_median_wd"] *= 3.0
    frame["never_written_up"] = np.where(slow, 0.06, 0.012)
    frame["views_share"] = np.clip(rng.normal(0.68, 0.15, n), 0.25, 0.95)
    frame["nbsp_in_name"] = rng.random(n) < 0.3
    frame["assessment_speed"] = np.exp(rng.normal(0.0, 0.06, n))
    frame.loc[(frame["slot"] == 1) & (frame["team"] == "Assessment Team 2"), "assessment_speed"] = 1.35
    return frame.drop(columns="slot")
