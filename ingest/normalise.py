"""SQL expressions that turn raw extract text into canonical values (dates, ids, booleans, text).

Every function takes the SQL expression of a VARCHAR column (a column name chosen by our own
code, never user input) and returns a DuckDB SQL expression. Staging tables hold raw text; the
readers select these expressions from them, so Annex A, per-list CSVs and recording CSVs share
one normalisation and it runs inside DuckDB at full speed.

Two steps, so the cleaning is computed once per value: select ``clean_text_sql(raw)`` in an
inner query, then apply the parsers (``date_sql``, ``child_id_sql``...), which expect text that
is already clean. ``install_macros`` makes the same available as SQL macros (``fd_clean``,
``fd_date``...) for hand-written queries.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

# Values that mean "missing" in councils' files.
MISSING_TOKENS: tuple[str, ...] = ("", "#N/A", "N/A", "NA", "#NA", "NULL", "NONE RECORDED", "-", "NAN", "NAT", "#VALUE!", "#REF!")
EXCEL_EPOCH = "DATE '1899-12-30'"


def heading_key(text: object) -> str:
    """A heading reduced for matching: lower case, ASCII quotes, no punctuation, single spaces.

    'Date of referral ', 'Date\xa0of Referral' and 'DATE_OF_REFERRAL' all give 'date of referral';
    'children’s' gives "childrens".
    """
    s = unicodedata.normalize("NFKC", str(text or ""))
    s = s.replace("\xa0", " ").replace("’", "'").replace("‘", "'").replace("`", "'")
    s = s.lower().replace("'", "").replace("_", " ")
    s = re.sub(r"[^a-z0-9]+", " ", s)
    return re.sub(r"\s+", " ", s).strip()


def clean_text_sql(expr: str) -> str:
    """Trimmed text with non-breaking spaces made plain; NULL for the missing tokens."""
    t = f"trim(regexp_replace(replace(CAST({expr} AS VARCHAR), chr(160), ' '), '\\s+', ' ', 'g'))"
    tokens = ", ".join(f"'{tok}'" for tok in MISSING_TOKENS)
    return f"(CASE WHEN {t} IS NULL OR upper({t}) IN ({tokens}) THEN NULL ELSE {t} END)"


def child_id_sql(expr: str) -> str:
    """Child id from clean text: '1005', 1005.0 and ' 1005 ' are one child; leading zeros kept."""
    t = expr
    return f"(CASE WHEN regexp_matches({t}, '^[0-9]+\\.0+$') THEN regexp_replace({t}, '\\.0+$', '') ELSE {t} END)"


def date_sql(expr: str) -> str:
    """A DATE from ISO text (with or without time), DD/MM/YYYY text, or an Excel serial; else NULL."""
    t = expr
    first = f"split_part(replace({t}, 'T', ' '), ' ', 1)"
    return (
        "(CASE"
        f" WHEN {t} IS NULL THEN NULL"
        f" WHEN regexp_matches({t}, '^[0-9]{{4}}-[0-9]{{1,2}}-[0-9]{{1,2}}([ T].*)?$')"
        f"  THEN CAST(try_strptime({first}, '%Y-%m-%d') AS DATE)"
        f" WHEN regexp_matches({t}, '^[0-9]{{1,2}}[/.-][0-9]{{1,2}}[/.-][0-9]{{4}}( .*)?$')"
        f"  THEN CAST(try_strptime(regexp_replace({first}, '[.-]', '/', 'g'), '%d/%m/%Y') AS DATE)"
        f" WHEN regexp_matches({t}, '^[0-9]{{1,2}}/[0-9]{{1,2}}/[0-9]{{2}}$')"
        f"  THEN CAST(try_strptime({t}, '%d/%m/%y') AS DATE)"
        f" WHEN regexp_matches({t}, '^[0-9]{{1,2}} [A-Za-z]{{3,9}} [0-9]{{4}}$')"
        f"  THEN CAST(coalesce(try_strptime({t}, '%d %b %Y'), try_strptime({t}, '%d %B %Y')) AS DATE)"
        f" WHEN regexp_matches({t}, '^[0-9]+(\\.[0-9]+)?$') AND TRY_CAST({t} AS DOUBLE) BETWEEN 1 AND 2958465"
        f"  THEN {EXCEL_EPOCH} + CAST(floor(CAST({t} AS DOUBLE)) AS INTEGER)"
        " ELSE NULL END)"
    )


def timestamp_sql(expr: str) -> str:
    """A TIMESTAMP from ISO or DD/MM/YYYY text with optional HH:MM[:SS], or an Excel serial; else NULL."""
    t = expr
    iso = f"replace({t}, 'T', ' ')"
    return (
        "(CASE"
        f" WHEN {t} IS NULL THEN NULL"
        f" WHEN regexp_matches({t}, '^[0-9]{{4}}-[0-9]{{1,2}}-[0-9]{{1,2}}([ T][0-9]{{1,2}}:[0-9]{{2}}(:[0-9]{{2}}(\\.[0-9]+)?)?)?$')"
        f"  THEN TRY_CAST({iso} AS TIMESTAMP)"
        f" WHEN regexp_matches({t}, '^[0-9]{{4}}-[0-9]{{1,2}}-[0-9]{{1,2}} [0-9]{{1,2}}:[0-9]{{2}}(:[0-9]{{2}})? ?[AaPp][Mm]$')"
        f"  THEN coalesce(try_strptime(upper({t}), '%Y-%m-%d %I:%M:%S %p'), try_strptime(upper({t}), '%Y-%m-%d %I:%M %p'),"
        f"                try_strptime(upper({t}), '%Y-%m-%d %I:%M%p'))"
        f" WHEN regexp_matches({t}, '^[0-9]{{1,2}}/[0-9]{{1,2}}/[0-9]{{4}}( .*)?$')"
        f"  THEN coalesce(try_strptime({t}, '%d/%m/%Y %H:%M:%S'), try_strptime({t}, '%d/%m/%Y %H:%M'),"
        f"                try_strptime({t}, '%d/%m/%Y'))"
        f" WHEN regexp_matches({t}, '^[0-9]+(\\.[0-9]+)?$') AND TRY_CAST({t} AS DOUBLE) BETWEEN 1 AND 2958465"
        f"  THEN CAST({EXCEL_EPOCH} AS TIMESTAMP) + to_microseconds(CAST(round((CAST({t} AS DOUBLE)) * 86400e6) AS BIGINT))"
        " ELSE NULL END)"
    )


def bool_sql(expr: str) -> str:
    """TRUE/FALSE from yes/no in any spelling ('a) Yes', 'Y', '1', 'true'); NULL when missing or unknown."""
    t = f"lower(regexp_replace({expr}, '^[a-z]\\)\\s*', ''))"
    return (
        f"(CASE WHEN {t} IN ('yes', 'y', '1', 'true', 't') THEN TRUE"
        f" WHEN {t} IN ('no', 'n', '0', 'false', 'f') THEN FALSE ELSE NULL END)"
    )


def integer_sql(expr: str) -> str:
    """An INTEGER from '3', 3.0 or ' 3 '; NULL otherwise."""
    return f"TRY_CAST(TRY_CAST({expr} AS DOUBLE) AS INTEGER)"


def double_sql(expr: str) -> str:
    """A DOUBLE from numeric text; NULL otherwise."""
    return f"TRY_CAST({expr} AS DOUBLE)"


def unparsed_flag_sql(clean_expr: str, parsed_expr: str, field: str) -> str:
    """A one-element list naming a field whose non-missing value did not parse, else an empty list."""
    return (
        f"(CASE WHEN {clean_expr} IS NOT NULL AND ({parsed_expr}) IS NULL"
        f" THEN ['{field}_unparsed'] ELSE []::VARCHAR[] END)"
    )


_MACROS: dict[str, object] = {
    "fd_clean": clean_text_sql,
    "fd_child_id": lambda x: child_id_sql(clean_text_sql(x)),
    "fd_date": lambda x: date_sql(clean_text_sql(x)),
    "fd_timestamp": lambda x: timestamp_sql(clean_text_sql(x)),
    "fd_bool": lambda x: bool_sql(clean_text_sql(x)),
    "fd_int": lambda x: integer_sql(clean_text_sql(x)),
}


def install_macros(con: "duckdb.DuckDBPyConnection") -> None:
    """Create temporary SQL macros fd_clean(x), fd_child_id(x), fd_date(x), ... on a connection."""
    for name, build in _MACROS.items():
        con.execute(f"CREATE OR REPLACE TEMP MACRO {name}(x) AS {build('x')}")  # type: ignore[operator]
