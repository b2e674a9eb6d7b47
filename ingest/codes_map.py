"""Map the spellings councils use for coded values (ethnicity, sex, source, need, closure, yes/no) to DfE codes in SQL.

The synonyms live in ``ingest/code_synonyms.csv`` (provenance in ``ingest/code_synonyms.md``);
the canonical codes themselves come from ``store.codes``. Both are installed on a connection as
the TEMP table ``code_synonyms(domain, key, code, is_code)``, where ``key`` is the spelling
reduced by ``code_key_sql`` (lower case, letter prefix such as ``a)`` dropped, punctuation made
spaces), with the keys each code claims alone beside it (``code_synonyms_whole``, ``code_synonyms_leading``:
worked out once per connection). A value maps when its key is a known spelling of the domain, or when its first word is
one of the domain's codes (``q) 6: Police`` -> ``6``, ``N1 - Abuse or Neglect`` -> ``N1``) and
the words after it do not spell a different code (``7 - Police`` maps to nothing). Nothing else
is guessed: a value that does not map is kept as it is and flagged by the reader.

Yes/no domains map to ``TRUE``, ``FALSE`` or ``UNKNOWN`` (recognised, but neither).
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

import duckdb
import pyarrow as pa

from store.codes import CLOSURE_REASONS, ETHNICITY_ALL, PRIMARY_NEED, REFERRAL_SOURCES, SEX_CODES

SYNONYMS_CSV = Path(__file__).with_name("code_synonyms.csv")
SYNONYMS_TABLE = "code_synonyms"
WHOLE_TABLE = "code_synonyms_whole"  # (domain, key, code): the keys exactly one code claims
LEADING_TABLE = "code_synonyms_leading"  # the same for the keys that are a code itself (a value's first word)

# Domains whose values are codes (the first word of a value may be the code itself).
CODE_DOMAINS: dict[str, frozenset[str]] = {
    "ethnicity": frozenset(ETHNICITY_ALL),
    "sex": frozenset(SEX_CODES),
    "referral_source": frozenset(REFERRAL_SOURCES),
    "primary_need": frozenset(PRIMARY_NEED),
    "closure_reason": frozenset(CLOSURE_REASONS),
}
# Yes/no domains: each also accepts every spelling of the plain 'yes_no' domain.
BOOLEAN_DOMAINS: tuple[str, ...] = ("yes_no", "nfa", "disability", "child_seen")
BOOLEAN_CODES: frozenset[str] = frozenset({"TRUE", "FALSE", "UNKNOWN"})
DOMAINS: tuple[str, ...] = (*CODE_DOMAINS, *BOOLEAN_DOMAINS)

# Letter prefixes of the Ofsted code lists: 'a) ', 'zz) ', 'b. '.
_PREFIX = r"^[a-z]{1,2}\)\s*|^[a-z]{1,2}\.\s+"


def code_key_sql(expr: str) -> str:
    """SQL: the matching key of clean text: lower case, quotes dropped, letter prefix dropped, punctuation as spaces."""
    lowered = f"regexp_replace(lower({expr}), '[’‘''`]', '', 'g')"
    unprefixed = f"regexp_replace(trim({lowered}), '{_PREFIX}', '')"
    return f"trim(regexp_replace({unprefixed}, '[^a-z0-9&]+', ' ', 'g'))"


@lru_cache(maxsize=1)
def _spellings() -> dict[str, list]:
    """Every (domain, code, spelling, is_code), as columns: canonical codes, the CSV, and yes/no spellings for each
    yes/no domain."""
    rows = [(domain, code, code, True) for domain, codes in CODE_DOMAINS.items() for code in sorted(codes)]
    rows += [(domain, code, code, False) for domain in BOOLEAN_DOMAINS for code in sorted(BOOLEAN_CODES)]
    with open(SYNONYMS_CSV, encoding="utf-8", newline="") as handle:
        listed = [(r["domain"], r["code"], r["spelling"], False) for r in csv.DictReader(handle)]
    rows += listed
    rows += [
        (domain, code, spelling, False)
        for d, code, spelling, _ in listed
        if d == "yes_no"
        for domain in BOOLEAN_DOMAINS
        if domain != "yes_no"
    ]
    columns = list(zip(*rows))
    return {
        "domain": list(columns[0]),
        "code": list(columns[1]),
        "spelling": list(columns[2]),
        "is_code": list(columns[3]),
    }


_TABLES: list[dict[str, pa.Table]] = []  # the synonyms table and its two lookups, worked out once per process


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
    """The rows of the synonyms table, (domain, key, code, is_code) of every spelling, and of its two lookups
    (`_lookup_sql`): worked out in DuckDB on the first connection that asks, then kept (the CSV and the codes do not
    change while a process runs; keying them and grouping the lookups cost each connection ~15 ms).

    The spellings go in as list parameters, not an Arrow table built in Python: pyarrow imports pandas to build
    one (half a second of CPU); an Arrow table that DuckDB makes does not.
    """
    if not _TABLES:
        keyed = con.sql(
            f"SELECT domain, {code_key_sql('spelling')} AS key, code, bool_or(is_code) AS is_code FROM"
            " (SELECT unnest($domain) AS domain, unnest($code) AS code, unnest($spelling) AS spelling,"
            " unnest($is_code) AS is_code) GROUP BY ALL HAVING key <> '' ORDER BY ALL",
            params=_spellings(),
        ).to_arrow_table()
        con.register("_code_synonyms_keyed", keyed)
        try:
            lookups = {
                name: con.sql(_lookup_sql(condition, "_code_synonyms_keyed")).to_arrow_table()
                for name, condition in ((WHOLE_TABLE, "TRUE"), (LEADING_TABLE, "is_code"))
            }
        finally:
            con.unregister("_code_synonyms_keyed")
        _TABLES.append({SYNONYMS_TABLE: keyed, **lookups})
    return _TABLES[0]


def _create_synonyms(con: duckdb.DuckDBPyConnection, create: str) -> None:
    """The synonyms table and beside it its two lookups, from the rows kept for the process (`_tables`), rather
    than worked out in every statement that maps codes (each aggregation cost a reader's statement ~15 ms)."""
    for name, rows in _tables(con).items():
        con.register("_code_synonyms_rows", rows)
        try:
            con.execute(f"{create} {name} AS SELECT * FROM _code_synonyms_rows")
        finally:
            con.unregister("_code_synonyms_rows")


def install_code_synonyms(con: duckdb.DuckDBPyConnection) -> None:
    """Create (or replace) the TEMP table code_synonyms(domain, key, code, is_code) on `con`."""
    _create_synonyms(con, "CREATE OR REPLACE TEMP TABLE")


def synonym_conflicts(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(domain, key) pairs that more than one code claims: should be none (see tests)."""
    return con.execute(
        f"SELECT domain, key FROM {SYNONYMS_TABLE} GROUP BY domain, key HAVING count(DISTINCT code) > 1 ORDER BY ALL"
    ).fetchall()


def _lookup_sql(condition: str, synonyms: str) -> str:
    # A key that two codes claim maps to neither: never guess.
    return (
        f"SELECT domain, key, any_value(code) AS code FROM {synonyms} WHERE {condition}"
        " GROUP BY domain, key HAVING count(DISTINCT code) = 1"
    )


def code_map_sql(values_sql: str) -> str:
    """SQL: (domain, value, code) for the distinct rows of `values_sql` (columns domain, value: clean text).

    ``code`` is the code whose spelling the value is, else the code its first word is, unless the
    words after it are the spelling of another code (``7 - Police``); else NULL. Needs
    ``install_code_synonyms`` on the connection.
    """
    return f"""
        SELECT v.domain, v.value,
               CASE WHEN whole.code IS NOT NULL THEN whole.code
                    WHEN lead.code IS NOT NULL AND (rest.code IS NULL OR rest.code = lead.code) THEN lead.code
               END AS code
        FROM (SELECT DISTINCT domain, value, {code_key_sql("value")} AS key
              FROM ({values_sql}) WHERE value IS NOT NULL AND domain IS NOT NULL) v
        LEFT JOIN {WHOLE_TABLE} whole ON whole.domain = v.domain AND whole.key = v.key
        LEFT JOIN {LEADING_TABLE} lead
               ON lead.domain = v.domain AND lead.key = regexp_extract(v.key, '^([a-z0-9]+)( |$)', 1)
        LEFT JOIN {WHOLE_TABLE} rest
               ON rest.domain = v.domain AND rest.key = regexp_replace(v.key, '^[a-z0-9]+ ?', '')"""


def create_code_map(con: duckdb.DuckDBPyConnection, values_sql: str, domain: str, map_table: str) -> None:
    """TEMP table `map_table(value, code)`: each distinct clean value of `values_sql` with its code (NULL if unmapped).

    `values_sql` is a query with one column named ``value`` (clean text). The map is built on the
    distinct values only, so a million rows cost no more than their few hundred spellings.
    """
    if domain not in DOMAINS:
        raise ValueError(f"unknown code domain {domain!r}")
    ensure_code_synonyms(con)
    values = f"SELECT $domain AS domain, value FROM ({values_sql})"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {map_table} AS SELECT value, code FROM ({code_map_sql(values)})",
        {"domain": domain},
    )


def ensure_code_synonyms(con: duckdb.DuckDBPyConnection) -> None:
    """Install the TEMP table code_synonyms on `con` unless it is there (one statement: asking the catalog first
    costs more, ~20 ms on a new connection)."""
    _create_synonyms(con, "CREATE TEMP TABLE IF NOT EXISTS")


def boolean_sql(code_expr: str) -> str:
    """SQL: a yes/no code as BOOLEAN (UNKNOWN and NULL give NULL)."""
    return f"(CASE {code_expr} WHEN 'TRUE' THEN TRUE WHEN 'FALSE' THEN FALSE ELSE NULL END)"
