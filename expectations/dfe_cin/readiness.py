"""Return readiness: per CIN census file as loaded, DfE errors that block the return and queries to explain.

Read from `dfe_rule_runs` and `dfe_findings` (written when each file was loaded). The CSV an officer
works down has one row per finding: LAchildID, rule, DfE message, element path, values, file, row.
"""

from __future__ import annotations

import duckdb
import pandas as pd

RETURN_ROW_COLUMNS: tuple[str, ...] = (
    "la_child_id",
    "rule_code",
    "rule_type",
    "message",
    "element_path",
    "offending_values",
    "source_file",
    "row_number",
)


def _census_label(year: str) -> str:
    return f"(CASE WHEN {year} IS NULL THEN 'unknown' ELSE ({year} - 1) || '-' || lpad(({year} % 100)::VARCHAR, 2, '0') END)"


FILE_COLUMNS: tuple[str, ...] = (
    "load_id",
    "source_file",
    "loaded_on",
    "census_year",
    "reference_date",
    "children",
    "errors",
    "queries",
    "ready",
)


def return_files(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per CIN census file loaded, newest first: load_id, source_file, loaded_on, census_year,
    reference_date, children, errors, queries, ready (no error left). Empty for a store written before
    files were checked as submitted (it has no `dfe_rule_runs` until its next load)."""
    present = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'dfe_rule_runs'").fetchall()[0][0]
    if not present:
        return pd.DataFrame(columns=list(FILE_COLUMNS))
    return con.execute(
        f"""SELECT r.load_id, r.source_file, CAST(l.loaded_at AS DATE) AS loaded_on,
                   {_census_label("r.collection_year")} AS census_year, r.reference_date, r.children,
                   r.errors, r.queries, r.errors = 0 AS ready
            FROM dfe_rule_runs r LEFT JOIN loads l USING (load_id)
            ORDER BY l.loaded_at DESC, r.load_id DESC"""
    ).df()


def rule_counts(con: duckdb.DuckDBPyConnection, load_id: int) -> pd.DataFrame:
    """For one file: each DfE rule that fired, errors first: rule_code, rule_type, message, findings, children."""
    return con.execute(
        """SELECT rule_code, rule_type, message, count(*) AS findings, count(DISTINCT la_child_id) AS children
           FROM dfe_findings WHERE load_id = ?
           GROUP BY rule_code, rule_type, message
           ORDER BY CASE rule_type WHEN 'error' THEN 0 ELSE 1 END, findings DESC, rule_code""",
        [load_id],
    ).df()


def return_rows(con: duckdb.DuckDBPyConnection, load_id: int, rule_type: str | None = None) -> pd.DataFrame:
    """For one file: every finding to work down (errors first, then in file order), optionally one type only."""
    return con.execute(
        f"""SELECT {", ".join(RETURN_ROW_COLUMNS)} FROM dfe_findings
            WHERE load_id = ? AND (CAST(? AS VARCHAR) IS NULL OR rule_type = ?)
            ORDER BY CASE rule_type WHEN 'error' THEN 0 ELSE 1 END, row_number, element_path, rule_code""",
        [load_id, rule_type, rule_type],
    ).df()


def readiness_trend(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Errors and queries per CIN file, oldest load first, labelled by load date and file name:
    loaded_on, source_file, file ('<loaded_on> <source_file>'), rule_type, findings."""
    return con.execute(
        """SELECT CAST(l.loaded_at AS DATE) AS loaded_on, r.source_file,
                  strftime(CAST(l.loaded_at AS DATE), '%Y-%m-%d') || ' ' || r.source_file AS file,
                  t.rule_type, CASE t.rule_type WHEN 'error' THEN r.errors ELSE r.queries END AS findings
           FROM dfe_rule_runs r LEFT JOIN loads l USING (load_id)
           CROSS JOIN (VALUES ('error'), ('query')) t(rule_type)
           ORDER BY l.loaded_at, r.load_id, t.rule_type"""
    ).df()
