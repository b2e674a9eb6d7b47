"""Run a census year's DfE rules on one staged CIN file and keep the findings, per load and file."""

from __future__ import annotations

import duckdb

from expectations.dfe_cin.registry import rules_for
from expectations.dfe_cin.submitted import MODULES, build_census, build_modules, drop_modules, modules_read

STAGED_FINDINGS = "staged_dfe_findings"
STAGED_RUN = "staged_dfe_run"
_FINDING_COLUMNS = (
    "rule_code",
    "rule_type",
    "message",
    "element_path",
    "row_number",
    "la_child_id",
    "elements",
    "offending_values",
)


def run_rules(con: duckdb.DuckDBPyConnection, only: frozenset[str] | None = None) -> int:
    """Run the file's year's rules on `staged_cin_elements` into TEMP tables; returns the number of findings.

    `only` runs just the rules of the year with those codes, as DfE's validator runs a rule selected (each rule's
    findings are those of the whole set: the rules are independent queries of the same module tables), and builds
    only the module tables those rules read (a rule naming a table not built would fail, not pass).
    """
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {STAGED_FINDINGS} (rule_code VARCHAR, rule_type VARCHAR,"
        " message VARCHAR, element_path VARCHAR, row_number INTEGER, la_child_id VARCHAR, elements VARCHAR,"
        " offending_values VARCHAR, rule_order INTEGER)"
    )
    try:
        year = build_census(con)
        rules = [r for r in rules_for(year) if only is None or r.code in only]
        build_modules(con, MODULES if only is None else modules_read(r.sql for r in rules))
        if rules:  # every rule's findings in one statement (a statement per rule costs its planning each time)
            con.execute(
                f"INSERT INTO {STAGED_FINDINGS} "
                + " UNION ALL ".join(
                    "SELECT ?, ?, ?, CAST(path AS VARCHAR), CAST(child_pos AS INTEGER), CAST(la_child_id AS VARCHAR),"
                    f" ?, CAST(offending_values AS VARCHAR), ? FROM ({rule.sql})"
                    for rule in rules
                ),
                [v for order, r in enumerate(rules) for v in (r.code, r.rule_type, r.message, r.elements, order)],
            )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {STAGED_RUN} AS SELECT CAST(? AS INTEGER) AS collection_year,"
            " (SELECT reference_date FROM dfe_census) AS reference_date,"
            " CAST((SELECT count(*) FROM dfe_child) AS INTEGER) AS children, CAST(? AS VARCHAR[]) AS rules_run",
            [year, [r.code for r in rules]],
        )
    finally:
        drop_modules(con)
    return int(con.execute(f"SELECT count(*) FROM {STAGED_FINDINGS}").fetchall()[0][0])


def findings_frame(con: duckdb.DuckDBPyConnection):
    """The staged findings in rule order, then file order (for tests and the command line)."""
    cols = ", ".join(_FINDING_COLUMNS)
    return con.sql(f"SELECT {cols} FROM {STAGED_FINDINGS} ORDER BY rule_order, row_number, element_path").df()


def record_findings(con: duckdb.DuckDBPyConnection, load_id: int, source_file: str) -> None:
    """Write the staged run and findings under this load and file (inside the load's transaction)."""
    cols = ", ".join(_FINDING_COLUMNS)
    con.execute(
        f"INSERT INTO dfe_findings SELECT ?, ?, {cols} FROM {STAGED_FINDINGS}"
        " ORDER BY rule_order, row_number, element_path",
        [load_id, source_file],
    )
    con.execute(
        f"INSERT INTO dfe_rule_runs SELECT ?, ?, r.collection_year, r.reference_date, r.children, r.rules_run,"
        f" (SELECT count(*) FROM {STAGED_FINDINGS} WHERE rule_type = 'error'),"
        f" (SELECT count(*) FROM {STAGED_FINDINGS} WHERE rule_type = 'query') FROM {STAGED_RUN} r",
        [load_id, source_file],
    )


def drop_findings(con: duckdb.DuckDBPyConnection) -> None:
    for table in (STAGED_FINDINGS, STAGED_RUN):
        con.execute(f"DROP TABLE IF EXISTS {table}")
