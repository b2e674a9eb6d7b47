"""Every DfE CIN rule the product runs, declared once each, and the rule set of a census year."""

from __future__ import annotations

from expectations.dfe_cin import assessments, child, referrals
from expectations.dfe_cin.model import DfeRule

RULES: tuple[DfeRule, ...] = (*child.RULES, *referrals.RULES, *assessments.RULES)


def rules_for(collection_year: int | None) -> list[DfeRule]:
    """DfE's rules for the census year ending 31 March `collection_year` (the earliest rule set when unknown)."""
    year = collection_year if collection_year is not None else 0
    return [r for r in RULES if r.applies_to(year)]


def rule(code: str, collection_year: int) -> DfeRule:
    """The rule with that code in that year's rule set."""
    return next(r for r in rules_for(collection_year) if r.code == code)
