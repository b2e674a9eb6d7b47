"""The headline measures the Overview shows: which metric function, what it needs loaded, and which way is better."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from metrics.params import Filters, Period
from ui import data


@dataclass(frozen=True)
class Headline:
    """One headline rate: its label, the metric function behind it, and what must be loaded for it."""

    key: str
    label: str
    function: str
    entity: str
    good_direction: str
    params: dict[str, Any] = field(default_factory=dict)
    what: str = "records"

    def rate(self, period: Period, filters: Filters, by: str | None = None) -> pd.DataFrame:
        return data.frame(self.function, period=period, filters=filters, by=by, **self.params)

    def metric(self) -> Callable[[Period, Filters, str | None], pd.DataFrame]:
        """The rate as a function of (period, filters, by), for drill-downs."""
        return self.rate


HEADLINES: tuple[Headline, ...] = (
    Headline("re_referrals", "Re-referrals within 12 months", "metrics.re_referrals.re_referral_rate", "referrals",
             "down", what="referrals"),
    Headline("assessments", "Assessments within 45 working days", "metrics.timeliness.assessment_timeliness",
             "assessments", "up", {"clock": "start"}, what="authorised assessments"),
    Headline("recordings", "Recordings written up within 5 working days", "metrics.timeliness.recording_timeliness",
             "recordings", "up", {"target_wd": 5}, what="recorded events"),
    Headline("ethnicity", "Referrals with ethnicity recorded", "metrics.ethnicity.ethnicity_completeness",
             "referrals", "up", {"level": "referral"}, what="referrals"),
    Headline("conversion", "Contacts leading to a referral within 30 days", "metrics.front_door.contact_conversion",
             "contacts", "neither", {"within_days": 30}, what="contacts"),
    Headline("child_seen", "Assessments where the child was seen", "metrics.practice.child_seen_rate",
             "assessments", "up", what="assessments"),
)

BY_KEY: dict[str, Headline] = {h.key: h for h in HEADLINES}
