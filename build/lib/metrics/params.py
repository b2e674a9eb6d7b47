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


FILTER_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Filters))


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    """Return `value` when it is one of `choices`, else raise ValueError naming the parameter."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value
