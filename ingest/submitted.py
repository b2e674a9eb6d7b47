"""The hook that checks a CIN census file as submitted: stage its raw elements, run DfE's rules, file the findings."""

from __future__ import annotations

from pathlib import Path

import duckdb

from expectations.dfe_cin.runner import drop_findings, record_findings, run_rules
from ingest.readers.cin_submitted import STAGED_TABLE, stage_submitted

CIN_FORMAT = "cin_census"


def discard_as_submitted(con: duckdb.DuckDBPyConnection) -> None:
    """Drop what a previous file staged."""
    con.execute(f"DROP TABLE IF EXISTS {STAGED_TABLE}")
    drop_findings(con)


def check_as_submitted(con: duckdb.DuckDBPyConnection, path: Path, file_format: str | None) -> None:
    """For a CIN census file: stage its elements as written and run its year's DfE rules (TEMP tables only)."""
    discard_as_submitted(con)
    if file_format == CIN_FORMAT:
        stage_submitted(path, con)
        run_rules(con)


def record_as_submitted(
    con: duckdb.DuckDBPyConnection, load_id: int, source_file: str, file_format: str | None
) -> None:
    """File the DfE findings of a CIN census file (`check_as_submitted` staged them) under its load, then drop them."""
    if file_format == CIN_FORMAT:
        record_findings(con, load_id, source_file)
    discard_as_submitted(con)
