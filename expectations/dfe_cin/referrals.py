"""DfE rules on CINdetails: overlapping and open episodes, referrals with no further action, closure."""

from __future__ import annotations

from expectations.dfe_cin.model import ERROR, QUERY, DfeRule

NFA_TRUE = "ReferralNFA IN ('true', '1')"  # xs:boolean as written: case-sensitive
NFA_FALSE = "ReferralNFA IN ('false', '0')"


def _v(*pairs: tuple[str, str]) -> str:
    """SQL giving 'Name=value; Name=value' from (label, column) pairs, 'missing' for NULL."""
    return " || '; ' || ".join(f"'{label}=' || coalesce(CAST({col} AS VARCHAR), 'missing')" for label, col in pairs)


_CIN_ROW = "d.child_pos, d.path, d.LAchildID AS la_child_id"

RULES: tuple[DfeRule, ...] = (
    DfeRule(
        code="8820",
        rule_type=ERROR,
        message="The dates on the CIN episodes for this child overlap",
        wording=(
            "If more than one <CINdetails> module is present for the same child, then for each module the "
            "<CINreferralDate> (N00100) must not fall; a) between the <CINreferralDate> (N00100) and the "
            "<CINclosureDate> (N00102) if present; and b) between the <CINreferralDate> (N00100) and the "
            "<ReferenceDate> (N00603) if the <CINclosureDate> is not present and <ReferralNFA> (N00112) = false or 0"
        ),
        elements="CINreferralDate, CINclosureDate, ReferralNFA, ReferenceDate",
        sql=f"""SELECT {_CIN_ROW}, {_v(("CINreferralDate", "d.CINreferralDate"))} || ' falls within '
                       || o.path || ' (' || {
            _v(
                ("CINreferralDate", "o.CINreferralDate"),
                ("CINclosureDate", "o.CINclosureDate"),
                ("ReferralNFA", "o.ReferralNFA"),
            )
        } || ')' AS offending_values
                FROM dfe_cin d JOIN dfe_cin o ON o.child_pos = d.child_pos AND o.cin_pos <> d.cin_pos
                CROSS JOIN dfe_census k
                WHERE d.referral_date >= o.referral_date
                  AND ((o.closure_date IS NOT NULL AND d.referral_date < o.closure_date)
                       OR (o.CINclosureDate IS NULL AND o.{NFA_FALSE} AND d.referral_date < k.reference_date))""",
    ),
    DfeRule(
        code="8815",
        rule_type=ERROR,
        message=(
            "More than one open CIN Details episode (a module with no CIN Closure Date) has been provided for "
            "this child and case is not a referral with no further action."
        ),
        wording=(
            "If more than one <CINdetails> module is present for the same child, then there must only be one "
            "where: <CINclosureDate> (N00102) is missing; and <ReferralNFA> (N00112) = false or 0. Notes: a) "
            "<CINclosureDate> (N00102) can be present on all modules, b) there may be more than one module with "
            "no <CINclosureDate> where <ReferralNFA> (N00112) = true/1."
        ),
        elements="CINclosureDate, ReferralNFA",
        sql=f"""SELECT {_CIN_ROW}, {
            _v(
                ("CINreferralDate", "d.CINreferralDate"),
                ("CINclosureDate", "d.CINclosureDate"),
                ("ReferralNFA", "d.ReferralNFA"),
            )
        }
                       || '; open episodes of this child: ' || count(*) OVER (PARTITION BY d.child_pos) AS offending_values
                FROM dfe_cin d WHERE d.CINclosureDate IS NULL AND d.{NFA_FALSE}
                QUALIFY count(*) OVER (PARTITION BY d.child_pos) > 1""",
    ),
    DfeRule(
        code="8816",
        rule_type=ERROR,
        message="An open CIN episode is shown and case is not a referral with no further action, but it is not the latest episode.",
        wording=(
            "If there is a <CINdetails> module present for the child where: <CINclosureDate> (N00102) is "
            "missing; and <ReferralNFA> (N00112) = false or 0 then the <CINreferralDate> (N00100) for this module "
            "must be the latest of all Referral Dates for that child."
        ),
        elements="CINreferralDate, CINclosureDate, ReferralNFA",
        sql=f"""SELECT {_CIN_ROW}, {_v(("CINreferralDate", "d.CINreferralDate"))} || '; latest referral of the child '
                       || strftime(d.latest, '%Y-%m-%d') AS offending_values
                FROM (SELECT *, max(referral_date) OVER (PARTITION BY child_pos) AS latest FROM dfe_cin) d
                WHERE d.CINclosureDate IS NULL AND d.{NFA_FALSE} AND d.referral_date < d.latest""",
    ),
    DfeRule(
        code="8568",
        rule_type=ERROR,
        message="RNFA flag is missing or invalid",
        wording="<ReferralNFA> (N00112) must be present and must be 1 or 0, true or false",
        elements="ReferralNFA",
        sql=f"""SELECT {_CIN_ROW}, {_v(("ReferralNFA", "d.ReferralNFA"))} AS offending_values
                FROM dfe_cin d WHERE d.ReferralNFA IS NULL OR NOT (d.{NFA_TRUE} OR d.{NFA_FALSE})""",
    ),
    DfeRule(
        code="8831",
        rule_type=ERROR,
        message="Activity is recorded against a case marked as a referral with no further action",
        wording=(
            "If a <CINdetails> module has <ReferralNFA> (N00112) = true or 1, then it cannot have any of the "
            "following: <AssessmentActualStartDate> (N00159) <AssessmentAuthorisationDate> (N00160) "
            "<S47ActualStartDate> (N00148) <DateOfInitialCPC> (N00110)"
        ),
        elements="ReferralNFA, AssessmentActualStartDate, AssessmentAuthorisationDate, S47ActualStartDate, DateOfInitialCPC",
        sql=f"""SELECT {_CIN_ROW}, {_v(("ReferralNFA", "d.ReferralNFA"))} || '; ' || concat_ws('; ',
                       CASE WHEN d.initial_cpc_date IS NOT NULL THEN 'DateOfInitialCPC=' || d.DateOfInitialCPC END,
                       CASE WHEN a.n > 0 THEN a.n || ' assessment date(s) in ' || a.first_path END,
                       CASE WHEN s.n > 0 THEN s.n || ' Section 47 date(s) in ' || s.first_path END) AS offending_values
                FROM dfe_cin d
                LEFT JOIN (SELECT child_pos, cin_pos, count(*) AS n, min(path) AS first_path FROM dfe_assessment
                           WHERE start_date IS NOT NULL OR authorised_date IS NOT NULL GROUP BY ALL) a USING (child_pos, cin_pos)
                LEFT JOIN (SELECT child_pos, cin_pos, count(*) AS n, min(path) AS first_path FROM dfe_s47
                           WHERE s47_start_date IS NOT NULL OR initial_cpc_date IS NOT NULL GROUP BY ALL) s USING (child_pos, cin_pos)
                WHERE d.{NFA_TRUE} AND (d.initial_cpc_date IS NOT NULL OR a.n > 0 OR s.n > 0)""",
    ),
    DfeRule(
        code="4000",
        rule_type=ERROR,
        message="CIN Plan details provided for a referral with no further action",
        wording=(
            "If a <CINdetails> module has <ReferralNFA> (N00112) = true or 1, then there should be no "
            "<CINPlanDates> module present"
        ),
        elements="ReferralNFA, CINPlanDates",
        sql=f"""SELECT {_CIN_ROW}, {_v(("ReferralNFA", "d.ReferralNFA"))} || '; CINPlanDates modules: ' || p.n AS offending_values
                FROM dfe_cin d JOIN (SELECT child_pos, cin_pos, count(*) AS n FROM dfe_plan GROUP BY ALL) p
                USING (child_pos, cin_pos) WHERE d.{NFA_TRUE}""",
    ),
    DfeRule(
        code="8832",
        rule_type=ERROR,
        message="Child Protection details provided for a referral with no further action.",
        wording=(
            "If a <CINdetails> module has <ReferralNFA> (N00112) = true or 1, then there should be no Child "
            "Protection module present"
        ),
        elements="ReferralNFA, ChildProtectionPlans",
        sql=f"""SELECT {_CIN_ROW}, {_v(("ReferralNFA", "d.ReferralNFA"))} || '; ChildProtectionPlans modules: ' || p.n
                       AS offending_values
                FROM dfe_cin d JOIN (SELECT child_pos, cin_pos, count(*) AS n FROM dfe_cpp GROUP BY ALL) p
                USING (child_pos, cin_pos) WHERE d.{NFA_TRUE}""",
    ),
    DfeRule(
        code="8805",
        rule_type=ERROR,
        message="A CIN case cannot have a CIN closure date without a Reason for Closure",
        wording="If <CINclosureDate> (N00102) is present then <ReasonForClosure> (N00103) must also be present",
        elements="CINclosureDate, ReasonForClosure",
        sql=f"""SELECT {_CIN_ROW}, {_v(("CINclosureDate", "d.CINclosureDate"), ("ReasonForClosure", "d.ReasonForClosure"))}
                       AS offending_values
                FROM dfe_cin d WHERE d.closure_date IS NOT NULL AND d.ReasonForClosure IS NULL""",
    ),
    DfeRule(
        code="8606",
        rule_type=ERROR,
        message="Child referral date is more than 40 weeks before DOB or expected DOB",
        wording=(
            "<CINreferralDate> (N00100) cannot be more than 280 days before <PersonBirthDate> (N00066) or "
            "<ExpectedPersonBirthDate> (N00098)"
        ),
        elements="CINreferralDate, PersonBirthDate, ExpectedPersonBirthDate",
        sql=f"""SELECT {_CIN_ROW}, {
            _v(
                ("CINreferralDate", "d.CINreferralDate"),
                ("PersonBirthDate", "c.PersonBirthDate"),
                ("ExpectedPersonBirthDate", "c.ExpectedPersonBirthDate"),
            )
        } AS offending_values
                FROM dfe_cin d JOIN dfe_child c USING (child_pos)
                WHERE d.referral_date < c.birth_date - INTERVAL 280 DAY
                   OR d.referral_date < c.expected_birth_date - INTERVAL 280 DAY""",
    ),
    DfeRule(
        code="8825Q",
        rule_type=QUERY,
        message=(
            "Please check and either amend data or provide a reason: Reason for Closure code RC8 (case closed "
            "after assessment) or RC9 (case closed after assessment, referred to early help) has been returned "
            "but there is no assessment present for the episode."
        ),
        wording="If <ReasonforClosure> (N00103) = RC8 or RC9 then at least one <Assessments> module must be present",
        elements="ReasonForClosure, Assessments",
        sql=f"""SELECT {_CIN_ROW}, {_v(("ReasonForClosure", "d.ReasonForClosure"))} || '; no Assessments module'
                       AS offending_values
                FROM dfe_cin d WHERE d.ReasonForClosure IN ('RC8', 'RC9')
                  AND NOT EXISTS (SELECT 1 FROM dfe_assessment a WHERE a.child_pos = d.child_pos AND a.cin_pos = d.cin_pos)""",
    ),
    DfeRule(
        code="2990",
        rule_type=ERROR,
        message=(
            "Activity is recorded against a case marked as ‘Case closed after assessment, no further action’ "
            "or 'case closed after assessment, referred to early help'."
        ),
        wording=(
            "If a <CINDetails> module has <ReasonForClosure> (N00103) = RC8 or RC9, then it cannot have any of "
            "the following modules: <Section47> module <ChildProtectionPlan> module <DateofInitialCPC> (N00110) "
            "within the <CINDetails> module <CINPlanDates> module"
        ),
        elements="ReasonForClosure, Section47, ChildProtectionPlans, DateOfInitialCPC, CINPlanDates",
        sql=f"""SELECT {_CIN_ROW}, {_v(("ReasonForClosure", "d.ReasonForClosure"))} || '; ' || concat_ws('; ',
                       CASE WHEN s.n > 0 THEN 'Section47 modules: ' || s.n END,
                       CASE WHEN p.n > 0 THEN 'ChildProtectionPlans modules: ' || p.n END,
                       CASE WHEN d.DateOfInitialCPC IS NOT NULL THEN 'DateOfInitialCPC=' || d.DateOfInitialCPC END,
                       CASE WHEN l.n > 0 THEN 'CINPlanDates modules: ' || l.n END) AS offending_values
                FROM dfe_cin d
                LEFT JOIN (SELECT child_pos, cin_pos, count(*) AS n FROM dfe_s47 GROUP BY ALL) s USING (child_pos, cin_pos)
                LEFT JOIN (SELECT child_pos, cin_pos, count(*) AS n FROM dfe_cpp GROUP BY ALL) p USING (child_pos, cin_pos)
                LEFT JOIN (SELECT child_pos, cin_pos, count(*) AS n FROM dfe_plan GROUP BY ALL) l USING (child_pos, cin_pos)
                WHERE d.ReasonForClosure IN ('RC8', 'RC9')
                  AND (s.n > 0 OR p.n > 0 OR d.DateOfInitialCPC IS NOT NULL OR l.n > 0)""",
    ),
    DfeRule(
        code="8620",
        rule_type=ERROR,
        message="CIN Closure Date present and does not fall within the Census year",
        wording="If <CINclosureDate> (N00102) is present, it must be within [Period_of_Census]",
        elements="CINclosureDate, ReferenceDate",
        sql=f"""SELECT {_CIN_ROW}, {_v(("CINclosureDate", "d.CINclosureDate"))} || '; census period '
                       || strftime(k.census_start, '%Y-%m-%d') || ' to ' || strftime(k.reference_date, '%Y-%m-%d') AS offending_values
                FROM dfe_cin d CROSS JOIN dfe_census k
                WHERE d.closure_date < k.census_start OR d.closure_date > k.reference_date""",
    ),
    DfeRule(
        code="8565",
        rule_type=ERROR,
        message="Activity shown after a case has been closed",
        wording=(
            "If <CINclosureDate> (N00102) is present then it must be on or after all of the following dates "
            "that are present: <AssessmentActualStartDate> (N00159) <AssessmentAuthorisationDate>(N00160) "
            "<S47ActualStartDate> (N00148) <DateOfInitialCPC> (N00110) <CPPendDate> (N00115) "
            "<CINPlanStartDate> (N00689) <CINPlanEndDate> (N00690)"
        ),
        elements=(
            "CINclosureDate, AssessmentActualStartDate, AssessmentAuthorisationDate, S47ActualStartDate, "
            "DateOfInitialCPC, CPPendDate, CINPlanStartDate, CINPlanEndDate"
        ),
        sql=f"""SELECT {_CIN_ROW}, {_v(("CINclosureDate", "d.CINclosureDate"))} || '; later: '
                       || string_agg(x.what || '=' || strftime(x.day, '%Y-%m-%d') || ' (' || x.path || ')', ', ' ORDER BY x.day)
                       AS offending_values
                FROM dfe_cin d JOIN (
                    SELECT child_pos, cin_pos, path, 'DateOfInitialCPC' AS what, initial_cpc_date AS day FROM dfe_cin
                    UNION ALL SELECT child_pos, cin_pos, path, 'AssessmentActualStartDate', start_date FROM dfe_assessment
                    UNION ALL SELECT child_pos, cin_pos, path, 'AssessmentAuthorisationDate', authorised_date FROM dfe_assessment
                    UNION ALL SELECT child_pos, cin_pos, path, 'S47ActualStartDate', s47_start_date FROM dfe_s47
                    UNION ALL SELECT child_pos, cin_pos, path, 'DateOfInitialCPC', initial_cpc_date FROM dfe_s47
                    UNION ALL SELECT child_pos, cin_pos, path, 'CPPendDate', cpp_end_date FROM dfe_cpp
                    UNION ALL SELECT child_pos, cin_pos, path, 'CINPlanStartDate', plan_start_date FROM dfe_plan
                    UNION ALL SELECT child_pos, cin_pos, path, 'CINPlanEndDate', plan_end_date FROM dfe_plan
                ) x USING (child_pos, cin_pos)
                WHERE d.closure_date IS NOT NULL AND x.day > d.closure_date
                GROUP BY d.child_pos, d.path, d.LAchildID, d.CINclosureDate""",
    ),
    DfeRule(
        code="8555Q",
        rule_type=QUERY,
        message="Child cannot be referred after its recorded date of death",
        wording="<CINreferralDate> (N00100) must be on or before the <PersonDeathDate> (N00108)",
        elements="CINreferralDate, PersonDeathDate",
        sql=f"""SELECT {_CIN_ROW}, {_v(("CINreferralDate", "d.CINreferralDate"), ("PersonDeathDate", "c.PersonDeathDate"))}
                       AS offending_values
                FROM dfe_cin d JOIN dfe_child c USING (child_pos) WHERE d.referral_date > c.death_date""",
    ),
    DfeRule(
        code="8585Q",
        rule_type=QUERY,
        message=(
            "Please check and either amend or provide a reason: CIN episode shows Died as the Closure Reason, "
            "however child has no recorded Date of Death"
        ),
        wording="<ReasonForClosure> (N00103) = RC2 (Died) then a valid <PersonDeathDate> (N00108) must be present.",
        elements="ReasonForClosure, PersonDeathDate",
        sql=f"""SELECT {_CIN_ROW}, {_v(("ReasonForClosure", "d.ReasonForClosure"), ("PersonDeathDate", "c.PersonDeathDate"))}
                       AS offending_values
                FROM dfe_cin d JOIN dfe_child c USING (child_pos)
                WHERE d.ReasonForClosure = 'RC2' AND c.death_date IS NULL""",
    ),
    DfeRule(
        code="8810",
        rule_type=ERROR,
        message="A CIN case cannot have a Reason for Closure without a CIN Closure Date",
        wording="If <ReasonForClosure> (N00103) is present then <CINclosureDate> (N00102) must also be present",
        elements="ReasonForClosure, CINclosureDate",
        sql=f"""SELECT {_CIN_ROW}, {_v(("ReasonForClosure", "d.ReasonForClosure"), ("CINclosureDate", "d.CINclosureDate"))}
                       AS offending_values
                FROM dfe_cin d WHERE d.ReasonForClosure IS NOT NULL AND d.CINclosureDate IS NULL""",
    ),
)
