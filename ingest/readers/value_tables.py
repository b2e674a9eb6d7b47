"""Dictionary normalisation: each distinct raw value of a column is normalised once, into a narrow lookup table.

Extract columns repeat a few values (codes, dates, teams) over millions of rows, so the readers
collect each column's distinct raw values (one scan for all columns: ``distinct_values_sql``),
clean and parse them once with the full SQL of ``ingest.normalise`` (``value_table_sql``) and
join the rows to the result: one narrow TEMP table per column, ``(raw, present, <what the row
query needs>)``, joined on ``raw`` (a join per column to its own small table is cheaper than
joins to one table shared by all columns). Columns where nearly every value
differs (ids, date-times) leave out the values of an exact shape that needs no normalising
(``skip``): the row query takes a value it does not find in the table as it is.
"""

from __future__ import annotations

from ingest.codes_map import code_map_sql
from ingest.normalise import clean_text_sql


def distinct_values_sql(source: str, raw: dict[str, str], skip: dict[str, str]) -> str:
    """SELECT <names of `raw`>: each distinct non-NULL value of each raw column (SQL over `source`), one scan for all.

    A row holds one value of one name (the other names are NULL). Values for which the name's
    `skip` condition (SQL over the same row) is true are left out.
    """
    kept = ", ".join(
        f"CASE WHEN NOT {skip[name]} THEN {column} END AS {name}" if name in skip else f"{column} AS {name}"
        for name, column in raw.items()
    )
    return (
        f"SELECT {', '.join(raw)} FROM (SELECT {kept} FROM {source})"
        f" GROUP BY GROUPING SETS ({', '.join(f'({name})' for name in raw)})"
    )


def value_table_sql(values: str, name: str, columns: dict[str, str], code_domain: str | None = None) -> str:
    """SELECT raw, present, <columns> for each value of `name` in the table `values` (of distinct_values_sql).

    ``present`` is FALSE for a missing value (clean text NULL: blank, '#N/A'...). `columns` maps
    names to SQL over ``clean`` (the value's ``clean_text_sql``, computed once per value) and,
    given `code_domain`, ``code`` (its ``ingest.codes_map`` code, NULL if it does not map; needs
    ``install_code_synonyms``).
    """
    selected = "".join(f", {sql} AS {column}" for column, sql in columns.items())
    codes = ""
    if code_domain:
        mapped = code_map_sql(f"SELECT '{code_domain}' AS domain, clean AS value FROM cleaned")
        codes = f" LEFT JOIN ({mapped}) m ON m.value = cleaned.clean"
    return f"""
        WITH cleaned AS MATERIALIZED (
            SELECT raw, {clean_text_sql("raw")} AS clean FROM (SELECT {name} AS raw FROM {values} WHERE {name} IS NOT NULL))
        SELECT raw, clean IS NOT NULL AS present{selected} FROM cleaned{codes}"""


def lookup_sql(table: str, alias: str, raw: str) -> str:
    """LEFT JOIN of the value table `table` as `alias` to the row whose raw text is the SQL `raw`."""
    return f"LEFT JOIN {table} {alias} ON {alias}.raw = {raw}"


def value_or_skipped_sql(alias: str, value: str, skipped: str) -> str:
    """`value` (SQL over the looked-up row `alias`), or `skipped` (SQL over the raw text) for a value the table skips."""
    return f"(CASE WHEN {alias}.raw IS NULL THEN {skipped} ELSE {value} END)"


def present_sql(alias: str, raw: str | None = None) -> str:
    """TRUE when the row's value is present (not NULL, not missing); give `raw` when the table skips values (all present)."""
    return f"coalesce({alias}.present, {raw} IS NOT NULL)" if raw else f"coalesce({alias}.present, FALSE)"
