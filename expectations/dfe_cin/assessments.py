"""DfE rules on Assessments: start against referral, open and overlapping assessments, dates in the census year."""

from __future__ import annotations

from expectations.dfe_cin.model import ERROR, QUERY, DfeRule
from expectations.dfe_cin.referrals import _v

_A_ROW = "a.child_pos, a.path, a.LAchildID AS la_child_id"
_PERIOD = (
    "'; census period ' || strftime(k.census_start, '%Y-%m-%d') || ' to ' || strftime(k.reference_date, '%Y-%m-%d')"
)

RULES: tuple[DfeRule, ...] = (
    DfeRule(
        code="1103",
        rule_type=ERROR,
        message="The assessment start date cannot be before the referral date",
        wording=(
            "Where present, the <AssessmentActualStartDate> (N00159) should be on or after the "
            "<CINReferralDate> (N00100)"
        ),
        elements="AssessmentActualStartDate, CINreferralDate",
        sql=f"""SELECT {_A_ROW}, {
            _v(("AssessmentActualStartDate", "a.AssessmentActualStartDate"), ("CINreferralDate", "d.CINreferralDate"))
        } AS offending_values
                FROM dfe_assessment a JOIN dfe_cin d USING (child_pos, cin_pos)
                WHERE a.start_date < d.referral_date""",
    ),
    DfeRule(
        code="8670Q",
        rule_type=QUERY,
        message=(
            "Please check and either amend data or provide a reason: Assessment started more than 45 working "
            "days before the end of the census year. However, there is no Assessment end date."
        ),
        wording=(
            "If <AssessmentAuthorisationDate> (N00160) is not present then <AssessmentActualStartDate> (N00159) "
            "should not be before the <ReferenceDate> (N00603) minus 45 working days"
        ),
        elements="AssessmentActualStartDate, AssessmentAuthorisationDate, ReferenceDate",
        sql=f"""SELECT {_A_ROW}, {
            _v(
                ("AssessmentActualStartDate", "a.AssessmentActualStartDate"),
                ("AssessmentAuthorisationDate", "a.AssessmentAuthorisationDate"),
            )
        }
                       || '; ReferenceDate minus 45 working days = ' || strftime(k.open_assessment_deadline, '%Y-%m-%d')
                       AS offending_values
                FROM dfe_assessment a CROSS JOIN dfe_census k
                WHERE a.authorised_date IS NULL AND a.start_date < k.open_assessment_deadline""",
    ),
    DfeRule(
        code="8736",
        rule_type=ERROR,
        message="For an Assessment that has not been completed, the start date must fall within the census year",
        wording=(
            "Where present, if an <Assessments> group does not contain the <AssessmentAuthorisationDate> (N00160) "
            "then the <AssessmentActualStartDate> (N00159) must be on or between [Start_Of_Census_Year] and "
            "<ReferenceDate> (N00603)"
        ),
        elements="AssessmentActualStartDate, AssessmentAuthorisationDate, ReferenceDate",
        sql=f"""SELECT {_A_ROW}, {_v(("AssessmentActualStartDate", "a.AssessmentActualStartDate"))} || {_PERIOD}
                       AS offending_values
                FROM dfe_assessment a CROSS JOIN dfe_census k
                WHERE a.authorised_date IS NULL
                  AND (a.start_date < k.census_start OR a.start_date > k.reference_date)""",
    ),
    DfeRule(
        code="8696",
        rule_type=ERROR,
        message="Assessment end date must fall within the census year",
        wording=(
            "If present <AssessmentAuthorisationDate> (N00160) must be on or between [Start_Of_Census_Year] and "
            "<ReferenceDate> (N00603)"
        ),
        elements="AssessmentAuthorisationDate, ReferenceDate",
        sql=f"""SELECT {_A_ROW}, {_v(("AssessmentAuthorisationDate", "a.AssessmentAuthorisationDate"))} || {_PERIOD}
                       AS offending_values
                FROM dfe_assessment a CROSS JOIN dfe_census k
                WHERE a.authorised_date < k.census_start OR a.authorised_date > k.reference_date""",
    ),
    DfeRule(
        code="8867",
        rule_type=ERROR,
        message="CIN episode is shown as closed, however Assessment is not shown as completed",
        wording=(
            "If <CINclosureDate> (N00102) is present then all instances of the <Assessments> group must include "
            "the <AssesssmentAuthorisationDate> (N00160)"
        ),
        elements="CINclosureDate, AssessmentAuthorisationDate",
        sql=f"""SELECT {_A_ROW}, {
            _v(("CINclosureDate", "d.CINclosureDate"), ("AssessmentAuthorisationDate", "a.AssessmentAuthorisationDate"))
        } AS offending_values
                FROM dfe_assessment a JOIN dfe_cin d USING (child_pos, cin_pos)
                WHERE d.closure_date IS NOT NULL AND a.authorised_date IS NULL""",
    ),
    DfeRule(
        code="8863Q",
        rule_type=QUERY,
        message="An Assessment is shown as starting when there is another Assessment ongoing.",
        wording=(
            "Within one <CINdetails> group, where present each <AssessmentActualStartDate> (N00159) must not fall "
            "on or between: a) the <AssessmentActualStartDate> (N00159) and <AssessmentAuthorisation Date "
            "(N00160) of any other <Assessments> group that has an <AssessmentAuthorisationDate> (N00160) b) the "
            "<AssessmentActualStartDate> (N00159) and the <ReferenceDate> (N00603) where the "
            "<AssessmentAuthorisationDate> (N00160) is missing"
        ),
        elements="AssessmentActualStartDate, AssessmentAuthorisationDate, ReferenceDate",
        sql=f"""SELECT {_A_ROW}, {_v(("AssessmentActualStartDate", "a.AssessmentActualStartDate"))} || ' falls within '
                       || o.path || ' (' || {
            _v(
                ("AssessmentActualStartDate", "o.AssessmentActualStartDate"),
                ("AssessmentAuthorisationDate", "o.AssessmentAuthorisationDate"),
            )
        } || ')'
                       AS offending_values
                FROM dfe_assessment a JOIN dfe_assessment o
                  ON o.child_pos = a.child_pos AND o.cin_pos = a.cin_pos AND o.grp_pos <> a.grp_pos
                CROSS JOIN dfe_census k
                WHERE a.start_date BETWEEN o.start_date AND coalesce(o.authorised_date, k.reference_date)""",
    ),
    DfeRule(
        code="8896",
        rule_type=ERROR,
        message="Within one CINDetails group there are 2 or more open Assessments groups",
        wording=(
            "Within one <CINdetails> group, there must not be more than one <Assessments> group that has no "
            "<AssessmentAuthorisationDate> (N00160) recorded"
        ),
        elements="AssessmentAuthorisationDate",
        sql=f"""SELECT {_A_ROW}, {_v(("AssessmentActualStartDate", "a.AssessmentActualStartDate"))}
                       || '; open assessments in this CINdetails: ' || count(*) OVER (PARTITION BY a.child_pos, a.cin_pos)
                       AS offending_values
                FROM dfe_assessment a WHERE a.authorised_date IS NULL
                QUALIFY count(*) OVER (PARTITION BY a.child_pos, a.cin_pos) > 1""",
    ),
    DfeRule(
        code="8608",
        rule_type=ERROR,
        message="Assessment Start Date cannot be later than its End Date",
        wording=(
            "If present <AssessmentAuthorisationDate> (N00160) must be on or after the "
            "<AssessmentActualStartDate> (N00159)"
        ),
        elements="AssessmentActualStartDate, AssessmentAuthorisationDate",
        sql=f"""SELECT {_A_ROW}, {
            _v(
                ("AssessmentActualStartDate", "a.AssessmentActualStartDate"),
                ("AssessmentAuthorisationDate", "a.AssessmentAuthorisationDate"),
            )
        } AS offending_values
                FROM dfe_assessment a WHERE a.authorised_date < a.start_date""",
    ),
)
