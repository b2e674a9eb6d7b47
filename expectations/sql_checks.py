"""Checks that run as SQL over the store, reported in the same form as the Great Expectations ones.

They are the checks GE cannot express on one table's data frame (across rows or tables, on list
columns, on the rows that could not be loaded), and the key checks, which DuckDB answers in a
second where pandas needs half a minute on 20 M string keys. Each is a function of the run
parameters returning a SELECT of its failing rows with the columns table_name, child_id,
source_file, sheet, row_number, value; `run_sql_check` counts them exactly and keeps `limit` rows.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pandas as pd

from expectations.model import Check, CheckParams
from store.codes import DISABILITY_CODES, ETHNICITY_KNOWN
from store.schema import ENTITIES

FAILING_COLUMNS: tuple[str, ...] = ("table_name", "child_id", "source_file", "sheet", "row_number", "value")
ETHNICITY_TABLES: tuple[str, ...] = ("contacts", "referrals", "assessments", "cin_episodes")

SqlText = Callable[[CheckParams], str]


def _quoted(values: list[str] | tuple[str, ...]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _provenance(table: str, alias: str = "") -> str:
    a = f"{alias}." if alias else ""
    return f"'{table}' AS table_name, {a}child_id, {a}source_file, {a}sheet, {a}row_number"


def rows_of(table: str) -> SqlText:
    """Rows checked: every row of a canonical table."""
    return lambda p: f"SELECT count(*) FROM {table}"


def _key_match(key: tuple[str, ...], left: str, right: str) -> str:
    return " AND ".join(f"{left}.{k} IS NOT DISTINCT FROM {right}.{k}" for k in key)


def _shown_key(key: tuple[str, ...], alias: str) -> str:
    return " || '; ' || ".join(f"coalesce(CAST({alias}.{k} AS VARCHAR), 'missing')" for k in key)


def _duplicate_groups(source: str, group: tuple[str, ...]) -> str:
    cols = ", ".join(group)
    return f"SELECT {cols}, count(*) AS n FROM ({source}) GROUP BY {cols} HAVING count(*) > 1"


def _duplicates(source: str, key: tuple[str, ...], table: str, group_extra: tuple[str, ...] = ()) -> str:
    """Every row of `source` whose key (within `group_extra`, e.g. one file) is shared by another row."""
    group = (*group_extra, *key)
    return (
        f"SELECT {_provenance(table, 's')}, {_shown_key(key, 's')} || ' (' || dup.n || ' rows)' AS value"
        f" FROM ({source}) s JOIN ({_duplicate_groups(source, group)}) dup ON {_key_match(group, 's', 'dup')}"
    )


def _duplicates_count(source: str, key: tuple[str, ...], group_extra: tuple[str, ...] = ()) -> str:
    """How many rows `_duplicates` returns, from the groups alone (no second pass over the rows)."""
    return f"SELECT coalesce(sum(n), 0) FROM ({_duplicate_groups(source, (*group_extra, *key))})"


# --- Keys and child ids of the stored rows ------------------------------------------------------

def duplicate_keys(table: str) -> SqlText:
    """Stored rows sharing their natural key with another stored row (every such row)."""
    return lambda p: _duplicates(f"SELECT * FROM {table}", ENTITIES[table].natural_key, table)


def duplicate_keys_count(table: str) -> SqlText:
    """Failing rows of `duplicate_keys`."""
    return lambda p: _duplicates_count(f"SELECT * FROM {table}", ENTITIES[table].natural_key)


def missing_child_id(table: str) -> SqlText:
    """Stored rows without a child id."""
    key = ENTITIES[table].natural_key
    shown = " || '; ' || ".join(f"coalesce(CAST({k} AS VARCHAR), 'missing')" for k in key if k != "child_id")
    return lambda p: f"SELECT {_provenance(table)}, 'no child id; ' || {shown} AS value FROM {table} WHERE child_id IS NULL"


# --- Dates that did not parse (readers flag them '<column>_unparsed' and store NULL) --------------

def _date_columns(table: str) -> list[str]:
    return [c.name for c in ENTITIES[table].columns if c.type in ("DATE", "TIMESTAMP")]


def unparsed_dates(table: str) -> SqlText:
    """Rows whose flags say a date column held text that is not a date."""
    flags = _quoted([f"{c}_unparsed" for c in _date_columns(table)])

    def sql(p: CheckParams) -> str:
        bad = f"list_filter(flags, lambda f: f IN ({flags}))"
        return (f"SELECT {_provenance(table)},"
                f" array_to_string(list_transform({bad}, lambda f: replace(f, '_unparsed', '')), ', ')"
                f" || ' could not be read as a date' AS value"
                f" FROM {table} WHERE len({bad}) > 0")
    return sql


# --- File-level checks: the files loaded since the previous validation -------------------------

_RAW_CHILD_ID = (
    "json_extract_string(r.raw, '$.\"' || list_filter(json_keys(r.raw),"
    " lambda k: regexp_matches(lower(k), 'child.*id|lachildid'))[1] || '\"')"
)


def rejected_rows(table: str) -> SqlText:
    """Rows meant for `table` in the new files that are in `rejects` (child id: as written in the file, if any)."""
    return lambda p: (
        f"SELECT r.entity AS table_name, {_RAW_CHILD_ID} AS child_id, r.source_file, r.sheet, r.row_number,"
        f" r.reason AS value FROM rejects r WHERE r.entity = '{table}' AND {p.is_new_load('r.load_id')}"
    )


def rows_loaded_new(table: str) -> SqlText:
    """Rows checked: rows of the new files stored as versions of `table`."""
    return lambda p: f"SELECT count(*) FROM {ENTITIES[table].versions_table} v WHERE {p.is_new_load('v.load_id')}"


def rows_read_new(table: str) -> SqlText:
    """Rows checked: rows for `table` read from the new files (loaded or rejected)."""
    return lambda p: (
        f"SELECT ({rows_loaded_new(table)(p)}) + (SELECT count(*) FROM rejects r"
        f" WHERE r.entity = '{table}' AND {p.is_new_load('r.load_id')})"
    )


def _new_versions(table: str, p: CheckParams) -> str:
    return f"SELECT * FROM {ENTITIES[table].versions_table} WHERE {p.is_new_load('load_id')}"


def duplicate_rows(table: str) -> SqlText:
    """Every row of a new file that shares its natural key with another row of the same file."""
    return lambda p: _duplicates(_new_versions(table, p), ENTITIES[table].natural_key, table,
                                 group_extra=("load_id", "source_file"))


def duplicate_rows_count(table: str) -> SqlText:
    """Failing rows of `duplicate_rows`."""
    return lambda p: _duplicates_count(_new_versions(table, p), ENTITIES[table].natural_key,
                                       group_extra=("load_id", "source_file"))


# --- Annex A 'Number of Referrals in Last 12 Months' against the referrals themselves ---------

def _referral_count_base(p: CheckParams) -> str:
    """CTE `checked`: Annex A rows whose 12-month look-back the store fully holds, with the count found.

    The reported number counts the child's referrals in the 12 calendar months before their
    latest referral (as known to the extract the row came from), the latest itself excluded.
    """
    return """
        WITH reported AS (
            SELECT child_id, referral_date, referrals_last_12m, as_of, source_file, sheet, row_number
            FROM referrals WHERE referrals_last_12m IS NOT NULL
        ), latest AS (
            SELECT w.child_id, w.as_of, max(x.referral_date) AS latest_referral
            FROM (SELECT DISTINCT child_id, as_of FROM reported) w
            JOIN referrals x ON x.child_id = w.child_id AND x.referral_date <= w.as_of
            GROUP BY w.child_id, w.as_of
        ), counted AS (
            SELECT l.child_id, l.as_of, l.latest_referral, count(x.referral_date) AS found
            FROM latest l LEFT JOIN referrals x ON x.child_id = l.child_id
                 AND x.referral_date >= CAST(l.latest_referral - INTERVAL 12 MONTH AS DATE)
                 AND x.referral_date < l.latest_referral
            GROUP BY l.child_id, l.as_of, l.latest_referral
        ), checked AS (
            SELECT reported.*, c.found, c.latest_referral
            FROM reported JOIN counted c USING (child_id, as_of)
            WHERE CAST(c.latest_referral - INTERVAL 12 MONTH AS DATE) >= (SELECT min(referral_date) FROM referrals)
        )
    """


def referral_count_disagrees(p: CheckParams) -> str:
    """Annex A rows whose reported number of referrals in the last 12 months differs from the store's."""
    return (_referral_count_base(p) +
            f" SELECT {_provenance('referrals')}, 'reported ' || referrals_last_12m || ', referrals found '"
            " || found || ' in the 12 months before ' || strftime(latest_referral, '%Y-%m-%d') AS value"
            " FROM checked WHERE referrals_last_12m <> found")


def referral_count_checked(p: CheckParams) -> str:
    """Rows checked: Annex A rows with a reported count whose look-back the store fully holds."""
    return _referral_count_base(p) + " SELECT count(*) FROM checked"


# --- Codes in list columns -----------------------------------------------------------------

def invalid_disabilities(p: CheckParams) -> str:
    """Episodes listing a disability that is not a DfE disability code."""
    bad = f"list_filter(disabilities, lambda d: d IS NOT NULL AND d NOT IN ({_quoted(tuple(DISABILITY_CODES))}))"
    return (f"SELECT {_provenance('cin_episodes')}, array_to_string({bad}, ', ') AS value"
            f" FROM cin_episodes WHERE len({bad}) > 0")


# --- 8820: a child's episodes do not overlap ---------------------------------------------------

def overlapping_episodes(p: CheckParams) -> str:
    """Episodes still open, or closed after, when the child's next episode starts (closing on that day is fine)."""
    return (
        f"SELECT {_provenance('cin_episodes')}, 'start ' || strftime(start_date, '%Y-%m-%d') || '; closure '"
        " || coalesce(strftime(closure_date, '%Y-%m-%d'), 'none (open)') || '; next episode starts '"
        " || strftime(next_start, '%Y-%m-%d') AS value"
        " FROM (SELECT *, lead(start_date) OVER (PARTITION BY child_id ORDER BY start_date) AS next_start"
        "       FROM cin_episodes WHERE child_id IS NOT NULL AND start_date IS NOT NULL)"
        " WHERE next_start IS NOT NULL AND (closure_date IS NULL OR closure_date > next_start)"
    )


# --- A child's ethnicity consistent across records ---------------------------------------------

def _known(table: str) -> str:
    return f"ethnicity IN ({_quoted(sorted(ETHNICITY_KNOWN))}) AND child_id IS NOT NULL"


def _known_ethnicity_rows() -> str:
    return " UNION ALL ".join(f"SELECT {_provenance(t)}, ethnicity FROM {t} WHERE {_known(t)}" for t in ETHNICITY_TABLES)


def _inconsistent_children() -> str:
    """CTEs per_table and children: each child with two or more known codes, with how many such records it has."""
    per_table = " UNION ALL ".join(
        f"SELECT child_id, min(ethnicity) AS lo, max(ethnicity) AS hi, count(*) AS n FROM {t} WHERE {_known(t)}"
        " GROUP BY child_id" for t in ETHNICITY_TABLES)
    return (
        f"WITH per_table AS ({per_table}),"
        " children AS (SELECT child_id, min(lo) AS first_code, max(hi) AS last_code, sum(n) AS records"
        "              FROM per_table GROUP BY child_id HAVING min(lo) <> max(hi))"
    )


def inconsistent_ethnicity_count(p: CheckParams) -> str:
    """Failing rows of `inconsistent_ethnicity`, from the per-child counts."""
    return _inconsistent_children() + " SELECT coalesce(sum(records), 0) FROM children"


def inconsistent_ethnicity(p: CheckParams) -> str:
    """Every record of a child recorded with more than one known ethnicity code (codes compared per table first)."""
    return (
        _inconsistent_children() + f", rows AS ({_known_ethnicity_rows()})"
        " SELECT rows.table_name, rows.child_id, rows.source_file, rows.sheet, rows.row_number,"
        " rows.ethnicity || ' (the child is recorded as ' || CASE WHEN rows.ethnicity = children.first_code"
        " THEN children.last_code ELSE children.first_code END || ' elsewhere)' AS value"
        " FROM rows JOIN children USING (child_id)"
    )


def known_ethnicity_rows(p: CheckParams) -> str:
    """Rows checked: records carrying a known ethnicity code."""
    return "SELECT " + " + ".join(f"(SELECT count(*) FROM {t} WHERE {_known(t)})" for t in ETHNICITY_TABLES)


# --- Running -------------------------------------------------------------------------------

def run_sql_check(con: duckdb.DuckDBPyConnection, check: Check, params: CheckParams,
                  limit: int) -> tuple[int, int, pd.DataFrame]:
    """(rows checked, rows failing, the first `limit` failing rows) of one SQL check."""
    assert check.sql is not None and check.sql_checked is not None
    checked = int(con.execute(check.sql_checked(params)).fetchall()[0][0] or 0)
    failing_sql = check.sql(params)
    count_sql = check.sql_count(params) if check.sql_count else f"SELECT count(*) FROM ({failing_sql})"
    failing = int(con.execute(count_sql).fetchall()[0][0])
    if not failing:
        return checked, 0, pd.DataFrame(columns=list(FAILING_COLUMNS))
    rows = con.sql(f"SELECT {', '.join(FAILING_COLUMNS)} FROM ({failing_sql}) LIMIT {int(limit)}")
    return checked, failing, rows.to_arrow_table().to_pandas()

