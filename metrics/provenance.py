"""Where each value of a current record came from: the file that supplied each field after the field-level merge."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pandas as pd

from metrics.params import check_choice
from store.schema import ENTITIES, SOURCE_FIELDS

NO_FILE = "not in any file loaded"
MERGED_ENTITIES: tuple[str, ...] = tuple(ENTITIES)


def _values(rows: Sequence[tuple[str, ...]], names: str) -> str:
    """A VALUES relation of constant strings (from store.schema, never user input)."""
    if not rows:
        return f"(SELECT {', '.join(f'NULL::VARCHAR AS {n}' for n in names.split(', '))} WHERE false)"
    body = ", ".join("(" + ", ".join("'" + v + "'" for v in row) + ")" for row in rows)
    return f"(SELECT * FROM (VALUES {body}) t({names}))"


def record_sources_sql(entity: str) -> str:
    """SELECT of (natural key, source_file, format, as_of, fields) for the current rows of the children in `?`."""
    e = ENTITIES[check_choice("entity", entity, MERGED_ENTITIES)]
    fields = [c for c in e.column_names if c not in e.natural_key and c != "child_id"]
    not_carried = [
        (fmt, c) for fmt, tables in SOURCE_FIELDS.items() if entity in tables for c in fields if c not in tables[entity]
    ]
    keys = ", ".join(f"r.{k}" for k in e.natural_key)
    child = "" if "child_id" in e.natural_key else "r.child_id, "
    return f"""
        WITH r AS (
            SELECT c.*, l.format FROM {e.name} c JOIN loads l USING (load_id)
            WHERE c.child_id IN (SELECT unnest(CAST(? AS VARCHAR[])))
        ), per_field AS (
            SELECT {child}{keys}, f.field,
                   CASE WHEN coalesce(map_contains(r.field_loads, f.field), false) THEN r.field_loads[f.field]
                        WHEN EXISTS (SELECT 1 FROM {_values(not_carried, "format, field")} n
                                     WHERE n.format = r.format AND n.field = f.field) THEN NULL
                        ELSE r.load_id END AS supplied_by
            FROM r CROSS JOIN {_values([(c,) for c in fields], "field")} f
        )
        SELECT p.* EXCLUDE (field, supplied_by), coalesce(l.source_file, '{NO_FILE}') AS source_file,
               l.format, l.as_of, string_agg(p.field, ', ' ORDER BY p.field) AS fields
        FROM per_field p LEFT JOIN loads l ON l.load_id = p.supplied_by
        GROUP BY ALL ORDER BY ALL"""


def record_sources(con: duckdb.DuckDBPyConnection, entity: str, child_ids: tuple[str, ...]) -> pd.DataFrame:
    """For each current record of these children, which file (format, as-of date) supplied which of its fields.

    A record merged from several extracts shows one row per file: e.g. an assessment whose
    authorisation date and factors came from the CIN census and whose child seen, team and worker
    came from an Annex A workbook. Fields no loaded file carries are listed as 'not in any file loaded'.
    """
    return con.execute(record_sources_sql(entity), [list(child_ids)]).df()
