"""SQL expressions that turn raw extract text into canonical values (dates, ids, booleans, text).

Every function takes the SQL expression of a VARCHAR column (a column name chosen by our own
code, never user input) and returns a DuckDB SQL expression. Staging tables hold raw text; the
readers select these expressions from them, so Annex A, per-list CSVs and recording CSVs share
one normalisation and it runs inside DuckDB at full speed.

Two steps, so the cleaning is computed once per value: select ``clean_text_sql(raw)`` in an
inner query, then apply the parsers (``date_sql``, ``child_id_sql``...), which expect text that
is already clean. Readers do that once per distinct value (``ingest.readers.value_tables``);
in columns where nearly every value differs (ids, date-times), raw text of one exact, common
shape (``plain_id_sql``, ``is_quick_timestamp_sql``) is already clean and is used as it is
(``quick_timestamp_sql``). ``install_macros`` makes the same available as SQL macros
(``fd_clean``, ``fd_date``...) for hand-written queries.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

# Values that mean "missing" in councils' files.
MISSING_TOKENS: tuple[str, ...] = (
    "",
    "#N/A",
    "N/A",
    "NA",
    "#NA",
    "NULL",
    "NONE RECORDED",
    "-",
    "NAN",
    "NAT",
    "#VALUE!",
    "#REF!",
)
EXCEL_EPOCH = "DATE '1899-12-30'"
# The plausible window for every date read from an extract: years 1900 to 2099. A value outside
# ('31/12/9999', '0001-01-01', an Excel serial past 2099) is not taken as a date: a key date makes
# its row a reject, any other date is left empty and flagged as not parsed. Written into the
# patterns below (a year is 19xx or 20xx), so bounding costs nothing per row.
YEAR = "(19|20)[0-9]{2}"
EXCEL_SERIAL_LAST = 73050  # 2099-12-31 (serial 2 is 1900-01-01)


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
    # Each run of whitespace or non-breaking spaces becomes one space. The text appears twice, not three times
    # (NULL text is NULL either way): DuckDB binds every copy, and readers plan dozens of these per file.
    t = f"trim(regexp_replace(CAST({expr} AS VARCHAR), '[\\s\\x{{00A0}}]+', ' ', 'g'))"
    tokens = ", ".join(f"'{tok}'" for tok in MISSING_TOKENS)
    return f"(CASE WHEN upper({t}) IN ({tokens}) THEN NULL ELSE {t} END)"


# Raw text of this shape is already a clean id: it has no whitespace and no '.', so clean_text_sql
# and child_id_sql leave it as it is, and a digit, which no missing token has. (Written so that
# there is one way to match it: the regular expression runs on every row, and this is quicker.)
PLAIN_ID = r"[A-Za-z_/-]*[0-9][A-Za-z0-9_/-]*"


def plain_id_sql(raw: str) -> str:
    """TRUE when raw text is a plain id ('1005', 'CN-17', PLAIN_ID): its clean text and its child id are the text itself."""
    return f"regexp_full_match({raw}, '{PLAIN_ID}')"


# Characters that show as nothing (zero-width space and joiners, direction marks, word joiner,
# byte-order mark, soft hyphen): removed from child ids wherever they are.
INVISIBLE = "[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]"
# A child id as Excel damages it: scientific notation (1.2E+5), thousands separators (1,005), a
# leading '=' or apostrophe (also full-width), full-width digits (１００５). Kept as written, flagged.
DAMAGED_CHILD_ID = (
    "^([0-9]+([.][0-9]+)?[Ee][+-]?[0-9]+|[0-9]{1,3}(,[0-9]{3})+)$|^[=\uff1d'\uff07\u2018\u2019]|[\uff10-\uff19]"
)
DAMAGED_CHILD_ID_FLAG = "child_id_looks_damaged"


def child_id_sql(expr: str) -> str:
    """Child id from clean text: '1005', 1005.0, ' 1005 ' and '1005' + zero-width space are one child; leading zeros kept."""
    t = f"trim(regexp_replace({expr}, '{INVISIBLE}', '', 'g'))"
    return f"(CASE WHEN regexp_matches({t}, '^[0-9]+\\.0+$') THEN regexp_replace({t}, '\\.0+$', '') ELSE nullif({t}, '') END)"


def damaged_child_id_sql(child_id: str) -> str:
    """TRUE when a (normalised) child id looks damaged by Excel (DAMAGED_CHILD_ID)."""
    pattern = DAMAGED_CHILD_ID.replace("'", "''")
    return f"regexp_matches({child_id}, '{pattern}')"


def date_sql(expr: str) -> str:
    """A DATE from ISO text (with or without time), DD/MM/YYYY text, or an Excel serial; else NULL."""
    t = expr
    first = f"split_part(replace({t}, 'T', ' '), ' ', 1)"
    return (
        "(CASE"
        f" WHEN {t} IS NULL THEN NULL"
        f" WHEN regexp_matches({t}, '^{YEAR}-[0-9]{{1,2}}-[0-9]{{1,2}}([ T].*)?$')"
        f"  THEN CAST(try_strptime({first}, '%Y-%m-%d') AS DATE)"
        f" WHEN regexp_matches({t}, '^[0-9]{{1,2}}[/.-][0-9]{{1,2}}[/.-]{YEAR}( .*)?$')"
        f"  THEN CAST(try_strptime(regexp_replace({first}, '[.-]', '/', 'g'), '%d/%m/%Y') AS DATE)"
        f" WHEN regexp_matches({t}, '^[0-9]{{1,2}}/[0-9]{{1,2}}/[0-9]{{2}}$')"
        f"  THEN CAST(try_strptime({t}, '%d/%m/%y') AS DATE)"
        f" WHEN regexp_matches({t}, '^[0-9]{{1,2}} [A-Za-z]{{3,9}} {YEAR}$')"
        f"  THEN CAST(coalesce(try_strptime({t}, '%d %b %Y'), try_strptime({t}, '%d %B %Y')) AS DATE)"
        f" WHEN regexp_matches({t}, '^[0-9]+(\\.[0-9]+)?$') AND TRY_CAST({t} AS DOUBLE) BETWEEN 2 AND {EXCEL_SERIAL_LAST}"
        f"  THEN {EXCEL_EPOCH} + CAST(floor(CAST({t} AS DOUBLE)) AS INTEGER)"
        " ELSE NULL END)"
    )


def _iso_timestamp(t: str) -> str:
    """The TIMESTAMP of ISO text ('YYYY-MM-DD[ HH:MM[:SS]]', 'T' allowed for the space); else NULL."""
    return f"TRY_CAST(replace({t}, 'T', ' ') AS TIMESTAMP)"


def _dmy_timestamp(t: str) -> str:
    """The TIMESTAMP of 'DD/MM/YYYY[ HH:MM[:SS]]' text; else NULL.

    Parsed with the one format that can match it, chosen by its number of ':' (a format matches
    only text with as many), as a failed try_strptime costs several successful ones.
    """
    return (
        f"(CASE length({t}) - length(replace({t}, ':', '')) WHEN 0 THEN try_strptime({t}, '%d/%m/%Y')"
        f" WHEN 1 THEN try_strptime({t}, '%d/%m/%Y %H:%M') WHEN 2 THEN try_strptime({t}, '%d/%m/%Y %H:%M:%S') END)"
    )


def timestamp_sql(expr: str) -> str:
    """A TIMESTAMP from ISO or DD/MM/YYYY text with optional HH:MM[:SS], or an Excel serial; else NULL."""
    t = expr
    return (
        "(CASE"
        f" WHEN {t} IS NULL THEN NULL"
        f" WHEN regexp_matches({t}, '^{YEAR}-[0-9]{{1,2}}-[0-9]{{1,2}}([ T][0-9]{{1,2}}:[0-9]{{2}}(:[0-9]{{2}}(\\.[0-9]+)?)?)?$')"
        f"  THEN {_iso_timestamp(t)}"
        f" WHEN regexp_matches({t}, '^{YEAR}-[0-9]{{1,2}}-[0-9]{{1,2}} [0-9]{{1,2}}:[0-9]{{2}}(:[0-9]{{2}})? ?[AaPp][Mm]$')"
        f"  THEN coalesce(try_strptime(upper({t}), '%Y-%m-%d %I:%M:%S %p'), try_strptime(upper({t}), '%Y-%m-%d %I:%M %p'),"
        f"                try_strptime(upper({t}), '%Y-%m-%d %I:%M%p'))"
        f" WHEN regexp_matches({t}, '^[0-9]{{1,2}}/[0-9]{{1,2}}/{YEAR}( .*)?$')"
        f"  THEN {_dmy_timestamp(t)}"
        f" WHEN regexp_matches({t}, '^[0-9]+(\\.[0-9]+)?$') AND TRY_CAST({t} AS DOUBLE) BETWEEN 2 AND {EXCEL_SERIAL_LAST}"
        f"  THEN CAST({EXCEL_EPOCH} AS TIMESTAMP) + to_microseconds(CAST(round((CAST({t} AS DOUBLE)) * 86400e6) AS BIGINT))"
        " ELSE NULL END)"
    )


# Exact shapes of nearly all date-times in extracts. Raw text of these shapes is already clean and
# falls in the ISO or the DD/MM/YYYY branch of timestamp_sql.
ISO_TIMESTAMP = r"(19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2})?)?"
DMY_TIMESTAMP = r"[0-9]{2}/[0-9]{2}/(19|20)[0-9]{2}( [0-9]{2}:[0-9]{2}(:[0-9]{2})?)?"


def is_quick_timestamp_sql(raw: str) -> str:
    """TRUE when raw text has one of the exact shapes ISO_TIMESTAMP, DMY_TIMESTAMP (it is then already clean)."""
    return f"regexp_full_match({raw}, '{ISO_TIMESTAMP}|{DMY_TIMESTAMP}')"


def quick_timestamp_sql(raw: str) -> str:
    """timestamp_sql(clean_text_sql(raw)) for raw text that is_quick_timestamp_sql accepts, by the branch its shape falls in."""
    return f"(CASE WHEN contains({raw}, '/') THEN {_dmy_timestamp(raw)} ELSE {_iso_timestamp(raw)} END)"


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


_MACROS: dict[str, object] = {
    "fd_clean": clean_text_sql,
    "fd_child_id": lambda x: child_id_sql(clean_text_sql(x)),
    "fd_date": lambda x: date_sql(clean_text_sql(x)),
    "fd_timestamp": lambda x: timestamp_sql(clean_text_sql(x)),
    "fd_bool": lambda x: bool_sql(clean_text_sql(x)),
    "fd_int": lambda x: integer_sql(clean_text_sql(x)),
}


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create temporary SQL macros fd_clean(x), fd_child_id(x), fd_date(x), ... on a connection."""
    for name, build in _MACROS.items():
        con.execute(f"CREATE OR REPLACE TEMP MACRO {name}(x) AS {build('x')}")  # type: ignore[operator]
