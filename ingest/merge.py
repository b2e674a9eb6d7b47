"""Rebuild each canonical table from its versions: one row per natural key, the latest as-of wins.

The order is total and independent of the order files were loaded in: as-of date, then the
extract's content hash, then the row number in the file (the last of duplicate rows in one file
wins). Team and worker, which the CIN census does not carry, and an assessment's referral date,
which only the CIN census carries, fall back to the latest version that has them.
"""

from __future__ import annotations

import duckdb

from store.schema import ENTITIES, PROVENANCE, Entity

FALLBACK_COLUMNS: tuple[str, ...] = ("team", "worker", "referral_date")


VERSION_ORDER = "v.as_of DESC, l.sha256 DESC, v.row_number DESC"  # latest extract first, then a fixed tie-break


def version_rank_sql(entity: Entity) -> str:
    """SELECT of every version with `version_rank` (1 = current) and fallback team/worker."""
    key = ", ".join(f"v.{k}" for k in entity.natural_key)
    window = f"PARTITION BY {key} ORDER BY {VERSION_ORDER}"
    cols = []
    for c in list(entity.columns) + list(PROVENANCE):
        if c.name in FALLBACK_COLUMNS and c.name not in entity.natural_key:
            cols.append(
                f"coalesce(v.{c.name}, first_value(v.{c.name} IGNORE NULLS) OVER ({window}"
                f" ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)) AS {c.name}"
            )
        else:
            cols.append(f"v.{c.name}")
    return (
        f"SELECT {', '.join(cols)}, row_number() OVER ({window}) AS version_rank "
        f"FROM {entity.versions_table} v JOIN loads l USING (load_id)"
    )


def rebuild_canonical(con: duckdb.DuckDBPyConnection, entities: list[str] | None = None) -> None:
    """Replace the canonical tables with the current version of each natural key."""
    for name in entities or list(ENTITIES):
        entity = ENTITIES[name]
        names = ", ".join(entity.column_names + [c.name for c in PROVENANCE])
        con.execute(f"DELETE FROM {entity.name}")
        con.execute(
            f"INSERT INTO {entity.name} SELECT {names} FROM ({version_rank_sql(entity)}) WHERE version_rank = 1"
        )
