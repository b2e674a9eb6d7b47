"""The store's schema: docs/SCHEMA.md is generated from store/schema.py, and every table is created."""

from __future__ import annotations

from pathlib import Path

import duckdb

from store.connection import create_schema
from store.schema import ENTITIES, SUPPORT_TABLES, schema_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_schema_doc_is_generated_from_the_code() -> None:
    assert (ROOT / "docs" / "SCHEMA.md").read_text(encoding="utf-8") == schema_markdown() + "\n", (
        "docs/SCHEMA.md is stale: run `python -m store schema > docs/SCHEMA.md`"
    )


def test_every_table_is_created_with_its_natural_key_columns() -> None:
    con = duckdb.connect()
    create_schema(con)
    tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    expected = set(SUPPORT_TABLES) | set(ENTITIES) | {e.versions_table for e in ENTITIES.values()}
    assert expected <= tables
    for entity in ENTITIES.values():
        columns = {r[0] for r in con.execute(f"DESCRIBE {entity.name}").fetchall()}
        assert (
            set(entity.natural_key) <= columns and {"load_id", "source_file", "sheet", "row_number", "as_of"} <= columns
        )
