"""DfE rules on the Header and the child: ReferenceDate, unique LAchildID, birth and death dates, sex, ethnicity."""

from __future__ import annotations

from expectations.dfe_cin.model import ERROR, QUERY, DfeRule
from expectations.dfe_cin.referrals import _v
from store.codes import ETHNICITY_ALL

_C_ROW = "c.child_pos, c.path, c.LAchildID AS la_child_id"
_ETHNICITIES = ", ".join(f"'{e}'" for e in sorted(ETHNICITY_ALL))

RULES: tuple[DfeRule, ...] = (
    DfeRule(
        code="100",
        rule_type=ERROR,
        message="Reference Date is incorrect",
        wording=(
            "<ReferenceDate> (N00603) must be present and must equal [31 March of the collection year] "
            "(ReferenceDate is expected to be the 31st of March in the collection year)"
        ),
        elements="ReferenceDate, Year",
        sql=f"""SELECT 0 AS child_pos, 'Header' AS path, NULL AS la_child_id,
                       {_v(("ReferenceDate", "k.reference_text"), ("Year", "k.year_text"))} AS offending_values
                FROM dfe_census k
                WHERE k.reference_date IS NULL OR try_cast(k.year_text AS INTEGER) IS NULL
                   OR k.reference_date <> make_date(try_cast(k.year_text AS INTEGER), 3, 31)""",
    ),
    DfeRule(
        code="8510",
        rule_type=ERROR,
        message="More than one child record with the same LA Child ID",
        wording="Each <LAchildID> (N00097) must be unique across all children within the same LA return",
        elements="LAchildID",
        sql=f"""SELECT {_C_ROW}, {_v(("LAchildID", "c.LAchildID"))} || '; children with this LAchildID: '
                       || count(*) OVER (PARTITION BY c.LAchildID) AS offending_values
                FROM dfe_child c WHERE c.LAchildID IS NOT NULL
                QUALIFY count(*) OVER (PARTITION BY c.LAchildID) > 1""",
    ),
    DfeRule(
        code="8525Q",
        rule_type=QUERY,
        message="Either Date of Birth or Expected Date of Birth must be provided (but not both)",
        wording="Either Date of Birth or Expected Date of Birth must be provided (but not both)",
        elements="PersonBirthDate, ExpectedPersonBirthDate",
        sql=f"""SELECT {_C_ROW}, {
            _v(("PersonBirthDate", "c.PersonBirthDate"), ("ExpectedPersonBirthDate", "c.ExpectedPersonBirthDate"))
        } AS offending_values
                FROM dfe_child c WHERE (c.birth_date IS NULL) = (c.expected_birth_date IS NULL)""",
    ),
    DfeRule(
        code="8545Q",
        rule_type=QUERY,
        message="Please check and either amend data or provide a reason: Child's date of death should be within the census year",
        wording="If present, <PersonDeathDate> (N00108) must be within [Period_of_Census]",
        elements="PersonDeathDate, ReferenceDate",
        sql=f"""SELECT {_C_ROW}, {_v(("PersonDeathDate", "c.PersonDeathDate"))} || '; census period '
                       || strftime(k.census_start, '%Y-%m-%d') || ' to ' || strftime(k.reference_date, '%Y-%m-%d') AS offending_values
                FROM dfe_child c CROSS JOIN dfe_census k
                WHERE c.death_date < k.census_start OR c.death_date > k.reference_date""",
    ),
    DfeRule(
        code="4180",
        rule_type=ERROR,
        message="Gender is missing",
        last_year=2024,
        wording="Gender is missing (GenderCurrent must be present and one of the 2022-23 schema's codes 0, 1, 2, 9)",
        elements="GenderCurrent",
        sql=f"""SELECT {_C_ROW}, {_v(("GenderCurrent", "c.GenderCurrent"))} AS offending_values
                FROM dfe_child c WHERE c.GenderCurrent IS NULL OR c.GenderCurrent NOT IN ('0', '1', '2', '9')""",
    ),
    DfeRule(
        code="4180",
        rule_type=ERROR,
        message="Sex must be provided and equal M, F, or U",
        first_year=2025,
        wording="<Sex> (N00783) must be present and valid",
        elements="Sex",
        sql=f"""SELECT {_C_ROW}, {_v(("Sex", "c.Sex"))} AS offending_values
                FROM dfe_child c WHERE c.Sex IS NULL OR c.Sex NOT IN ('M', 'F', 'U')""",
    ),
    DfeRule(
        code="4220",
        rule_type=ERROR,
        message="Ethnicity is missing or invalid (see Ethnicity table)",
        wording="Ethnicity is missing or invalid (see Ethnicity table)",
        elements="Ethnicity",
        sql=f"""SELECT {_C_ROW}, {_v(("Ethnicity", "c.Ethnicity"))} AS offending_values
                FROM dfe_child c WHERE c.Ethnicity IS NULL OR c.Ethnicity NOT IN ({_ETHNICITIES})""",
    ),
)
