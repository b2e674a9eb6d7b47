"""The explicit parameters every metric takes: the period, the filters and the named conventions."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Literal

Lookback = Literal["12_calendar_months", "365_days"]
Clock = Literal["start", "referral"]

LOOKBACKS: tuple[str, ...] = ("12_calendar_months", "365_days")
CLOCKS: tuple[str, ...] = ("start", "referral")
DEFAULT_LA_CODE = "889"  # Blackburn with Darwen
DEFAULT_LIMIT_WD = 45
DEFAULT_TARGET_WD = 5

FilterValue = str | tuple[str, ...] | None


@dataclass(frozen=True)
class Period:
    """A reporting period, inclusive at both ends."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"period starts ({self.start}) after it ends ({self.end})")


@dataclass(frozen=True)
class Filters:
    """Who a metric is about; None means everyone. A tuple selects any of several values.

    A filter that does not apply to a metric is ignored (the registry lists which apply).
    """

    team: FilterValue = None
    worker: FilterValue = None
    referral_source: FilterValue = None
    ethnicity_group: FilterValue = None
    age_band: FilterValue = None
    disabled: bool | None = None

    def active(self) -> dict[str, object]:
        """The filters that are set, by name."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    """Return `value` when it is one of `choices`, else raise ValueError naming the parameter."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


# --- Conventions for reading figures safely (issue 10) -------------------------------------------------
UNKNOWNS: tuple[str, ...] = ("exclude", "as_no")
# A yes/no practice field that is not recorded ("child seen" left blank) is "not recorded", not "no":
# by default it is left out of the rate's numerator and denominator and counted beside it
# (`not_recorded`). "as_no" restores the old reading (blank counts in the denominator only).
DEFAULT_UNKNOWNS = "exclude"
# A month where more than this share of a yes/no field is not recorded is marked, never drawn as a rate.
MOSTLY_NOT_RECORDED_SHARE = 0.5
# Groups (teams, workers, sources, closure reasons, ethnic groups) with fewer records than this in
# the denominator are shown with their n but never named as highest or lowest, nor read as a gap.
MIN_DENOMINATOR = 10
# Funnel plot control limits (two-sided coverage): 95% and 99.8%, as NHS England and PHE draw them.
FUNNEL_LEVELS: tuple[float, ...] = (0.95, 0.998)
# Confidence level for the Wilson intervals of the ethnicity gaps.
CONFIDENCE = 0.95
# Below this share of referrals with a known ethnicity, gaps between ethnic groups are not read.
ETHNICITY_READABLE_SHARE = 90.0
# Follow-up window for closures (re-referral after closure), in calendar months.
DEFAULT_FOLLOW_UP_MONTHS = 12
