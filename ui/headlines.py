"""Measures as pages show them (a metric function, its parameters and its registry entry), and the Overview's headlines."""

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
from metrics.registry import MetricDefinition, definition_of
from ui import data


@dataclass(frozen=True)
class Measure:
    """A metric function called with fixed parameters, and its definition in the registry.

    Label, good direction, what is counted and which filters apply come from the function's registry entry
    (metrics/registry.py), never from the page: `metrics.registry.definition_of(function)`.
    """

    function: Callable[..., pd.DataFrame]
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def definition(self) -> MetricDefinition:
        return definition_of(self.function)

    @property
    def code(self) -> str:
        """The measure's registry code."""
        return self.definition.code

    @property
    def label(self) -> str:
        """The measure's label from the registry, with this call's parameters filled in."""
        return self.definition.label_for(**self.params)

    @property
    def good_direction(self) -> str:
        return self.definition.good_direction

    def rate(self, period: Period, filters: Filters, by: str | None = None) -> pd.DataFrame:
        return data.frame(self.function, period=period, filters=filters, by=by, **self.params)

    def __call__(self, period: Period, filters: Filters, by: str | None = None) -> pd.DataFrame:
        return self.rate(period, filters, by)


@dataclass(frozen=True, kw_only=True)
class Headline(Measure):
    """One headline rate on the Overview: the measure, what must be loaded for it, and where it is shown in detail.

    `page` is the dashboard page that shows the measure in detail (None when no page does).
    """

    key: str
    entity: str
    what: str = "records"
    page: str | None = None
    provisional: dict[str, Any] = field(default_factory=dict)


HEADLINES: tuple[Headline, ...] = (
    Headline(
        metrics.re_referrals.re_referral_rate,
        key="re_referrals",
        entity="referrals",
        what="referrals",
        page="Re-referrals",
    ),
    Headline(
        metrics.timeliness.assessment_timeliness,
        {"clock": "start"},
        key="assessments",
        entity="assessments",
        what="authorised assessments",
        page="Timeliness",
    ),
    Headline(
        metrics.timeliness.recording_timeliness,
        {"target_wd": 5},
        key="recordings",
        entity="recordings",
        what="recorded events",
        page="Timeliness",
        provisional={"target_wd": 5},
    ),
    Headline(
        metrics.ethnicity.ethnicity_completeness,
        {"level": "referral"},
        key="ethnicity",
        entity="referrals",
        what="referrals",
        page="Ethnicity",
    ),
    Headline(
        metrics.front_door.contact_conversion,
        {"within_days": 30},
        key="conversion",
        entity="contacts",
        what="contacts",
        page="Front door",
    ),
    Headline(
        metrics.practice.child_seen_rate,
        key="child_seen",
        entity="assessments",
        what="assessments",
    ),
)
