"""The headline measures the Overview shows: which metric function, what it needs loaded, and which way is better."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

import metrics.ethnicity
import metrics.front_door
import metrics.practice
import metrics.re_referrals
import metrics.timeliness
from metrics.params import Filters, Period
from metrics.registry import good_direction
from ui import data


@dataclass(frozen=True)
class Headline:
    """One headline rate: its label, the metric function behind it, and what must be loaded for it.

    Its good direction comes from the metric registry (the one place it lives); `page` is the
    dashboard page that shows the measure in detail (None when no page does).
    """

    key: str
    label: str
    function: Callable[..., pd.DataFrame]
    entity: str
    params: dict[str, Any] = field(default_factory=dict)
    what: str = "records"
    page: str | None = None
    provisional: dict[str, Any] = field(default_factory=dict)

    @property
    def code(self) -> str:
        """The measure's registry code (the metric function's name)."""
        return self.function.__name__

    @property
    def good_direction(self) -> str:
        return good_direction(self.code)

    def rate(self, period: Period, filters: Filters, by: str | None = None) -> pd.DataFrame:
        return data.frame(self.function, period=period, filters=filters, by=by, **self.params)

    def metric(self) -> Callable[[Period, Filters, str | None], pd.DataFrame]:
        """The rate as a function of (period, filters, by), for drill-downs."""
        return self.rate


HEADLINES: tuple[Headline, ...] = (
    Headline(
        "re_referrals",
        "Re-referrals within 12 months",
        metrics.re_referrals.re_referral_rate,
        "referrals",
        what="referrals",
        page="Re-referrals",
    ),
    Headline(
        "assessments",
        "Assessments within 45 working days",
        metrics.timeliness.assessment_timeliness,
        "assessments",
        {"clock": "start"},
        what="authorised assessments",
        page="Timeliness",
    ),
    Headline(
        "recordings",
        "Recordings written up within 5 working days",
        metrics.timeliness.recording_timeliness,
        "recordings",
        {"target_wd": 5},
        what="recorded events",
        page="Timeliness",
        provisional={"target_wd": 5},
    ),
    Headline(
        "ethnicity",
        "Referrals with ethnicity recorded",
        metrics.ethnicity.ethnicity_completeness,
        "referrals",
        {"level": "referral"},
        what="referrals",
        page="Ethnicity",
    ),
    Headline(
        "conversion",
        "Contacts leading to a referral within 30 days",
        metrics.front_door.contact_conversion,
        "contacts",
        {"within_days": 30},
        what="contacts",
        page="Front door",
    ),
    Headline(
        "child_seen",
        "Assessments where the child was seen",
        metrics.practice.child_seen_rate,
        "assessments",
        what="assessments",
    ),
)
