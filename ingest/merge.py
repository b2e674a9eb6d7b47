"""Bring each canonical table up to date from its versions: one row per natural key, each field from the newest version that carries it.

The order is total and independent of the order files were loaded in: as-of date, then the
extract's content hash, then the row number in the file (the last of duplicate rows in one file
wins), then the element path within one CIN census Child. The newest version gives the row and
its provenance; a field that its format does not carry (store.schema.SOURCE_FIELDS: the CIN
census has no team, worker or child seen; Annex A has no assessment factors or referral date on
an assessment) comes from the newest version whose format does carry it, and the canonical row's
`field_loads` names the load that supplied it. A file that carries a field and leaves it empty
blanks it: that is a real "not recorded".

A load only changes the natural keys its rows carry, so `merge_loads` touches those keys alone:
the cost follows the size of the new extracts, not of the store. `rebuild_canonical` re-ranks
everything (a store built without the loaders, or a repair); a test holds the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from store.connection import one_commit
from store.schema import ENTITIES, FIELD_LOADS, PROVENANCE, Entity, carried_columns, non_carriers

# Latest extract first, then a fixed tie-break: the file's hash, the later row, and within one CIN
# census Child (one row number) the later element path ('CINdetails[10]' after 'CINdetails[9]').
VERSION_ORDER = "v.as_of DESC, v.load_id DESC, v.row_number DESC, length(v.sheet) DESC, v.sheet DESC"

CHANGES = "_merge_changes"  # TEMP table (entity, child_id, record_id, moved, replaced): what a merge may have changed
_RANKED = "_merge_ranked"  # TEMP table of the ranked versions being merged
_SAME = "_merge_same"  # TEMP table: the keys current before a merge, `_same` where their current row kept its values

EMPTY_FIELD_LOADS = f"CAST(MAP {{}} AS {FIELD_LOADS.type}) AS {FIELD_LOADS.name}"


@dataclass
class MergeCounts:
    """What a merge did to the current rows, per new load."""

    superseded: dict[int, int] = field(default_factory=dict)  # the load's versions that are not current
    replaced: dict[int, int] = field(default_factory=dict)  # rows current before that the load's versions replaced
    unchanged: dict[int, int] = field(default_factory=dict)  # the load's versions equal to the row current before


def version_rank_sql(entity: Entity, scope: str | None = None) -> str:
    """SELECT of every version with its load's `source_format`, `version_rank` (1 = the newest) and, per group of
    columns some format does not carry, `_g<i>`: those columns (and `_load`) of the newest version that carries them.

    The groups share the ranking's window (one sort): `first_value(... IGNORE NULLS)` over the whole partition of a
    struct that is NULL only where the version's format does not carry the group, so a carried blank still wins.
    `scope` names a table of natural keys: only the versions of those keys are ranked.
    """
    key = ", ".join(f"v.{k}" for k in entity.natural_key)
    window = f"PARTITION BY {key} ORDER BY {VERSION_ORDER}"
    whole = f"{window} ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING"
    groups = []
    for i, (missing, columns) in enumerate(field_groups(entity).items()):
        fields = ", ".join(f"'{c}': v.{c}" for c in columns)
        formats = ", ".join(f"'{f}'" for f in missing)
        groups.append(
            f", first_value(CASE WHEN coalesce(l.format, '') NOT IN ({formats}) THEN"
            f" {{{fields}, '_load': v.load_id}} END IGNORE NULLS) OVER ({whole}) AS _g{i}"
        )
    versions = f"({_keyed_rows_sql(entity, entity.versions_table, scope)})" if scope else entity.versions_table
    return (
        f"SELECT v.*, coalesce(l.format, '') AS source_format, row_number() OVER ({window}) AS version_rank"
        f"{''.join(groups)} FROM {versions} v JOIN loads l USING (load_id)"
    )


def _keyed_rows_sql(entity: Entity, table: str, keys: str, rowid: bool = False) -> str:
    """SELECT of the rows of `table` whose natural key is one in the table `keys` (with `rowid`: each row's rowid
    first, as `_rowid`).

    Keys without a NULL are matched with `=`: the join then hands the scan its keys' ranges, which skips
    the row groups of a large table that cannot hold them (a month's keys among five years' rows); with
    `IS NOT DISTINCT FROM` the whole table is read. Keys with a NULL (rare) are matched that way, apart.
    """
    whole = " AND ".join(f"{k} IS NOT NULL" for k in entity.natural_key)
    equal = " AND ".join(f"t.{k} = s.{k}" for k in entity.natural_key)
    columns = "t.rowid AS _rowid, t.*" if rowid else "t.*"
    return (
        f"SELECT {columns} FROM {table} t SEMI JOIN (SELECT * FROM {keys} WHERE {whole}) s ON {equal}"
        f" UNION ALL SELECT {columns} FROM {table} t"
        f" SEMI JOIN (SELECT * FROM {keys} WHERE NOT ({whole})) s ON {_key_match(entity, 't', 's')}"
    )


def field_groups(entity: Entity) -> dict[tuple[str, ...], list[str]]:
    """The non-key columns some source format does not carry, grouped by the formats that do not carry them."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for column in entity.column_names:
        missing = non_carriers(entity.name, column)
        if missing and column not in entity.natural_key:
            groups.setdefault(missing, []).append(column)
    return groups


def current_rows_sql(entity: Entity, ranked: str) -> str:
    """SELECT of the canonical rows (stored columns and `field_loads`) from a table of ranked versions (see above)."""
    source: dict[str, str] = {}
    entries = []
    for i, columns in enumerate(field_groups(entity).values()):
        for c in columns:
            source[c] = f"w._g{i}.{c}"
            entries.append(f"{{'k': '{c}', 'v': w._g{i}._load}}")
    values = ", ".join(f"{source.get(c, 'w.' + c)} AS {c}" for c in entity.column_names)
    provenance = ", ".join(f"w.{c.name}" for c in PROVENANCE)
    field_loads = (
        f"map_from_entries(list_filter([{', '.join(entries)}],"
        f" lambda e: e.v IS NOT NULL AND e.v <> w.load_id)) AS {FIELD_LOADS.name}"
        if entries
        else EMPTY_FIELD_LOADS
    )
    return f"SELECT {values}, {provenance}, {field_loads} FROM {ranked} w WHERE w.version_rank = 1"


def _key_match(entity: Entity, left: str, right: str) -> str:
    return " AND ".join(f"{left}.{k} IS NOT DISTINCT FROM {right}.{k}" for k in entity.natural_key)


def _stored_columns(entity: Entity) -> str:
    return ", ".join(entity.column_names + [c.name for c in PROVENANCE])


def rebuild_canonical(con: duckdb.DuckDBPyConnection, entities: list[str] | None = None) -> None:
    """Replace the canonical tables with the current values of each natural key (every key re-ranked)."""
    for name in entities or list(ENTITIES):
        entity = ENTITIES[name]
        con.execute(f"DELETE FROM {entity.name}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_RANKED} AS {version_rank_sql(entity)}")
        con.execute(f"INSERT INTO {entity.name} BY NAME {current_rows_sql(entity, _RANKED)}")
        con.execute(f"DROP TABLE {_RANKED}")


def merge_loads(con: duckdb.DuckDBPyConnection, load_ids: list[int], note_changes: bool = True) -> MergeCounts:
    """Bring the canonical rows of every natural key the given loads carry up to date; count what each load did.

    A key seen once among the new versions and not yet current is simply added (most keys of a
    new extract). The rest, the contested keys, have all their versions, old and new, re-ranked.
    Leaves the TEMP table `_merge_changes` (entity, child_id, record_id, moved, replaced): each entity's children
    on a new version or on any version of a contested key, and the recordings' record ids, which is
    what the derived tables must be rebuilt for. `moved` is false for a child of a table keyed by child whose
    every key the loads carry kept the values it had (a referral sent again as it was): only the provenance of
    its current rows (load, file, as-of date) changed, which no fact table reads. `replaced` is false for a
    child of a table keyed by child none of whose rows current before the merge took other values: every key
    the loads carry is new, or kept its values (its as-of date only grew): so every row current before is
    still current, as it was or with a later as-of date (`store.derive` then needs only the new rows).

    Without `note_changes` the table is left empty: for a publish that rebuilds every derived table and re-runs
    every check (a new store: its initial load, or a store built with other definitions), which reads no changes.
    Noting them is a copy of every new version's ids (2 M recordings: 0.3-0.4 s) that nothing would read.
    """
    counts = MergeCounts({i: 0 for i in load_ids}, {i: 0 for i in load_ids}, {i: 0 for i in load_ids})
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {CHANGES}"
        " (entity VARCHAR, child_id VARCHAR, record_id VARCHAR, moved BOOLEAN, replaced BOOLEAN)"
    )
    loads = ", ".join(str(int(i)) for i in load_ids)
    con.execute("SET preserve_insertion_order = false")  # current rows are found by key: any order will do
    try:
        with one_commit(con):
            if load_ids:
                formats = _loads_by_format(con, loads)
                for entity, (older, new) in _entity_states(con, loads).items():
                    _merge_entity(
                        con, ENTITIES[entity], loads, formats, counts, older=older, new=new, note=note_changes
                    )
    finally:
        con.execute("RESET preserve_insertion_order")
        for table in _WORK_TABLES:
            con.execute(f"DROP TABLE IF EXISTS {table}")
    return counts


_BEFORE = "_merge_before"  # TEMP table: the contested keys' rows current before the merge, with their rowid
_WORK_TABLES = ("_merge_contested", "_merge_ranked", _BEFORE, _SAME)


def _entity_states(con: duckdb.DuckDBPyConnection, loads: str) -> dict[str, tuple[bool, bool]]:
    """Entity -> (merged by an older build, has new versions), for every entity in one statement.

    Merged by an older build: current rows lack `field_loads` (a store merged before the field-level
    merge: re-merge it once). New versions: the loads wrote a version of it (a look at the newest row
    groups, not a count).
    """
    probes = []  # a UNION ALL of LIMIT 1 scans: each row found says one thing (scalar subqueries plan far slower)
    for i, e in enumerate(ENTITIES.values()):
        probes.append(f"(SELECT {2 * i} AS probe FROM {e.name} WHERE {FIELD_LOADS.name} IS NULL LIMIT 1)")
        probes.append(f"(SELECT {2 * i + 1} FROM {e.versions_table} WHERE load_id IN ({loads}) LIMIT 1)")
    found = {r[0] for r in con.execute(" UNION ALL ".join(probes)).fetchall()}
    return {name: (2 * i in found, 2 * i + 1 in found) for i, name in enumerate(ENTITIES)}


def _merge_entity(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    loads: str,
    formats: dict[str, str],
    counts: MergeCounts,
    *,
    older: bool,
    new: bool,
    note: bool = True,
) -> None:
    keys = ", ".join(entity.natural_key)
    if older:
        rebuild_canonical(con, [entity.name])
        if note:
            _note_changes(con, entity, entity.name, replaced=True)  # every derived row of its children is due again
    if not new:
        return  # the loads carry none of this entity: nothing of it can change
    new_versions = f"{entity.versions_table} WHERE load_id IN ({loads})"
    # Contested: a key the new versions carry twice, or one already current. One pass over the new versions.
    contested = con.execute(
        f"CREATE OR REPLACE TEMP TABLE _merge_contested AS"
        f" WITH k AS MATERIALIZED (SELECT {keys}, count(*) AS n FROM {new_versions} GROUP BY ALL)"
        f" SELECT {keys} FROM k WHERE k.n > 1 UNION ALL SELECT {keys} FROM k WHERE k.n = 1"
        f" AND EXISTS (SELECT 1 FROM {entity.name} c WHERE {_key_match(entity, 'c', 'k')})"
    ).fetchall()[0][0]
    simple = f"SELECT {_stored_columns(entity)}, {EMPTY_FIELD_LOADS} FROM {new_versions}"
    if contested:
        simple = (
            f"SELECT {_stored_columns(entity)}, {EMPTY_FIELD_LOADS} FROM {entity.versions_table} v"
            f" WHERE load_id IN ({loads})"
            f" AND NOT EXISTS (SELECT 1 FROM _merge_contested k WHERE {_key_match(entity, 'v', 'k')})"
            f" UNION ALL {_rerank_contested(con, entity, loads, formats, counts, note)}"
        )
    if note:
        same = _SAME if contested and _keyed_by_child(entity) else None
        _note_changes(con, entity, new_versions, same=same, replaced=bool(contested))
    con.execute(f"INSERT INTO {entity.name} BY NAME {simple}")  # the new keys and the contested keys' winners at once


def _keyed_by_child(entity: Entity) -> bool:
    """True when the child id is part of the natural key: a key's versions, old and new, are all one child's."""
    return "child_id" in entity.natural_key


def _note_same(con: duckdb.DuckDBPyConnection, entity: Entity, winners: str) -> None:
    """TEMP `_merge_same`: the contested keys current before (`_merge_before`), `_same` where their new current row
    (of `winners`) equals the row current before in every stored column but the provenance."""
    keys = ", ".join(f"w.{k}" for k in entity.natural_key)
    equal = " AND ".join(f"w.{c} IS NOT DISTINCT FROM b.{c}" for c in entity.column_names)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_SAME} AS SELECT {keys}, {equal} AS _same FROM ({winners}) w"
        f" JOIN {_BEFORE} b ON {_key_match(entity, 'w', 'b')}"
    )


def _note_changes(
    con: duckdb.DuckDBPyConnection, entity: Entity, rows: str, same: str | None = None, replaced: bool = True
) -> None:
    """Add the children (and record ids) of `rows` to the changes. Every reader of the changes takes them DISTINCT
    or with IN: with record ids nearly every row differs, so they are added as they come (a DISTINCT of millions of
    ids costs more than it saves); without, each child once. Given `same` (the keys current before, `_same` where
    their current row kept its values: `_note_same`), a child is `moved` when any of its rows' keys did not keep
    its values (a new key, or one that took others), and `replaced` when one of its keys current before took
    other values; else every child is moved, and `replaced` as the caller says (false: every key of `rows` is new).
    """
    if "record_id" in entity.column_names:
        con.execute(f"INSERT INTO {CHANGES} SELECT '{entity.name}', child_id, record_id, TRUE, TRUE FROM {rows}")
    elif same is None:
        con.execute(
            f"INSERT INTO {CHANGES} SELECT DISTINCT '{entity.name}', child_id, NULL, TRUE, {replaced} FROM {rows}"
        )
    else:
        con.execute(
            f"INSERT INTO {CHANGES} SELECT '{entity.name}', v.child_id, NULL, bool_or(s._same IS NOT TRUE),"
            f" coalesce(bool_or(NOT s._same), false) FROM (SELECT * FROM {rows}) v LEFT JOIN {same} s"
            f" ON {_key_match(entity, 'v', 's')} GROUP BY v.child_id"
        )


def _rerank_contested(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    loads: str,
    formats: dict[str, str],
    counts: MergeCounts,
    note: bool,
) -> str:
    """Rank all versions of the contested keys, count what the new loads did and delete the keys' current rows;
    the SELECT of their new current rows (the winners), for the caller to insert with the new keys' rows.
    With `note`, what changed is noted (`_note_same` or `_note_changes`)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _merge_ranked AS {version_rank_sql(entity, scope='_merge_contested')}")
    # The keys' rows current before, found in one scan of the current table: counted against, then deleted by rowid
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_BEFORE} AS {_keyed_rows_sql(entity, entity.name, '_merge_contested', rowid=True)}"
    )
    _count(con, entity, loads, formats, counts)
    con.execute(f"DELETE FROM {entity.name} WHERE rowid IN (SELECT _rowid FROM {_BEFORE})")
    winners = current_rows_sql(entity, "_merge_ranked")
    if not note:
        return winners
    if _keyed_by_child(entity):  # every version of a contested key is the new version's child's
        _note_same(con, entity, winners)
    else:
        _note_changes(con, entity, "_merge_ranked")  # a key's versions may be several children's: all replaced
    return winners


def _count(
    con: duckdb.DuckDBPyConnection, entity: Entity, loads: str, formats: dict[str, str], counts: MergeCounts
) -> None:
    """Count, per new load, in one pass over its ranked versions of the contested keys: the versions that are
    not current (superseded), the rows current before that its current versions replaced, and its versions
    equal to the row current before in every column their format carries (unchanged).

    Only contested keys have ranked versions; their rows current before (at most one per key) are in `_merge_before`.
    """
    same = " ".join(
        f"WHEN v.load_id IN ({load_ids}) THEN "
        + (
            " AND ".join(f"v.{c} IS NOT DISTINCT FROM b.{c}" for c in carried_columns(source_format, entity.name))
            or "TRUE"
        )
        for source_format, load_ids in formats.items()
    )
    rows = con.execute(
        "SELECT v.load_id, count(*) FILTER (WHERE v.version_rank > 1),"
        " count(*) FILTER (WHERE v.version_rank = 1 AND b.load_id <> v.load_id),"
        f" count(*) FILTER (WHERE b._before AND CASE {same} ELSE FALSE END)"
        f" FROM _merge_ranked v LEFT JOIN (SELECT *, TRUE AS _before FROM {_BEFORE}) b"
        f" ON {_key_match(entity, 'v', 'b')} WHERE v.load_id IN ({loads}) GROUP BY v.load_id"
    ).fetchall()
    for load_id, superseded, replaced, unchanged in rows:
        counts.superseded[load_id] += int(superseded)
        counts.replaced[load_id] += int(replaced)
        counts.unchanged[load_id] += int(unchanged)


def _loads_by_format(con: duckdb.DuckDBPyConnection, loads: str) -> dict[str, str]:
    """The new loads grouped by their source format: format -> comma-separated load ids."""
    rows = con.execute(
        f"SELECT format, string_agg(CAST(load_id AS VARCHAR), ', ') FROM loads WHERE load_id IN ({loads}) GROUP BY format"
    ).fetchall()
    return {str(f): str(ids) for f, ids in rows}
