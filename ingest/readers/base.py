"""The contract between a reader (one extract format) and the load pipeline.

A reader is a function ``read(path: Path, con: DuckDBPyConnection) -> ReadResult``. It reads the
file and, on the connection it is given (the load's private working copy, inside the load's
transaction), creates one TEMP table per entity it found, named ``staged_<entity>``
(``staged_contacts``, ``staged_referrals``, ``staged_assessments``, ``staged_cin_episodes``,
``staged_recordings``), whose columns are exactly ``store.schema.ENTITIES[entity].column_names``
followed by ``sheet``, ``row_number`` and ``flags`` (see ``store.schema.STAGED_PROVENANCE``),
with canonical types. Rows that cannot be loaded go to the TEMP table ``staged_rejects``
(``create_staged_rejects``), never silently dropped. The pipeline adds load id, file name and
as-of date, then merges.

A file that cannot be read at all raises ``ExtractError`` with one line naming the file and the
problem; the pipeline turns it into the command's error message and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from store.schema import ENTITIES, STAGED_PROVENANCE


class ExtractError(Exception):
    """A file that cannot be loaded: the message is one line naming the file and the problem."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path.name}: {problem}")


@dataclass
class ReadResult:
    """What a reader found in one file."""

    format: str  # 'annex_a' | 'cin_census' | 'case_recording'
    entities: list[str] = field(default_factory=list)  # staged_<entity> tables created
    rows_read: int = 0  # source data rows read (all entities, rejects included)
    notices: list[str] = field(default_factory=list)  # e.g. "List 2 (Early Help) skipped: not used"
    as_of: date | None = None  # the date the file says it was taken (CIN census ReferenceDate), if it says one


STAGED_REJECTS_DDL = (
    "CREATE OR REPLACE TEMP TABLE staged_rejects ("
    "sheet VARCHAR, row_number INTEGER, entity VARCHAR, raw JSON, reason VARCHAR)"
)


def create_staged_rejects(con: duckdb.DuckDBPyConnection) -> None:
    """Create the empty TEMP table ``staged_rejects`` (sheet, row_number, entity, raw JSON, reason)."""
    con.execute(STAGED_REJECTS_DDL)


def staged_columns(entity: str) -> list[str]:
    """Column names, in order, of the TEMP table ``staged_<entity>``."""
    return ENTITIES[entity].column_names + list(STAGED_PROVENANCE)


def staged_ddl(entity: str) -> str:
    """CREATE statement of the empty TEMP table ``staged_<entity>`` with canonical types."""
    e = ENTITIES[entity]
    cols = [f"{c.name} {c.type}" for c in e.columns] + ["sheet VARCHAR", "row_number INTEGER", "flags VARCHAR[]"]
    return f"CREATE OR REPLACE TEMP TABLE staged_{entity} ({', '.join(cols)})"


@contextmanager
def setting(con: duckdb.DuckDBPyConnection, name: str, value: bool | str) -> Iterator[None]:
    """Run statements with one DuckDB setting changed, then restore the connection's value."""
    before = con.execute(f"SELECT current_setting('{name}')").fetchall()[0][0]
    con.execute(f"SET {name} = {_setting_literal(value)}")
    try:
        yield
    except BaseException:
        # In a transaction a failed statement aborts, and the restoring SET would fail too and hide
        # the first error (a full disk would read as "transaction is aborted"): report the first one.
        with suppress(duckdb.Error):
            con.execute(f"SET {name} = {_setting_literal(before)}")
        raise
    con.execute(f"SET {name} = {_setting_literal(before)}")


def _setting_literal(value: bool | str) -> str:
    return str(value).lower() if isinstance(value, bool) else "'" + str(value).replace("'", "''") + "'"


def insertion_order(con: duckdb.DuckDBPyConnection, preserve: bool) -> AbstractContextManager[None]:
    """Run statements with DuckDB's preserve_insertion_order set, then restore the connection's setting."""
    return setting(con, "preserve_insertion_order", preserve)


def without_optimizers(con: duckdb.DuckDBPyConnection, names: str) -> AbstractContextManager[None]:
    """Run statements with these DuckDB optimizers off too (comma-separated), then restore the connection's setting."""
    before = con.execute("SELECT current_setting('disabled_optimizers')").fetchall()[0][0]
    return setting(con, "disabled_optimizers", ",".join(filter(None, [before, names])))


def in_lists_as_written(con: duckdb.DuckDBPyConnection) -> AbstractContextManager[None]:
    """Run statements with DuckDB's IN-clause rewrite off: each `x IN (<6 or more constants>)` compared in place.

    The rewrite turns each such list into a join against its constants. The cleaning of every value
    (`ingest.normalise.clean_text_sql`: a dozen spellings of "missing") has one, so a reader's staging statements
    planned and ran a join per column: for a small file half their time, and slower at any size (a CIN census of
    200,000 children staged in 3.4 s of CPU instead of 4.0, rows identical; BENCHMARKS.md, fourth pass).
    """
    return without_optimizers(con, "in_clause")
