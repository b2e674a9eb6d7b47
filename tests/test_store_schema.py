"""The store's schema: docs/SCHEMA.md is generated from store/schema.py, and every table is created."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

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


def test_the_thread_setting_applies_to_every_store_connection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """FRONTDOOR_DUCKDB_THREADS sets DuckDB's threads on a load's copy and on readers; a bad value says so."""
    from store.connection import THREADS_ENV, open_for_update, open_read

    monkeypatch.setenv(THREADS_ENV, "3")
    store = tmp_path / "s.duckdb"
    with open_for_update(store) as con:
        assert con.execute("SELECT current_setting('threads')").fetchone() == (3,)
    monkeypatch.setenv(THREADS_ENV, "1")
    con = open_read(store)
    assert con.execute("SELECT current_setting('threads')").fetchone() == (1,)
    con.close()
    monkeypatch.setenv(THREADS_ENV, "many")
    with pytest.raises(ValueError, match="FRONTDOOR_DUCKDB_THREADS='many': give a whole number"):
        open_read(store)


def test_a_store_is_brought_up_to_date_once_and_again_when_the_schema_changes() -> None:
    """The schema's fingerprint is kept in the store: an up-to-date store is left alone, an older one is updated."""
    from store.connection import schema_fingerprint

    con = duckdb.connect()
    create_schema(con)
    assert con.execute("SELECT fingerprint FROM store_schema").fetchall() == [(schema_fingerprint(),)]
    # as an older build left it: no fingerprint, a canonical table without field_loads, a support table missing
    con.execute("DROP TABLE store_schema")
    con.execute("ALTER TABLE recordings DROP COLUMN field_loads")
    con.execute("DROP TABLE dq_check_state")
    create_schema(con)
    assert "field_loads" in {r[0] for r in con.execute("DESCRIBE recordings").fetchall()}
    assert con.execute("SELECT count(*) FROM dq_check_state").fetchone() == (0,)
    con.execute("UPDATE store_schema SET fingerprint = 'an older schema'")  # a schema changed since: run again
    con.execute("DROP TABLE dq_check_state")
    create_schema(con)
    assert con.execute("SELECT fingerprint FROM store_schema").fetchall() == [(schema_fingerprint(),)]
    assert con.execute("SELECT count(*) FROM dq_check_state").fetchone() == (0,)
