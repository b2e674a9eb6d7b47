"""The registry of metric definitions: each measure's function, label, wording, unit, direction, filters, breakdowns."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

import pandas as pd

from metrics import (
    benchmarks,
    ethnicity,
    ethnicity_gaps,
    front_door,
    funnel,
    practice,
    privacy,
    provisional,
    re_referrals,
    spc,
    timeliness,
)
from store.derive import DERIVED_TABLES

ALL_FILTERS: tuple[str, ...] = ("team", "worker", "referral_source", "ethnicity_group", "age_band", "disabled")
GOOD_DIRECTIONS: tuple[str, ...] = ("up", "down", "neither")
KINDS: tuple[str, ...] = ("rate", "count", "list", "distribution", "benchmark", "method")
DIRECTION_WORDS: dict[str, str] = {
    "up": "higher is better",
    "down": "lower is better",
    "neither": "neither: context matters",
}
# Words for a parameter's value where a label names it ("{lookback}" -> "12 months"); other values are shown as given.
LABEL_WORDS: dict[str, dict[str, str]] = {
    "lookback": {"12_calendar_months": "12 months", "365_days": "365 days"},
    "level": {"referral": "Referrals", "child": "Children", "contact": "Contacts", "assessment": "Assessments"},
}

DFE_CIN = "DfE, Children in need statistics (Explore Education Statistics), table C1/B1 definitions"
WORKING_TOGETHER = "Working Together to Safeguard Children (45 working days from referral)"
OFSTED_LETTER = "Ofsted inspection letter, Blackburn with Darwen, 2010 (area for development)"
LOCAL = "Local measure defined by this product (no national definition)"
WORKING_DAYS = (
    "Working days are Monday to Friday less England & Wales bank holidays (one-off days included, "
    "from the `holidays` library). The working-day duration from a to b counts working days w with "
    "a < w <= b: the same day is 0, Friday to Monday is 1, a weekend start counts from the next working day."
)


@dataclass(frozen=True)
class MetricDefinition:
    """One metric's definition: the function that computes it, and what pages, charts, CSVs and docs say about it.

    `label` is the short name on tiles, chart titles and CSVs (the title when not given); it may name the
    function's parameters in braces ("within {target_wd} working days"), filled by `label_for`. `counted` is
    what the numerator counts, in a few words, and `records` what the denominator counts (CSV headings, hover).
    """

    code: str
    title: str
    wording: str
    numerator: str
    denominator: str
    unit: str
    good_direction: str
    source: str
    convention: str
    filters: tuple[str, ...]
    breakdowns: tuple[str, ...]
    function: Callable[..., Any]
    kind: str = "rate"
    records: str = ""
    unknowns: str = ""
    label: str = ""
    counted: str = ""

    @property
    def function_name(self) -> str:
        """The function's dotted name, for docs ('metrics.re_referrals.re_referral_rate')."""
        return f"{self.function.__module__}.{self.function.__qualname__}"

    def label_for(self, **params: object) -> str:
        """The label with the call's parameters filled in, the function's defaults for the others."""
        values = {**_defaults(self.function), **params}
        words = {name: LABEL_WORDS.get(name, {}).get(str(value), str(value)) for name, value in values.items()}
        return self.label.format_map(words)

    @property
    def value_title(self) -> str:
        """The value axis of a chart of the measure: '% of referrals' for a rate, else the unit."""
        return f"% of {self.records}" if self.unit == "%" and self.records else self.unit

    def headings(self) -> dict[str, str]:
        """CSV and table headings of the measure's columns: what the numerator and denominator count, the unit."""
        if self.kind != "rate" or self.unit != "%":
            return {}
        return {
            "numerator": f"{self.counted or 'numerator'} (numerator)".capitalize(),
            "denominator": f"{self.records or 'denominator'} (denominator)".capitalize(),
            "rate": f"Rate ({self.unit})",
        }


def _defaults(function: Callable[..., Any]) -> dict[str, object]:
    parameters = inspect.signature(function).parameters.values()
    return {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}


_DEFINITIONS: tuple[MetricDefinition, ...] = (
    # --- re-referrals ----------------------------------------------------------------------
    MetricDefinition(
        code="re_referral_rate",
        title="Re-referrals within 12 months",
        wording="Of the referrals made in the period, the percentage that came within 12 months of a previous "
        "referral of the same child.",
        numerator="referrals in the period with a previous referral of the same child within the look-back",
        denominator="referrals in the period (one per child per day)",
        unit="%",
        good_direction="down",
        source=DFE_CIN,
        convention="Default look-back '12_calendar_months': a referral on d is a re-referral when the child has "
        "another referral dated p with d - 12 calendar months <= p < d (12 months before 29 Feb 2024 is "
        "28 Feb 2023; a referral exactly 12 months after the last counts). Alternative '365_days': "
        "d - 365 <= p < d. Same-day duplicate referrals of one child are one referral (DfE rule 8820), "
        "never a re-referral of themselves. The look-back reaches before the period: a warning shows when "
        "the store holds less than 12 months of referrals before it.",
        filters=ALL_FILTERS,
        breakdowns=("month", "team", "worker", "referral_source", "ethnicity_group", "age_band"),
        function=re_referrals.re_referral_rate,
        label="Re-referrals within {lookback}",
        counted="re-referrals",
    ),
    MetricDefinition(
        code="re_referred_children",
        title="Children re-referred",
        wording="Each re-referral in the period with the child's previous referral and previous closure.",
        numerator="-",
        denominator="-",
        unit="list",
        good_direction="neither",
        source=OFSTED_LETTER,
        convention="Same look-back as the re-referral rate. The previous closure is the child's latest closed "
        "CIN episode, or NFA referral, closed on or before the referral date (an episode that started on "
        "the referral date is the referral's own). Of two closed on one day, the later-started one is "
        "named (an episode before an NFA referral).",
        filters=ALL_FILTERS,
        breakdowns=(),
        function=re_referrals.re_referred_children,
        kind="list",
    ),
    MetricDefinition(
        code="re_referral_after_closure",
        title="Re-referral after closure",
        wording="Of the cases closed in the period (closed CIN episodes and referrals closed with no further "
        "action), the percentage followed by a new referral of the child within N months.",
        numerator="closures in the period followed by a referral of the child within N calendar months",
        denominator="closures in the period: closed CIN episodes plus NFA referrals without an episode of their own",
        unit="%",
        good_direction="down",
        source=OFSTED_LETTER,
        convention="N = 3, 6 or 12 (default 12). A referral on the closure date counts as following it. NFA "
        "referrals carry closure reason 'NFA'. `incomplete_follow_up` counts closures not (yet) followed by a referral "
        "whose N months have not all passed at the as-of date: their outcome may still change.",
        filters=("team", "worker", "ethnicity_group", "age_band", "disabled"),
        breakdowns=("month", "closure_reason", "team", "worker"),
        function=re_referrals.re_referral_after_closure,
        label="Closures followed by a referral within {within_months} months",
        counted="closures followed by a referral",
    ),
    MetricDefinition(
        code="closure_to_re_referral",
        title="Time from closure to the next referral",
        wording="Closures in the period by how long it was until the child's next referral.",
        numerator="closures in the band",
        denominator="closures in the period",
        unit="count and %",
        good_direction="neither",
        source=OFSTED_LETTER,
        convention="Bands in calendar months after the closure date: within 1 month, 1-3, 3-6, 6-12, over 12 "
        "months, not re-referred (as at the latest data).",
        filters=("team", "worker", "ethnicity_group", "age_band", "disabled"),
        breakdowns=(),
        function=re_referrals.closure_to_re_referral,
        kind="distribution",
    ),
    # --- timeliness ------------------------------------------------------------------------
    MetricDefinition(
        code="assessment_timeliness",
        title="Assessments completed within 45 working days",
        wording="Of the assessments authorised in the period, the percentage authorised within 45 working days.",
        numerator="assessments authorised in the period within the limit (default 45 working days)",
        denominator="assessments authorised in the period (with a start date, or a referral date on the "
        "referral clock)",
        unit="%",
        good_direction="up",
        source=DFE_CIN + "; " + WORKING_TOGETHER,
        convention="Clock 'start' (DfE statistic): assessment start to authorisation. Clock 'referral' "
        "(Working Together): referral to authorisation, the referral being the CIN census episode's "
        "referral date where given, else the child's latest referral on or before the start. "
        + WORKING_DAYS
        + " Day 45 is in time, day 46 late. `median_wd` is the median duration.",
        filters=ALL_FILTERS,
        breakdowns=("month", "team", "worker", "referral_source", "ethnicity_group", "age_band"),
        function=timeliness.assessment_timeliness,
        label="Assessments within {limit_wd} working days",
        counted="assessments in time",
    ),
    MetricDefinition(
        code="assessment_duration_bands",
        title="Assessment durations (DfE bands)",
        wording="Assessments authorised in the period by working days taken.",
        numerator="assessments authorised in the period in the band",
        denominator="assessments authorised in the period",
        unit="count and %",
        good_direction="neither",
        source=DFE_CIN,
        convention="Bands: same day (0), 1-10, 11-20, 21-30, 31-40, 41-45, 46-50, 51-60, 61+ working days. "
        + WORKING_DAYS,
        filters=ALL_FILTERS,
        breakdowns=(),
        function=timeliness.assessment_duration_bands,
        kind="distribution",
    ),
    MetricDefinition(
        code="open_assessments_overdue",
        title="Open assessments past 45 working days",
        wording="Assessments started and not authorised at the as-of date that have been open more than "
        "45 working days.",
        numerator="open assessments with working days open > limit",
        denominator="-",
        unit="list",
        good_direction="down",
        source="DfE CIN census validation rule 8670Q",
        convention="As-of date: the latest extract as-of date in `loads` unless given. Working days open = "
        "working days from the start to the as-of date. Shown apart from assessments completed late. " + WORKING_DAYS,
        filters=ALL_FILTERS,
        breakdowns=(),
        function=timeliness.open_assessments_overdue,
        label="Open assessments past {limit_wd} working days",
        kind="list",
    ),
    MetricDefinition(
        code="count_open_assessments_overdue",
        title="Number of open assessments past 45 working days",
        wording="How many assessments were open at the as-of date after more than 45 working days.",
        numerator="open assessments with working days open > limit",
        denominator="-",
        unit="count",
        good_direction="down",
        source="DfE CIN census validation rule 8670Q",
        convention="The count of the open_assessments_overdue list (same as-of date, filters and limit).",
        filters=ALL_FILTERS,
        breakdowns=(),
        function=timeliness.count_open_assessments_overdue,
        label="Open assessments past {limit_wd} working days",
        kind="count",
    ),
    MetricDefinition(
        code="recording_timeliness",
        title="Records written up within target",
        wording="Of the events in the period, the percentage written up within the target number of working days.",
        numerator="recordings with event date in the period written up with a delay <= target",
        denominator="recordings with event date in the period (written up or not)",
        unit="%",
        good_direction="up",
        source=OFSTED_LETTER + "; " + LOCAL,
        convention="Delay = working days from the event date to the date it was entered. Target: 5 working "
        "days by default (no national standard; configurable). Events not yet written up count in the "
        "denominator and not in the numerator (`not_written_up`). `median_delay_wd` and `p90_delay_wd` are "
        "over written-up recordings (linear interpolation). " + WORKING_DAYS,
        filters=("team", "worker"),
        breakdowns=("month", "team", "worker", "record_type"),
        function=timeliness.recording_timeliness,
        label="Recordings written up within {target_wd} working days",
        counted="written up in time",
    ),
    MetricDefinition(
        code="recording_backlog",
        title="Events not yet written up",
        wording="Recorded events on or before the as-of date that had not been written up by then.",
        numerator="-",
        denominator="-",
        unit="list",
        good_direction="down",
        source=LOCAL,
        convention="As-of date as for open assessments. Working days waiting counted as for recording delay.",
        filters=("team", "worker"),
        breakdowns=(),
        function=timeliness.recording_backlog,
        kind="list",
    ),
    MetricDefinition(
        code="count_recording_backlog",
        title="Number of events not yet written up",
        wording="How many recorded events on or before the as-of date had not been written up by then.",
        numerator="events on or before the as-of date not written up by then",
        denominator="-",
        unit="count",
        good_direction="down",
        source=LOCAL,
        convention="The count of the recording_backlog list (same as-of date and filters).",
        filters=("team", "worker"),
        breakdowns=(),
        function=timeliness.count_recording_backlog,
        label="Events not yet written up",
        kind="count",
    ),
    # --- ethnicity --------------------------------------------------------------------------
    MetricDefinition(
        code="ethnicity_completeness",
        title="Ethnicity recorded",
        wording="Of the records in the period, the percentage whose ethnicity is one of the 18 known DfE codes.",
        numerator="records with a known ethnicity code (not REFU, NOBT, missing or invalid)",
        denominator="records in the period: referrals (default), contacts, assessments started, or distinct "
        "children referred",
        unit="%",
        good_direction="up",
        source="DfE CIN census rule 4220; " + OFSTED_LETTER,
        convention="Level 'referral', 'contact', 'assessment': the ethnicity written on each record. Level "
        "'child': each child referred in the period, by the child's ethnicity across all records (the latest "
        "known code, else the latest recorded value). Refused (REFU), not obtained (NOBT), missing and "
        "invalid are counted apart. Records about unborn children stay in the denominator; `unborn` shows "
        "how many there were and `rate_excluding_unborn` the rate without them.",
        filters=ALL_FILTERS,
        breakdowns=("month", "team", "worker", "referral_source", "age_band", "contact_source"),
        function=ethnicity.ethnicity_completeness,
        label="{level} with a known ethnicity",
        counted="known ethnicity",
    ),
    MetricDefinition(
        code="ethnicity_inconsistent_children",
        title="Children whose ethnicity differs between records",
        wording="Children recorded with more than one known ethnicity code across all records.",
        numerator="-",
        denominator="-",
        unit="list",
        good_direction="down",
        source=OFSTED_LETTER,
        convention="Only known codes are compared: a record saying REFU or NOBT beside a known code is a gap, "
        "not a contradiction. `records` counts the child's records that carry an ethnicity.",
        filters=("ethnicity_group", "disabled"),
        breakdowns=(),
        function=ethnicity.ethnicity_inconsistent_children,
        kind="list",
    ),
    MetricDefinition(
        code="count_ethnicity_inconsistent_children",
        title="Number of children recorded with different ethnicities",
        wording="How many children have more than one known ethnicity code across their records.",
        numerator="children with more than one distinct known code",
        denominator="-",
        unit="count",
        good_direction="down",
        source=OFSTED_LETTER,
        convention="The count of the ethnicity_inconsistent_children list (same filters), computed without "
        "fetching the list, so pages can show it at national scale.",
        filters=("ethnicity_group", "disabled"),
        breakdowns=(),
        function=ethnicity.count_ethnicity_inconsistent_children,
        label="Children with more than one ethnicity recorded",
        kind="count",
    ),
    MetricDefinition(
        code="ethnic_makeup",
        title="Ethnic make-up of referred children",
        wording="Children referred in the period by ethnic group, beside the local child population.",
        numerator="children referred in the period in the group",
        denominator="children referred in the period",
        unit="%",
        good_direction="neither",
        source="ONS census population by ethnicity (supplied locally)",
        convention="`share` is of all referred children; `share_known` of those with a known group. "
        "`population_share` comes from data/reference/local_child_population_by_ethnicity.csv "
        "(la_code, ethnicity_group, children), which a council supplies; the project ships no population "
        "by ethnicity, so without that file population_share is NaN.",
        filters=ALL_FILTERS,
        breakdowns=(),
        function=ethnicity.ethnic_makeup,
        kind="distribution",
    ),
    # --- front door -------------------------------------------------------------------------
    MetricDefinition(
        code="contacts_per_child",
        title="Contacts per child",
        wording="Contacts in the period divided by the number of children they were about.",
        numerator="contacts in the period",
        denominator="distinct children with a contact in the period",
        unit="ratio",
        good_direction="down",
        source=LOCAL,
        convention="The referral_source filter selects the contact source (same DfE code list).",
        filters=("referral_source", "ethnicity_group", "age_band", "disabled"),
        breakdowns=("month", "contact_source", "ethnicity_group", "age_band"),
        function=front_door.contacts_per_child,
    ),
    MetricDefinition(
        code="contact_conversion",
        title="Contacts leading to a referral",
        wording="Of the contacts in the period, the percentage followed by a referral of the child within N days.",
        numerator="contacts followed by a referral on the same day or within N calendar days (default 30)",
        denominator="contacts in the period",
        unit="%",
        good_direction="neither",
        source=LOCAL,
        convention="The referral_source filter selects the contact source.",
        filters=("referral_source", "ethnicity_group", "age_band", "disabled"),
        breakdowns=("month", "contact_source", "ethnicity_group", "age_band"),
        function=front_door.contact_conversion,
        label="Contacts leading to a referral within {within_days} days",
        counted="contacts leading to a referral",
    ),
    MetricDefinition(
        code="repeat_contacts",
        title="Repeat contacts within 12 months",
        wording="Of the contacts in the period, the percentage about a child with an earlier contact in the "
        "previous 12 months.",
        numerator="contacts with an earlier contact (an earlier day) of the child within 12 calendar months",
        denominator="contacts in the period",
        unit="%",
        good_direction="down",
        source=LOCAL,
        convention="Contacts on the same day (from different sources) are not repeats of each other. The "
        "referral_source filter selects the contact source.",
        filters=("referral_source", "ethnicity_group", "age_band", "disabled"),
        breakdowns=("month", "contact_source", "ethnicity_group", "age_band"),
        function=front_door.repeat_contacts,
        counted="repeat contacts",
    ),
    # --- practice ---------------------------------------------------------------------------
    MetricDefinition(
        code="child_seen_rate",
        title="Child seen during assessment",
        wording="Of the assessments authorised in the period, the percentage where the child was seen.",
        numerator="assessments authorised in the period recorded as child seen",
        denominator="assessments authorised in the period",
        unit="%",
        good_direction="up",
        source="Ofsted Annex A List 4; " + OFSTED_LETTER,
        convention="An assessment with no answer counts in the denominator only (`not_recorded`).",
        filters=ALL_FILTERS,
        breakdowns=("month", "team", "worker", "referral_source", "ethnicity_group", "age_band"),
        function=practice.child_seen_rate,
        label="Assessments where the child was seen",
        counted="child seen",
    ),
    MetricDefinition(
        code="child_views_rate",
        title="Child's views recorded",
        wording="Of the recordings of events in the period that say, the percentage carrying the child's views.",
        numerator="recordings marked as carrying the child's views",
        denominator="recordings with event date in the period where the extract says whether views are recorded",
        unit="%",
        good_direction="up",
        source=OFSTED_LETTER,
        convention="Recordings whose extract does not carry the field are left out (`not_stated`).",
        filters=("team", "worker"),
        breakdowns=("month", "team", "worker", "record_type"),
        function=practice.child_views_rate,
        label="Recordings with the child's views",
        counted="views recorded",
    ),
    MetricDefinition(
        code="ethnicity_gaps",
        title="Gaps in service by ethnic group",
        wording="For each ethnic group, the re-referral rate, assessments within 45 working days and child seen, "
        "against the same rate for all other known groups.",
        numerator="the group's records meeting the measure (as each measure defines it)",
        denominator="the group's records in the period with a known ethnicity (child seen: where recorded)",
        unit="%",
        good_direction="neither",
        source=OFSTED_LETTER + "; Wilson (1927) score interval; Newcombe (1998) method 10 for the difference",
        convention="'The rest' is every other group with a known code. Each rate has a Wilson score interval "
        "(default 95%); the difference has Newcombe's hybrid score interval, and a group is 'higher' or "
        "'lower' than the rest only when that interval excludes zero. A group or rest with a denominator "
        "under MIN_DENOMINATOR (default 10) is 'too few to compare'. When fewer than ETHNICITY_READABLE_SHARE "
        "(default 90%) of the period's referrals have a known ethnicity, no gap is read.",
        filters=ALL_FILTERS,
        breakdowns=(),
        function=ethnicity_gaps.ethnicity_gaps,
        kind="distribution",
    ),
    MetricDefinition(
        code="ethnicity_representation",
        title="Representation of ethnic groups among referred children",
        wording="Each known group's share of the children referred in the period against its share of the "
        "local child population.",
        numerator="children referred in the period in the group",
        denominator="children referred in the period with a known ethnic group",
        unit="%",
        good_direction="neither",
        source="ONS census population by ethnicity (supplied locally); Wilson (1927) score interval",
        convention="'Over-represented' when the population share is below the Wilson interval (default 95%) of "
        "the referral share, 'under-represented' when above it; groups under MIN_DENOMINATOR children are "
        "'too few to compare'. Population shares come from data/reference/local_child_population_by_ethnicity.csv "
        "(la_code, ethnicity_group, children); without it the verdict is 'no population figures'.",
        filters=ALL_FILTERS,
        breakdowns=(),
        function=ethnicity_gaps.ethnicity_representation,
        kind="distribution",
    ),
    # --- benchmarks, SPC, privacy -------------------------------------------------------------
    MetricDefinition(
        code="re_referral_benchmarks",
        title="Re-referral rate: England, region and statistical neighbours",
        wording="Published re-referral rates by year (year ending 31 March).",
        numerator="re-referrals within 12 months (published)",
        denominator="referrals (published)",
        unit="%",
        good_direction="down",
        source="DfE Children in need table C1 2013-2025; DfE statistical neighbours 2025 "
        "(Open Government Licence v3.0)",
        convention="'Statistical neighbours' is the mean of the ten neighbours' published rates (as the DfE "
        "LAIT tool shows it), with their referrals and re-referrals summed; suppressed values (c, x, z, low) "
        "are left out. The LA code is a parameter (default 889, Blackburn with Darwen).",
        filters=(),
        breakdowns=("year", "area"),
        function=benchmarks.re_referral_benchmarks,
        kind="benchmark",
    ),
    MetricDefinition(
        code="referrals_per_10000",
        title="Referrals per 10,000 children",
        wording="Referrals in the period per 10,000 children aged 0-17 living in the local authority.",
        numerator="referrals in the period",
        denominator="children aged 0-17 (ONS mid-year estimate) / 10,000",
        unit="per 10,000",
        good_direction="neither",
        source="ONS mid-year population estimates 2012-2024 (Open Government Licence v3.0)",
        convention="The population is the LA's latest ONS estimate for a year up to the period's end year; "
        "the rate is per period, so compare 12-month periods with the DfE's annual rates.",
        filters=(),
        breakdowns=(),
        function=benchmarks.referrals_per_10000,
        kind="count",
    ),
    MetricDefinition(
        code="spc_limits",
        title="Statistical process control limits",
        wording="Centre line and control limits for a monthly series, with special-cause signals flagged.",
        numerator="-",
        denominator="-",
        unit="method",
        good_direction="neither",
        source="NHS England, Making Data Count",
        convention="p-chart: centre = pooled rate, limits = centre +/- 3 sqrt(p(1-p)/n) for each month's n "
        "(clamped to 0-100). XmR: centre = mean, limits = mean +/- 2.66 x mean moving range. Signals, in "
        "priority: a point outside the limits ('above'/'below'); a run of 7 or more points on one side of "
        "the centre ('run'); 6 or more points steadily rising or falling ('trend').",
        filters=(),
        breakdowns=("month",),
        function=spc.spc_limits,
        kind="method",
    ),
    MetricDefinition(
        code="funnel_limits",
        title="Funnel plot limits",
        wording="Teams and workers placed by rate against the number of records, inside or outside control "
        "limits that narrow as the number grows.",
        numerator="-",
        denominator="-",
        unit="method",
        good_direction="neither",
        source="Spiegelhalter (2005) funnel plots; PHE and NHS England funnel plot practice",
        convention="Target: the authority's rate for the period. Limits: exact binomial quantiles with "
        "Spiegelhalter's interpolation at 95% and 99.8% two-sided coverage (FUNNEL_LEVELS), clamped to 0-100%. "
        "A unit under MIN_DENOMINATOR (default 10) records is 'too few to compare' and never named as highest "
        "or lowest.",
        filters=(),
        breakdowns=(),
        function=funnel.funnel_limits,
        kind="method",
    ),
    MetricDefinition(
        code="provisional_from",
        title="Provisional months",
        wording="Months whose work was not all due at the as-of date: drawn apart, not scored.",
        numerator="-",
        denominator="-",
        unit="method",
        good_direction="neither",
        source=LOCAL,
        convention="Recording timeliness: months ending within the write-up target (working days) of the as-of "
        "date. Assessment timeliness: months ending within 45 working days of it. Re-referral after closure: "
        "months ending within the follow-up window (12 calendar months). Provisional months are left out of SPC "
        "limits, signals and trend verdicts, and counted in a caption.",
        filters=(),
        breakdowns=(),
        function=provisional.provisional_from,
        kind="method",
    ),
    MetricDefinition(
        code="suppress_small_counts",
        title="Small-count suppression",
        wording="Counts below a threshold are hidden (and rates built on them) before aggregates leave the service.",
        numerator="-",
        denominator="-",
        unit="method",
        good_direction="neither",
        source="DfE statistical disclosure control (suppressed values published as 'c')",
        convention="Default threshold 5: a count of 1-4 is suppressed; zero is shown. Secondary suppression: in a "
        "breakdown whose counts add up to the published overall, a column with exactly one suppressed count also "
        "loses its smallest other non-zero count. A suppressed numerator or denominator suppresses the rate (and "
        "every figure derived from the row's counts) in its row. Suppressed cells are blank (NA), for charts.",
        filters=(),
        breakdowns=(),
        function=privacy.suppress_small_counts,
        kind="method",
    ),
    MetricDefinition(
        code="disclosure_mask",
        title="Cells withheld by disclosure control",
        wording="Which cells of an aggregate are withheld before it leaves the service: small counts, a partner for a "
        "lone small count in a column, and the rates and other figures of their rows.",
        numerator="-",
        denominator="-",
        unit="method",
        good_direction="neither",
        source="DfE statistical disclosure control (suppressed values published as 'c')",
        convention="The rules of suppress_small_counts; the threshold is a setting ([disclosure] threshold in "
        "config/access.toml, default 5).",
        filters=(),
        breakdowns=(),
        function=privacy.suppression_mask,
        kind="method",
    ),
    MetricDefinition(
        code="publishable",
        title="Publishable aggregate",
        wording="An aggregate fit to share outside the service: every withheld cell written as 'c', as the DfE "
        "publishes it.",
        numerator="-",
        denominator="-",
        unit="method",
        good_direction="neither",
        source="DfE statistical disclosure control (suppressed values published as 'c')",
        convention="The cells of disclosure_mask written 'c'; used by every download marked for sharing and by the "
        "dashboard's publishable view.",
        filters=(),
        breakdowns=(),
        function=privacy.publishable,
        kind="method",
    ),
    MetricDefinition(
        code="suppress_table",
        title="Publishable two-way table",
        wording="A table of counts with row and column totals, fit to share: small cells 'c', then secondary "
        "suppression along every row and column until no total reveals a hidden cell.",
        numerator="-",
        denominator="-",
        unit="method",
        good_direction="neither",
        source="DfE statistical disclosure control (suppressed values published as 'c')",
        convention="Repeat until nothing changes: a row or column with exactly one hidden cell also hides its "
        "smallest shown non-zero cell (zeros are shown and never chosen); a total from 1 to threshold-1 is 'c'.",
        filters=(),
        breakdowns=(),
        function=privacy.suppress_table,
        kind="method",
    ),
)

# What each measure counts (the records its filters act on) and how values that are not recorded count.
# Kept beside the definitions so the definitions page, tiles and charts read them from one place.
_RECORDS: dict[str, str] = {
    "re_referral_rate": "referrals",
    "re_referred_children": "referrals",
    "re_referral_after_closure": "closures",
    "closure_to_re_referral": "closures",
    "assessment_timeliness": "assessments",
    "assessment_duration_bands": "assessments",
    "open_assessments_overdue": "assessments",
    "count_open_assessments_overdue": "assessments",
    "recording_timeliness": "recordings",
    "recording_backlog": "recordings",
    "count_recording_backlog": "recordings",
    "ethnicity_completeness": "records",
    "ethnicity_inconsistent_children": "children",
    "count_ethnicity_inconsistent_children": "children",
    "ethnic_makeup": "referrals",
    "ethnicity_gaps": "referrals and assessments",
    "ethnicity_representation": "referrals",
    "re_referral_benchmarks": "published figures",
    "referrals_per_10000": "published figures",
    "contacts_per_child": "contacts",
    "contact_conversion": "contacts",
    "repeat_contacts": "contacts",
    "child_seen_rate": "assessments",
    "child_views_rate": "recordings",
}
_NO_TEAM = (
    "Records without a team or worker count in the authority figure and appear as 'not recorded' in "
    "team and worker breakdowns; a team or worker filter leaves them out."
)
_UNKNOWNS: dict[str, str] = {
    "re_referral_rate": "Every referral has a date, so none is unknown. " + _NO_TEAM,
    "re_referral_after_closure": "Closures whose follow-up window has not all passed at the as-of date are "
    "provisional: counted in `incomplete_follow_up`, and their months are not scored. " + _NO_TEAM,
    "closure_to_re_referral": "'Not re-referred' means not as at the latest data: recent closures may still move.",
    "assessment_timeliness": "Assessments without a start date (or, on the referral clock, without a referral "
    "date) are left out of the denominator. Months within the limit (45 working days) of the as-of date are "
    "provisional: late assessments there are still open. " + _NO_TEAM,
    "assessment_duration_bands": "Assessments without a start date are left out.",
    "open_assessments_overdue": "A point-in-time list at the as-of date, not a period figure.",
    "count_open_assessments_overdue": "A point-in-time count at the as-of date, not a period figure.",
    "recording_timeliness": "Events not yet written up count in the denominator and not the numerator; months "
    "whose last events are not yet due (target not elapsed at the as-of date) are provisional. " + _NO_TEAM,
    "recording_backlog": "A point-in-time list at the as-of date, not a period figure.",
    "count_recording_backlog": "A point-in-time count at the as-of date, not a period figure.",
    "ethnicity_completeness": "Unknowns are what this measures: REFU, NOBT, missing and invalid are each counted "
    "apart and are not 'known'.",
    "ethnicity_gaps": "Referrals whose ethnicity is not known are left out of every group and of 'the rest'; "
    "when fewer than the readable share of referrals have a known ethnicity, gaps are not read.",
    "ethnic_makeup": "Children with no known ethnicity form the 'Not known' group; `share_known` leaves them out.",
    "contacts_per_child": "Contacts carry no team or worker: team and worker filters do not apply.",
    "contact_conversion": "Contacts carry no team or worker: team and worker filters do not apply.",
    "repeat_contacts": "Contacts carry no team or worker: team and worker filters do not apply.",
    "child_seen_rate": "'Child seen' not recorded is not 'no': by default (unknowns='exclude') it is left out of "
    "numerator and denominator and shown beside the rate as `not_recorded`; a month where most assessments "
    "have it not recorded is marked, not drawn as a rate. unknowns='as_no' counts it in the denominator only.",
    "child_views_rate": "Recordings whose extract does not say are left out (`not_stated`).",
    "re_referred_children": "As for the re-referral rate; a child with no earlier closure has the closure columns blank.",
    "ethnicity_inconsistent_children": "Only known codes are compared: REFU, NOBT, missing and invalid are gaps, "
    "not contradictions.",
    "count_ethnicity_inconsistent_children": "Only known codes are compared: REFU, NOBT, missing and invalid are "
    "gaps, not contradictions.",
    "ethnicity_representation": "Children with no known ethnicity are left out of every share; groups absent from the "
    "population file have no verdict.",
    "re_referral_benchmarks": "Published suppressed values (c, x, z, low) are left out, never read as zero.",
    "referrals_per_10000": "Without an estimate for the period's end year, the latest earlier estimate is used.",
}
_METHOD_UNKNOWNS = "Not a measure: it has no unknowns of its own and follows the figures it is applied to."
_FILTER_WORDS: dict[str, str] = {
    "team": "team",
    "worker": "worker",
    "referral_source": "source",
    "ethnicity_group": "ethnicity",
    "age_band": "age",
    "disabled": "disability",
}

REGISTRY: dict[str, MetricDefinition] = {
    d.code: replace(
        d,
        records=_RECORDS.get(d.code, d.records),
        unknowns=_UNKNOWNS.get(d.code, _METHOD_UNKNOWNS if d.kind == "method" else d.unknowns),
        label=d.label or d.title,
    )
    for d in _DEFINITIONS
}
_BY_FUNCTION: dict[Callable[..., Any], MetricDefinition] = {d.function: d for d in REGISTRY.values()}


def definition_of(function: Callable[..., Any]) -> MetricDefinition:
    """The definition of the measure a metric function computes (the page passes the function it calls)."""
    try:
        return _BY_FUNCTION[function]
    except KeyError:
        name = getattr(function, "__qualname__", repr(function))
        raise LookupError(f"{name} is not a registered measure (metrics/registry.py)") from None


def unapplied_filters(code: str, filters: object) -> tuple[str, ...]:
    """The filters set in `filters` (a metrics.params.Filters) that the measure's records cannot carry."""
    active = filters.active() if hasattr(filters, "active") else dict(filters)  # type: ignore[call-overload]
    return tuple(name for name in active if name not in REGISTRY[code].filters)


def scope_note(code: str, filters: object) -> str | None:
    """Words for a tile or chart when a set filter does not apply, e.g. 'authority-wide (team not recorded on contacts)'."""
    unapplied = unapplied_filters(code, filters)
    if not unapplied:
        return None
    active = filters.active() if hasattr(filters, "active") else dict(filters)  # type: ignore[call-overload]
    words = " or ".join(_FILTER_WORDS.get(name, name) for name in unapplied)
    records = REGISTRY[code].records or "these records"
    if len(unapplied) == len(active):
        return f"authority-wide ({words} not recorded on {records})"
    return f"{words} filter not applied ({words} not recorded on {records})"


def filters_text(code: str) -> str:
    """'Applies: team, worker…; does not apply: … (not recorded on contacts)', for the definitions page."""
    definition = REGISTRY[code]
    if definition.kind == "method":
        return "Not a measure: the filters act on the figures it is applied to."
    if not definition.filters:
        return f"None apply: {definition.records or 'these figures'} are for the whole authority."
    applies = ", ".join(definition.filters)
    ignored = [name for name in ALL_FILTERS if name not in definition.filters]
    if not ignored:
        return f"Applies: {applies}."
    return f"Applies: {applies}. Does not apply: {', '.join(ignored)} (not recorded on {definition.records or 'these records'})."


def definitions_frame() -> pd.DataFrame:
    """Every definition as one row (tuples joined with ', '), for the definitions page."""
    rows = []
    for definition in REGISTRY.values():
        row = asdict(definition)
        row["function"] = definition.function_name
        row["label"] = definition.label_for()
        row["filters"] = ", ".join(definition.filters)
        row["filters_apply"] = filters_text(definition.code)
        row["breakdowns"] = ", ".join(definition.breakdowns)
        rows.append(row)
    return pd.DataFrame(rows)


def definitions_markdown() -> str:
    """docs/METRICS.md: every definition, generated from the registry."""
    lines = [
        "# Metric definitions",
        "",
        "Generated from `metrics/registry.py` by `python -m metrics docs`; do not edit by hand.",
        "",
        "Every metric is a function of a read-only store connection, a period (inclusive) and filters; "
        "rates are unrounded percentages, NaN when there is nothing to divide by. The derived tables the "
        "metrics scan are described in `store/derive.py`.",
        "",
        "| code | title | unit | good direction |",
        "|---|---|---|---|",
    ]
    lines += [f"| [`{d.code}`](#{d.code}) | {d.title} | {d.unit} | {d.good_direction} |" for d in REGISTRY.values()]
    lines.append("")
    for d in REGISTRY.values():
        lines += [
            f"## {d.code}",
            "",
            f"**{d.title}** — `{d.function_name}` ({d.kind})",
            "",
            d.wording,
            "",
            f"- Shown as: {d.label_for()}",
            f"- Numerator: {d.numerator}",
            f"- Denominator: {d.denominator}",
            f"- Unit: {d.unit}; good direction: {d.good_direction}",
            f"- Source: {d.source}",
            f"- Filters that apply: {', '.join(d.filters) or 'none'}",
            f"- Filters: {filters_text(d.code)}",
            f"- Unknowns: {d.unknowns or 'no unknown values are involved.'}",
            f"- Breakdowns (`by`): {', '.join(d.breakdowns) or 'none'}",
            "",
            f"Convention: {d.convention}",
            "",
        ]
    lines += [
        "## Derived tables",
        "",
        "Rebuilt at every publish by `store/derive.py`; metrics scan these.",
        "",
        "| table | grain |",
        "|---|---|",
    ]
    lines += [f"| `{table}` | {grain} |" for table, grain in DERIVED_TABLES.items()]
    lines.append("")
    return "\n".join(lines)
