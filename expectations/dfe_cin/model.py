"""What a DfE CIN rule is: its code, DfE's message and wording, error or query, the census years it applies to, its SQL."""

from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"  # blocks the return
QUERY = "query"  # to correct or explain
FIRST_YEAR = 2023  # census years are named by their end: 2023 = 2022-23, the first year of DfE's published rule set
LAST_YEAR = 9999


@dataclass(frozen=True)
class DfeRule:
    """One DfE rule for one span of census years.

    `sql` is a SELECT over the file's module tables (see `submitted.py`) giving one row per
    offending group: child_pos, path, la_child_id, offending_values.
    """

    code: str
    message: str
    wording: str  # DfE's rule text, quoted
    rule_type: str
    elements: str  # the elements the rule reads, as DfE names them
    sql: str
    first_year: int = FIRST_YEAR
    last_year: int = LAST_YEAR

    def applies_to(self, collection_year: int) -> bool:
        """Whether the rule is in DfE's rule set for the census year ending 31 March `collection_year`."""
        return self.first_year <= max(collection_year, FIRST_YEAR) <= self.last_year
