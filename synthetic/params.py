"""Parameters of a synthetic council: size, span, seed, and the behaviour of its teams and workers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date

import pandas as pd

DEMO_END = date(2025, 9, 30)


@dataclass(frozen=True)
class Params:
    """What the generator is asked for; everything else follows from these and the seed."""

    children: int = 3000
    years: int = 3
    seed: int = 42
    end: date = DEMO_END
    la_code: str = "889"

    def __post_init__(self) -> None:
        if self.children < 50:
            raise ValueError("children: at least 50")
        if not 1 <= self.years <= 10:
            raise ValueError("years: between 1 and 10")

    @property
    def span_start(self) -> date:
        """First day covered by the extracts (the day after `end` minus `years` years)."""
        return (pd.Timestamp(self.end) - pd.DateOffset(years=self.years) + pd.Timedelta(days=1)).date()

    @property
    def simulation_start(self) -> date:
        """Events are simulated from a year before the span, so history and open cases exist at its start."""
        return (pd.Timestamp(self.span_start) - pd.DateOffset(years=1)).date()

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["end"] = self.end.isoformat()
        d["span_start"] = self.span_start.isoformat()
        d["simulation_start"] = self.simulation_start.isoformat()
        return d


@dataclass(frozen=True)
class Team:
    """A team and how it works: the differences the dashboard's drill-down should reveal."""

    name: str
    role: str  # 'front_door' | 'assessment' | 'cin'
    assessment_median_wd: float = 25.0  # median assessment duration, working days
    assessment_sigma: float = 0.55  # lognormal spread of assessment durations
    early_closure: float = 0.0  # extra share of CIN cases closed too early (then re-referred soon)
    recording_median_wd: float = 2.5  # median recording delay of its workers, working days
    workers: int = 5


TEAMS: tuple[Team, ...] = (
    Team("MASH", "front_door", recording_median_wd=1.6, workers=6),
    Team("Assessment Team 1", "assessment", assessment_median_wd=23.0, assessment_sigma=0.45, recording_median_wd=2.2),
    Team("Assessment Team 2", "assessment", assessment_median_wd=27.0, assessment_sigma=0.5, recording_median_wd=3.8),
    Team(
        "Children with Disabilities",
        "assessment",
        assessment_median_wd=27.0,
        assessment_sigma=0.5,
        recording_median_wd=2.6,
        workers=4,
    ),
    Team("Locality North", "cin", early_closure=0.05, recording_median_wd=2.3),
    Team("Locality South", "cin", early_closure=0.30, recording_median_wd=3.0),
)
TEAM_BY_NAME: dict[str, Team] = {t.name: t for t in TEAMS}


@dataclass(frozen=True)
class Rates:
    """Behavioural knobs of the simulation, calibrated so the true rates land on the targets."""

    contact_only_share: float = 0.28  # children who never get past a contact
    extra_contacts_mean: float = 1.1  # contacts per child that do not become referrals
    nfa_share: float = 0.11  # referrals closed with no further action
    requires_support: float = 0.45  # assessments leading to a CIN plan
    cin_median_days: float = 170.0  # CIN plan length, median days
    p_re_referral: float = 0.35  # chance of another referral after an NFA referral; other closures scale with it
    p_soon: float = 0.45  # of those, share that come back soon (closed too early)
    soon_mean_days: float = 55.0
    later_median_days: float = 420.0
    never_written_up: float = 0.015  # recordings never written up
    recording_sigma: float = 1.05  # lognormal spread of recording delays
    unborn_share: float = 0.03  # children referred before birth
    disabled_share: float = 0.09
    text_id_share: float = 0.12  # child ids that are not numeric
    targets: dict[str, float] = field(
        default_factory=lambda: {
            "re_referral_rate": 22.0,
            "assessment_within_45wd": 85.0,
            "ethnicity_not_known": 5.0,
            "recording_median_wd": 2.5,
        }
    )


RATES = Rates()
