"""Derived tables the metrics scan, brought up to date from the canonical tables at every publish.

Everything a metric needs that would otherwise take a window query or a join at read time
(the child's previous referral, previous closure, working-day durations, the child's
ethnicity and age band) is worked out once here, so each metric is a filtered scan.

Tables and their grain:

- `calendar`: one row per day 2005–2030 (see store/calendar.py).
- `ethnicity_codes`: one row per DfE ethnicity code, with its group and completeness category; the
  fact tables take a code's category and group from it by join (any other code: 'invalid', 'Not known').
- `children`: one row per child seen in any canonical table (store/schema.CHILDREN_COLUMNS).
  Attributes are the latest recorded (by event date, then extract as-of date); the child's
  `ethnicity` is the latest *known* code where any record has one, else the latest
  non-missing value (REFU, NOBT or an invalid code), so a later 'not obtained' row does not
  undo an earlier known code. `ethnicities_recorded` lists the codes of every version of every
  record (the `*_versions` tables), so extracts that disagree are seen even where a later one
  replaced the current value.
- `children_keys`: one row per child with events: for each attribute of `children` (ethnicity in its two tiers:
  latest known code, latest non-missing value) the ordering key of the row it was taken from, and the non-missing
  tier's value, so that a publish that only adds rows to a child combines them with these (see `build_children`).
- `recording_spans`: one row per child with case recordings: the earliest and latest event date of its current
  recordings. `children` takes the recordings' part of its span from here, so a publish that only adds recordings
  widens the spans of their children instead of re-reading every touched child's recordings (see `build_children`).
- `referral_facts`: one row per referral (child, referral date): same-day duplicates are one
  referral because the canonical key is (child_id, referral_date).
- `assessment_facts`: one row per assessment (child, start date).
- `recording_facts`: one row per recorded item (record_id).
- `contact_facts`: one row per contact (child, contact date, contact source).
- `closure_facts`: one row per closure: each closed CIN episode, and each NFA referral that
  has no CIN episode of its own (closure date = referral date, reason 'NFA').
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import duckdb

from store import derived_built
from store.calendar import build_calendar
from store.codes import AGE_BAND_UNKNOWN, AGE_BANDS, ETHNICITY_GROUPS, ETHNICITY_NAMES
from store.connection import one_commit
from store.sql import ethnicity_category_sql, quoted, store_tables

NOT_KNOWN_GROUP = "Not known"
NFA_REASON = "NFA"

DERIVED_TABLES: dict[str, str] = {
    "calendar": "one row per day, 2005-01-01 to 2030-12-31",
    "ethnicity_codes": "one row per DfE ethnicity code (20)",
    "children": "one row per child in any canonical table",
    "recording_spans": "one row per child with case recordings: the span of their event dates",
    "children_keys": "one row per child with events: the ordering key of each attribute's latest row",
    "referral_facts": "one row per referral (child_id, referral_date)",
    "assessment_facts": "one row per assessment (child_id, start_date)",
    "recording_facts": "one row per recorded item (record_id)",
    "contact_facts": "one row per contact (child_id, contact_date, contact_source)",
    "closure_facts": "one row per closed CIN episode or NFA referral without an episode",
}


def _age_sql(dob: str, day: str, age_years: str) -> str:
    """SQL for the age in whole years on `day`: from the date of birth where known (-1 before birth), else the
    recorded age rounded down. Give it column names: each is referenced several times."""
    return f"""CASE WHEN {dob} IS NOT NULL AND {dob} > {day} THEN -1
            WHEN {dob} IS NOT NULL THEN year({day}) - year({dob})
                 - CASE WHEN month({day}) * 100 + day({day}) < month({dob}) * 100 + day({dob}) THEN 1 ELSE 0 END
            ELSE floor({age_years}) END"""


def _age_band_sql(age: str) -> str:
    """SQL for the DfE age band of an age (store.codes.AGE_BANDS). Give it a column name, not an expression: it is
    referenced once per band, and an expression there (the age's own CASE) would be bound a dozen times."""
    bands = []
    for label, lower, upper in AGE_BANDS:
        cond = " AND ".join(
            ([f"{age} >= {lower}"] if lower is not None else []) + ([f"{age} < {upper}"] if upper is not None else [])
        )
        bands.append(f"WHEN {cond} THEN '{label}'")
    return f"CASE WHEN {age} IS NULL THEN '{AGE_BAND_UNKNOWN}' {' '.join(bands)} ELSE '{AGE_BAND_UNKNOWN}' END"


def _category_sql(column: str, codes: str) -> str:
    """The completeness category of a recorded ethnicity `column` (store.sql.ethnicity_category_sql) from its row of
    `ethnicity_codes` joined as `codes` on the code: known, REFU, NOBT, missing (blank) or invalid (any other)."""
    return f"CASE WHEN {column} IS NULL OR trim({column}) = '' THEN 'missing' ELSE coalesce({codes}.category, 'invalid') END"


def _group_sql(codes: str) -> str:
    """The ethnicity group of a code from its row of `ethnicity_codes` joined as `codes`; 'Not known' for any other."""
    return f"coalesce({codes}.ethnicity_group, '{NOT_KNOWN_GROUP}')"


FULL_REBUILD_SHARE = 0.5  # above this share of children changed, rebuilding everything is cheaper
_SOURCE_TABLES = (
    "contacts",
    "referrals",
    "assessments",
    "cin_episodes",
    "recordings",
    "children",
    "closure_facts",
    "contacts_versions",
    "referrals_versions",
    "assessments_versions",
    "cin_episodes_versions",
)


@dataclass(frozen=True)
class Scope:
    """The rows to rebuild: those whose `key` (child_id or record_id) is in the TEMP table `table`; for the event
    facts, given `bounds` (TEMP `_derive_bounds`, see `_fact_bounds`), only each child's rows after its bound."""

    table: str
    key: str = "child_id"
    bounds: str | None = None
    copied: tuple[str, ...] = ()  # source tables whose rows in the scope are copied into TEMP tables (`copy_rows`)

    @property
    def where(self) -> str:
        return f"{self.key} IN (SELECT {self.key} FROM {self.table})"

    def copy(self, table: str) -> str:
        """The TEMP table holding the columns `_COPIED` names of `table`'s rows in the scope (see `copy_rows`)."""
        return f"{self.table}_{table}"


def _sources(scope: Scope | None) -> dict[str, str]:
    """FROM items for the tables a builder reads: whole tables, or only the rows in `scope` (their copy, if made)."""
    if scope is None:
        return {t: t for t in _SOURCE_TABLES}
    return {
        t: scope.copy(t) if t in scope.copied else f"(SELECT * FROM {t} WHERE {scope.where})" for t in _SOURCE_TABLES
    }


# The columns the event fact builders and their bounds read of the tables they read more than once and none of them
# writes (referrals: seven reads, episodes: two, children: five), copied once per publish for the narrowed scope.
_COPIED: dict[str, tuple[str, ...]] = {
    "referrals": ("child_id", "referral_date", "referral_source", "nfa", "team", "worker")
    + ("ethnicity", "date_of_birth", "age_years"),
    "cin_episodes": ("child_id", "start_date", "closure_date", "closure_reason", "team", "worker"),
    "children": ("child_id", "ethnicity", "disabled", "date_of_birth"),
}


def copy_rows(con: duckdb.DuckDBPyConnection, scope: Scope) -> Scope:
    """`scope`, its rows of the `_COPIED` tables (those columns) copied into TEMP tables (`Scope.copy`): one scan of
    each by the text child id for all the builders that read it, not one per read (BENCHMARKS.md, issue 13
    thirteenth pass)."""
    for table, columns in _COPIED.items():
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {scope.copy(table)} AS"
            f" SELECT {', '.join(columns)} FROM {table} WHERE {scope.where}"
        )
    return Scope(scope.table, scope.key, scope.bounds, scope.copied + tuple(_COPIED))


def _clear(con: duckdb.DuckDBPyConnection, table: str, scope: Scope | None) -> None:
    con.execute(f"DELETE FROM {table}" + ("" if scope is None else f" WHERE {scope.where}"))


def _write(
    con: duckdb.DuckDBPyConnection, table: str, scope: Scope | None, select_sql: str, kept: str | None = None
) -> None:
    """Create `table` from the query, or, for a scope, replace just the scope's rows; for a scope with bounds, only
    the rows for which the predicate `kept` (over the table's columns and the bounds') is not true: the query gives
    just those (`_rewritten`)."""
    if scope is None:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS {select_sql}")
        return
    if kept is None or scope.bounds is None:
        _clear(con, table, scope)
        con.execute(f"INSERT INTO {table} BY NAME {select_sql}")
        return
    rewritten = f"NOT coalesce({kept}, false)"  # a NULL date is rewritten
    con.execute(f"DELETE FROM {table} USING {scope.bounds} b WHERE {table}.child_id = b.child_id AND {rewritten}")
    con.execute(f"INSERT INTO {table} BY NAME {select_sql}")


def _rewritten(scope: Scope | None, rows: str, kept: str) -> str:
    """FROM item: the rows of the CTE `rows` that a scope with bounds rewrites (all of them without bounds), for a
    builder to filter after its windows and ASOF joins over the children's whole histories, before the rest."""
    if scope is None or scope.bounds is None:
        return rows
    return f"(SELECT {rows}.* FROM {rows} JOIN {scope.bounds} b USING (child_id) WHERE NOT coalesce({kept}, false))"


# What each derived table depends on, as scopes over the merge's changes (ingest.merge.CHANGES):
# `children` on every record of the child (recordings widen first/last seen); the event facts on
# the child's events and attributes, which recordings do not carry; recording facts on the record.
_KEPT_TABLES = set(DERIVED_TABLES) - {"recording_spans"}  # without them all, a publish rebuilds everything
_SCOPE_SQL: dict[str, str] = {
    "children": "SELECT DISTINCT child_id FROM {changes} WHERE child_id IS NOT NULL",
    "events": "SELECT DISTINCT child_id FROM {changes} WHERE entity <> 'recordings' AND child_id IS NOT NULL",
    "records": "SELECT DISTINCT record_id FROM {changes} WHERE record_id IS NOT NULL",
}


def _plan(
    con: duckdb.DuckDBPyConnection, changes: str | None, present: Collection[str] | None = None
) -> dict[str, Scope | None]:
    """What to rebuild, per scope of _SCOPE_SQL: its TEMP table `_derive_<scope>` (incremental), None (in full),
    or left out when nothing it depends on changed (an empty scope: its tables are kept as they are).

    In full when there is no table of changes or the derived tables are new (all but `recording_spans`, which
    `build_recording_spans` makes on its own when missing); the children and the event facts in full when most
    children changed, the recording facts when most records did.
    """
    if changes is None:
        return dict.fromkeys(_SCOPE_SQL)
    present = store_tables(con) if present is None else present
    if not _KEPT_TABLES.issubset(present):
        return dict.fromkeys(_SCOPE_SQL)
    for name, sql in _SCOPE_SQL.items():
        con.execute(f"CREATE OR REPLACE TEMP TABLE _derive_{name} AS {sql.format(changes=changes)}")
    row = con.execute(  # a join of one-row counts: scalar subqueries plan several times slower
        "SELECT * FROM (SELECT count(*) FROM _derive_children), (SELECT count(*) FROM _derive_events),"
        " (SELECT count(*) FROM _derive_records), (SELECT count(*) FROM children),"
        " (SELECT count(*) FROM recording_facts)"
    ).fetchone()
    children, events, records, known_children, known_records = row if row is not None else (0, 0, 0, 0, 0)
    changed = {"children": children, "events": events, "records": records}
    whole = {
        "children": children > FULL_REBUILD_SHARE * known_children,
        "events": children > FULL_REBUILD_SHARE * known_children,
        "records": records > FULL_REBUILD_SHARE * known_records,
    }
    return {
        name: None if whole[name] else Scope(f"_derive_{name}", "record_id" if name == "records" else "child_id")
        for name in _SCOPE_SQL
        if changed[name] or whole[name]
    }


_ETHNICITY_CODE_COLUMNS = ("code", "ethnicity_group", "name", "category")


def _ethnicity_code_rows() -> list[tuple[str, str, str, str]]:
    """The rows of `ethnicity_codes`: code, group, name, completeness category."""
    return [
        (code, ETHNICITY_GROUPS.get(code, NOT_KNOWN_GROUP), name, "known" if code in ETHNICITY_GROUPS else code)
        for code, name in ETHNICITY_NAMES.items()
    ]


def build_ethnicity_codes(con: duckdb.DuckDBPyConnection, present: Collection[str] | None = None) -> None:
    """`ethnicity_codes`: the 20 DfE codes with their group, name and completeness category.

    `present` (the store's tables, when the caller has looked) lets a table that already holds exactly these rows
    be kept: one small read instead of replacing a table at every publish.
    """
    wanted = _ethnicity_code_rows()
    if present is not None and "ethnicity_codes" in present:
        held = con.execute("SELECT * FROM ethnicity_codes")
        if [d[0] for d in held.description or []] == list(_ETHNICITY_CODE_COLUMNS) and sorted(
            held.fetchall()
        ) == sorted(wanted):
            return
    rows = ", ".join(f"({quoted(row)})" for row in wanted)
    con.execute(
        "CREATE OR REPLACE TABLE ethnicity_codes AS"
        f" SELECT * FROM (VALUES {rows}) t({', '.join(_ETHNICITY_CODE_COLUMNS)})"
    )


def _settled(value: str) -> str:
    """The latest-first ordering key of an attribute, its ties (one day, one extract) settled by the value's hash."""
    return f"CAST(latest_key AS HUGEINT) * 18446744073709551616 + hash({value})"  # hash() fills the low 64 bits


SPANS = "recording_spans"
_SPAN_SQL = (
    "SELECT child_id, min(event_date) AS first_recorded, max(event_date) AS last_recorded"
    " FROM {recordings} WHERE child_id IS NOT NULL GROUP BY child_id"
)
_RECORDED = "_derive_recorded"  # TEMP: the changed records' current rows (record_id, child_id, event_date)
_WIDENED = "_derive_widened"  # TEMP: the spans of the children of the changed records' current rows, widened
_UNSETTLED = "_derive_unsettled"  # TEMP: children whose recordings' span is read again (a bound may have gone)
_ATTRIBUTED = "_derive_attributed"  # TEMP: children whose attributes and span `children` works out again
_FACTS = "_derive_facts"  # TEMP: children of the events scope whose event facts can have changed


def build_recording_spans(con: duckdb.DuckDBPyConnection, recorded: str | None = None) -> None:
    """`recording_spans`: each child's earliest and latest recording event date, in full or (given `recorded`, the
    changed records' current rows) with the span of each child of those rows widened by their dates.

    Widening alone is exact while recordings are only added or keep their child and date; `unsettled_spans` finds
    the children it may leave wrong and reads their spans again.
    """
    if recorded is None:
        con.execute(f"CREATE OR REPLACE TABLE {SPANS} AS {_SPAN_SQL.format(recordings='recordings')}")
        return
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_WIDENED} AS SELECT n.child_id,"
        " least(s.first_recorded, n.first_recorded) AS first_recorded,"
        " greatest(s.last_recorded, n.last_recorded) AS last_recorded, s.child_id IS NOT NULL AS held"
        f" FROM ({_SPAN_SQL.format(recordings=recorded)}) n LEFT JOIN {SPANS} s USING (child_id)"
    )
    _widen_in_place(con, SPANS, ("first_recorded", "last_recorded"), f"(SELECT * FROM {_WIDENED} WHERE held)")
    con.execute(
        f"INSERT INTO {SPANS} BY NAME SELECT child_id, first_recorded, last_recorded FROM {_WIDENED} WHERE NOT held"
    )


def _widen_in_place(con: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, str], spans: str) -> None:
    """Widen the span `columns` (first, last) of `table`'s rows by the `spans` (child_id, first_recorded,
    last_recorded) of their children: an UPDATE of the rows whose span grows, those two columns alone.

    Deleting and inserting the rows instead leaves a share of every row group deleted, and the commit then
    rewrites the whole table (DuckDB merges row groups thinned by deletes: BENCHMARKS.md, issue 13 twelfth pass).
    """
    first, last = columns
    con.execute(
        f"UPDATE {table} t SET {first} = least(t.{first}, w.first_recorded), {last} = greatest(t.{last}, w.last_recorded)"
        f" FROM {spans} w WHERE t.child_id = w.child_id"
        f" AND (least(t.{first}, w.first_recorded) IS DISTINCT FROM t.{first}"
        f" OR greatest(t.{last}, w.last_recorded) IS DISTINCT FROM t.{last})"
    )


def unsettled_spans(con: duckdb.DuckDBPyConnection, changed: Scope, recorded: str) -> Scope:
    """The children (TEMP `_derive_unsettled`) whose recordings' span is read again after `recording_spans` was
    brought up to date for the `changed` records (widened or in full; `recorded`: their current rows), their spans
    rewritten.

    A changed record whose row as last built (in `recording_facts`, not yet rebuilt) is not its current row left its
    child or moved in date; unless that old date is strictly inside the child's span as it now stands, it may have
    been the child's bound (the span held it), so the span is read from the child's recordings again. Otherwise the
    bounds are held by rows still current, and the span is exact: so is `children`' span widened by it.
    """
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_UNSETTLED} AS SELECT DISTINCT o.child_id"
        f" FROM (SELECT record_id, child_id, event_date FROM recording_facts WHERE {changed.where}) o"
        f" LEFT JOIN {SPANS} s USING (child_id)"
        " WHERE o.child_id IS NOT NULL"
        " AND NOT coalesce(o.event_date > s.first_recorded AND o.event_date < s.last_recorded, false)"
        f" AND NOT EXISTS (SELECT 1 FROM {recorded} n WHERE n.record_id = o.record_id AND n.child_id = o.child_id"
        " AND n.event_date IS NOT DISTINCT FROM o.event_date)"
    )
    unsettled = Scope(_UNSETTLED)
    if con.execute(f"SELECT count(*) FROM {_UNSETTLED}").fetchone() != (0,):
        con.execute(f"DELETE FROM {SPANS} WHERE {unsettled.where}")
        recordings = f"(SELECT * FROM recordings WHERE {unsettled.where})"
        con.execute(f"INSERT INTO {SPANS} BY NAME {_SPAN_SQL.format(recordings=recordings)}")
    return unsettled


def build_children(
    con: duckdb.DuckDBPyConnection,
    scope: Scope | None = None,
    new_loads: list[int] | None = None,
    attributed: Scope | None = None,
    added: Scope | None = None,
) -> None:
    """`children`: each child's latest recorded attributes across every canonical table (and `children_keys`).

    "Latest" orders by event date, then extract as-of date, packed into one integer key (much
    cheaper to compare than a struct); two rows of one day and one extract that disagree are settled by
    a hash of the value, so every build gives the same answer. Recordings carry no attributes: they only
    widen the span, taken from `recording_spans` (built first).

    Given the `new_loads` this publish brings (only when `children` is up to date with every earlier load),
    each child's `ethnicities_recorded` is its list as last built joined with the codes of the new loads'
    versions: versions are only ever added, so that is the list of every version (a rebuild from the versions
    tables gives the same lists) without reading every version again.

    Given `attributed` (the scope's children whose events changed, or whose recordings' span was read again:
    `unsettled_spans`), only those children's attributes are worked out from their events; the rest of the
    scope (children whose recordings were only added to) keep their row as last built, its span widened by their
    `recording_spans` row, which is exact: their recordings' span only grew.

    Given `added` (with `new_loads`: those of `attributed` every row of which current at the last build is still
    current, with its values: `_added_children`), each of their attributes is the later of the row it was last
    taken from (its key in `children_keys`, its value in the row as last built) and their rows the new loads
    brought: a row's key only grows while its values stay, so that is the latest of all their rows, read from
    the newest row groups alone instead of from the children's whole histories.
    """
    attributed = scope if attributed is None else attributed
    if scope is not None or new_loads is not None:  # the children's rows as last built, before they are cleared
        where = "" if scope is None else f" WHERE {scope.where}"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_LISTED} AS SELECT * FROM children{where}")
    codes = _codes_sql(con, _sources(attributed), attributed, new_loads)
    _latest_rows(con, attributed, None if new_loads is None else added, new_loads or [])
    spans = SPANS if attributed is None else f"(SELECT * FROM {SPANS} WHERE {attributed.where})"
    outside = None if scope is None or attributed is None or attributed is scope else (scope, attributed)
    if outside is not None:  # the children of the scope outside `attributed`: their span widened in place
        rest = f"{outside[0].where} AND NOT {outside[1].where}"
        _widen_in_place(con, "children", ("first_seen", "last_seen"), f"(SELECT * FROM {SPANS} WHERE {rest})")
    _clear(con, "children", scope if outside is None else attributed)
    con.execute(
        f"""
        INSERT INTO children BY NAME
        WITH codes AS (  -- every extract's value, not only the surviving rows': a later file hides no conflict
            {codes}
        ), written AS (
            SELECT child_id, first_recorded AS first_seen, last_recorded AS last_seen FROM {spans}
        )
        SELECT coalesce(r.child_id, w.child_id) AS child_id, r.sex,
               coalesce(r.ethnicity_known, r.ethnicity_any) AS ethnicity,
               coalesce(codes.ethnicities_recorded, []) AS ethnicities_recorded, r.date_of_birth, r.disabled,
               least(r.first_seen, w.first_seen) AS first_seen, greatest(r.last_seen, w.last_seen) AS last_seen
        FROM {_LATEST} r FULL JOIN written w USING (child_id) LEFT JOIN codes USING (child_id)
        {"" if outside is None else _recorded_only_sql(*outside)}
        """
    )
    _write(con, KEYS, attributed, f"SELECT child_id, {_keys_sql()} FROM {_LATEST}")


KEYS = "children_keys"
_LATEST = "_derive_latest"  # TEMP: the attributed children's latest attributes with their settled keys
_WHOLE = "_derive_whole"  # TEMP: the attributed children worked out from their whole histories
_ADDED = "_derive_added"  # TEMP: the attributed children whose rows were only added to (see build_children)
_EVENT_TABLES = ("contacts", "referrals", "assessments", "cin_episodes")
# Each attribute of `children`' latest row: its column in the event rows and the rows it is taken from. `ethnicity`
# is the latest known code where any row has one, else the latest non-missing value: two attributes, two tiers.
_ATTRIBUTES: dict[str, tuple[str, str]] = {
    "sex": ("sex", "sex IS NOT NULL"),
    "ethnicity_known": ("ethnicity", "category = 'known'"),
    "ethnicity_any": ("ethnicity", "category <> 'missing'"),
    "date_of_birth": ("date_of_birth", "date_of_birth IS NOT NULL"),
    "disabled": ("disabled", "disabled IS NOT NULL"),
}
_HIGH = "18446744073709551616"  # 2**64: `_settled` keeps the hash in the low 64 bits


def _latest_sql(src: dict[str, str]) -> str:
    """SELECT of each child's latest attributes (per `_ATTRIBUTES`: the value and its `_settled` key, as
    `<attribute>_settled`) and the span of its event dates, from the event rows of `src`."""
    latest = ", ".join(
        f"arg_max({column}, {_settled(column)}) FILTER (WHERE {rows}) AS {name},"
        f" max({_settled(column)}) FILTER (WHERE {rows}) AS {name}_settled"
        for name, (column, rows) in _ATTRIBUTES.items()
    )
    return f"""
        WITH attrs AS (
            SELECT child_id, contact_date AS event_date, contact_date AS last_date, as_of, sex, ethnicity,
                   date_of_birth, CAST(NULL AS BOOLEAN) AS disabled FROM {src["contacts"]}
            UNION ALL SELECT child_id, referral_date, referral_date, as_of, sex, ethnicity, date_of_birth, NULL
                   FROM {src["referrals"]}
            UNION ALL SELECT child_id, start_date, coalesce(authorised_date, start_date), as_of, sex, ethnicity,
                   date_of_birth, disabled FROM {src["assessments"]}
            UNION ALL SELECT child_id, start_date, coalesce(closure_date, start_date), as_of, sex, ethnicity,
                   date_of_birth, disabled FROM {src["cin_episodes"]}
        ), keyed AS (
            SELECT *, CAST(event_date - DATE '1900-01-01' AS BIGINT) * 100000
                      + coalesce(CAST(as_of - DATE '1900-01-01' AS BIGINT), 0) AS latest_key,
                   {ethnicity_category_sql("ethnicity")} AS category
            FROM attrs WHERE child_id IS NOT NULL
        )
        SELECT child_id, {latest}, min(event_date) AS first_seen, max(last_date) AS last_seen
        FROM keyed GROUP BY child_id"""


def _keys_sql() -> str:
    """The `children_keys` columns from `_LATEST`: each attribute's latest key (`<attribute>_key`, the `_settled`
    key without its hash) and the non-missing tier's value (the known tier's is `children.ethnicity`)."""
    keys = [f"CAST(({name}_settled - hash({name})) // {_HIGH} AS BIGINT) AS {name}_key" for name in _ATTRIBUTES]
    return ", ".join([*keys, "ethnicity_any"])


def _kept_sql(added: Scope) -> str:
    """SELECT of the `added` children's latest attributes as last built, in `_latest_sql`'s columns: the values from
    their rows as last built (TEMP `_derive_codes`), the keys from `children_keys` (none for a child without events)."""
    values = {
        "sex": "l.sex",
        "ethnicity_known": "CASE WHEN k.ethnicity_known_key IS NOT NULL THEN l.ethnicity END",
        "ethnicity_any": "k.ethnicity_any",
        "date_of_birth": "l.date_of_birth",
        "disabled": "l.disabled",
    }
    kept = ", ".join(
        f"{value} AS {name}, CAST(k.{name}_key AS HUGEINT) * {_HIGH} + hash({value}) AS {name}_settled"
        for name, value in values.items()
    )
    return f"""SELECT l.child_id, {kept}, l.first_seen, l.last_seen
        FROM (SELECT * FROM {_LISTED} WHERE {added.where}) l
        LEFT JOIN (SELECT * FROM {KEYS} WHERE {added.where}) k USING (child_id)"""


def _combined_sql(added: Scope, new_loads: list[int]) -> str:
    """SELECT of the `added` children's latest attributes: per attribute the later of the kept one (`_kept_sql`) and
    the latest of the rows the new loads brought (the current rows of those loads: found in the newest row groups)."""
    loads = ", ".join(str(int(load)) for load in new_loads) or "NULL"
    new = {t: f"(SELECT * FROM {t} WHERE load_id IN ({loads}) AND {added.where})" for t in _EVENT_TABLES}
    later = ", ".join(
        f"CASE WHEN n.{a}_settled IS NOT NULL AND (o.{a}_settled IS NULL OR n.{a}_settled > o.{a}_settled)"
        f" THEN n.{a} ELSE o.{a} END AS {a}, greatest(n.{a}_settled, o.{a}_settled) AS {a}_settled"
        for a in _ATTRIBUTES
    )
    return f"""SELECT coalesce(n.child_id, o.child_id) AS child_id, {later},
               least(n.first_seen, o.first_seen) AS first_seen, greatest(n.last_seen, o.last_seen) AS last_seen
        FROM ({_latest_sql(new)}) n FULL JOIN ({_kept_sql(added)}) o USING (child_id)"""


def _latest_rows(
    con: duckdb.DuckDBPyConnection, attributed: Scope | None, added: Scope | None, new_loads: list[int]
) -> None:
    """TEMP `_derive_latest`: the `attributed` children's latest attributes, those of `added` combined from what
    was kept and their new rows (`_combined_sql`), the rest (TEMP `_derive_whole`) from their whole histories."""
    if attributed is None or added is None:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_LATEST} AS {_latest_sql(_sources(attributed))}")
        return
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_WHOLE} AS SELECT child_id FROM {attributed.table} EXCEPT"
        f" SELECT child_id FROM {added.table}"
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_LATEST} AS {_combined_sql(added, new_loads)}")
    if con.execute(f"SELECT count(*) FROM {_WHOLE}").fetchone() != (0,):
        con.execute(f"INSERT INTO {_LATEST} BY NAME {_latest_sql(_sources(Scope(_WHOLE)))}")


def _recorded_only_sql(scope: Scope, attributed: Scope) -> str:
    """UNION ALL the rows of the children of the scope outside `attributed` new to `children` (not among its rows as
    last built, TEMP `_derive_codes`): children with recordings alone until now, no attributes, their span their
    recordings' (the others are widened in place: `_widen_in_place`)."""
    new = f"SELECT child_id FROM {scope.table} ANTI JOIN {_LISTED} USING (child_id) WHERE NOT {attributed.where}"
    return f"""UNION ALL
        SELECT s.child_id, NULL AS sex, NULL AS ethnicity, [] AS ethnicities_recorded, NULL AS date_of_birth,
               NULL AS disabled, s.first_recorded AS first_seen, s.last_recorded AS last_seen
        FROM {SPANS} s SEMI JOIN ({new}) n USING (child_id)"""


_VERSIONS = ("contacts_versions", "referrals_versions", "assessments_versions", "cin_episodes_versions")
_LISTED = "_derive_codes"  # TEMP: the scope's children's rows as last built (see build_children)


def _codes_sql(
    con: duckdb.DuckDBPyConnection, src: dict[str, str], scope: Scope | None, new_loads: list[int] | None
) -> str:
    """(child_id, ethnicities_recorded): the sorted distinct non-missing codes of every version of the records of
    the children in `scope` (and `src`). From the versions tables; or, given the new loads, each child's list as
    last built (kept in TEMP `_derive_codes` before it is cleared) with the codes of the new loads' versions added, and the lists of
    children the new loads bring no code for kept as they are: no list is unnested, the same lists for a
    fraction of the work (BENCHMARKS.md, issue 13 seventh pass). A list that already holds every new code is kept
    as it is (a list as built is sorted and distinct): one look instead of a sort of the joined lists.
    """
    wanted = f"child_id IS NOT NULL AND {ethnicity_category_sql('ethnicity')} <> 'missing'"
    if new_loads is None:
        every_version = " UNION ALL ".join(f"SELECT child_id, ethnicity FROM {src[t]}" for t in _VERSIONS)
        return (
            "SELECT child_id, list_sort(list(DISTINCT ethnicity)) AS ethnicities_recorded"
            f" FROM ({every_version}) WHERE {wanted} GROUP BY child_id"
        )
    loads = ", ".join(str(int(load)) for load in new_loads) or "NULL"
    listed = "child_id IS NOT NULL" + ("" if scope is None else f" AND {scope.where}")
    added = " UNION ALL ".join(f"SELECT child_id, ethnicity FROM {t} WHERE load_id IN ({loads})" for t in _VERSIONS)
    return f"""SELECT child_id, CASE WHEN added.codes IS NULL THEN listed.ethnicities_recorded
                   WHEN list_has_all(listed.ethnicities_recorded, added.codes) THEN listed.ethnicities_recorded
                   ELSE list_sort(list_distinct(list_concat(coalesce(listed.ethnicities_recorded, []), added.codes)))
                   END AS ethnicities_recorded
            FROM (SELECT child_id, ethnicities_recorded FROM {_LISTED} WHERE {listed}) listed
            FULL JOIN (SELECT child_id, list(DISTINCT ethnicity) AS codes FROM ({added}) WHERE {wanted}
                       GROUP BY child_id) added USING (child_id)"""


def build_closure_facts(con: duckdb.DuckDBPyConnection, scope: Scope | None = None) -> None:
    """`closure_facts`: closed episodes and NFA referrals, each with the child's next referral.

    `match_date` is the first date a referral may fall on to come *after* this closure: the
    closure date itself for an episode that started earlier (a closure may fall on the next
    referral's date, DfE rule 8820), the day after for an NFA referral (not its own successor).
    """
    src = _sources(scope)
    _write(
        con,
        "closure_facts",
        scope,
        f"""
        WITH episodes AS (
            SELECT child_id, closure_date, closure_reason, 'episode' AS closure_kind, start_date, team, worker
            FROM {src["cin_episodes"]} WHERE closure_date IS NOT NULL
        ), nfa AS (
            SELECT r.child_id, r.referral_date AS closure_date, '{NFA_REASON}' AS closure_reason,
                   'nfa_referral' AS closure_kind, r.referral_date AS start_date, r.team, r.worker
            FROM {src["referrals"]} r
            WHERE r.nfa AND NOT EXISTS (
                SELECT 1 FROM {src["cin_episodes"]} e
                WHERE e.child_id = r.child_id AND e.start_date = r.referral_date AND e.closure_date IS NOT NULL)
        ), closures AS (
            SELECT *, CAST(greatest(closure_date, start_date + 1) AS DATE) AS match_date
            FROM (SELECT * FROM episodes UNION ALL SELECT * FROM nfa)
        ), described AS (  -- the age a column, so that the band's CASE refers to it, not to the age's own CASE
            SELECT c.*, ch.disabled, g.ethnicity_group,
                   {_age_sql("ch.date_of_birth", "c.closure_date", "NULL")} AS age
            FROM {_rewritten(scope, "closures", _CLOSURE_KEPT)} c
            LEFT JOIN {src["children"]} ch USING (child_id)
            LEFT JOIN ethnicity_codes g ON g.code = ch.ethnicity
        )
        SELECT c.child_id, c.closure_date, CAST(date_trunc('month', c.closure_date) AS DATE) AS month,
               coalesce(c.closure_reason, 'Not recorded') AS closure_reason, c.closure_kind, c.start_date,
               c.match_date, c.team, c.worker,
               {_group_sql("c")} AS ethnicity_group,
               {_age_band_sql("c.age")} AS age_band,
               c.disabled,
               nr.referral_date AS next_referral_date,
               CAST(nr.referral_date - c.closure_date AS INTEGER) AS days_to_next_referral
        FROM described c
        ASOF LEFT JOIN {src["referrals"]} nr ON c.child_id = nr.child_id AND c.match_date <= nr.referral_date
        ORDER BY c.closure_date
        """,
        _CLOSURE_KEPT,
    )


# Closures of one child sharing a match date (overlapping episodes closed on one day, say) would leave the
# ASOF join free to pick any of them as the previous closure: the latest closure date is taken, then an
# episode before an NFA referral, then the later start, then the reason code's order.
_ONE_CLOSURE_PER_MATCH_DATE = """
    SELECT * FROM {closure_facts}
    QUALIFY row_number() OVER (
        PARTITION BY child_id, match_date
        ORDER BY closure_date DESC, closure_kind, start_date DESC, closure_reason) = 1"""


def build_referral_facts(con: duckdb.DuckDBPyConnection, scope: Scope | None = None) -> None:
    """`referral_facts`: each referral with the child's previous referral and previous closure."""
    src = _sources(scope)
    _write(
        con,
        "referral_facts",
        scope,
        f"""
        WITH r AS (
            SELECT r.*, lag(r.referral_date) OVER (PARTITION BY r.child_id ORDER BY r.referral_date)
                            AS previous_referral_date,
                   ch.ethnicity AS child_ethnicity, ch.disabled, coalesce(r.date_of_birth, ch.date_of_birth) AS dob
            FROM {src["referrals"]} r LEFT JOIN {src["children"]} ch USING (child_id)
        ), described AS (  -- the age a column, so that the band's CASE refers to it, not to the age's own CASE
            SELECT *, {_age_sql("dob", "referral_date", "age_years")} AS age FROM {_rewritten(scope, "r", _REFERRAL_KEPT)} r
        )
        SELECT r.child_id, r.referral_date, CAST(date_trunc('month', r.referral_date) AS DATE) AS month,
               coalesce(r.referral_source, 'Not recorded') AS referral_source, coalesce(r.nfa, false) AS nfa,
               r.team, r.worker,
               r.ethnicity AS ethnicity_recorded, {_category_sql("r.ethnicity", "rc")} AS ethnicity_category,
               r.child_ethnicity, {_category_sql("r.child_ethnicity", "cc")} AS child_ethnicity_category,
               {_group_sql("cc")} AS ethnicity_group,
               r.age, {_age_band_sql("r.age")} AS age_band,
               r.disabled,
               r.previous_referral_date,
               coalesce(r.previous_referral_date >= CAST(r.referral_date - INTERVAL 12 MONTH AS DATE), false)
                   AS re_referral_12m,
               coalesce(r.previous_referral_date >= r.referral_date - 365, false) AS re_referral_365d,
               pc.closure_date AS previous_closure_date,
               pc.closure_reason AS previous_closure_reason,
               CAST(r.referral_date - pc.closure_date AS INTEGER) AS days_since_closure
        FROM described r
        LEFT JOIN ethnicity_codes rc ON rc.code = r.ethnicity
        LEFT JOIN ethnicity_codes cc ON cc.code = r.child_ethnicity
        ASOF LEFT JOIN ({_ONE_CLOSURE_PER_MATCH_DATE.format(closure_facts=src["closure_facts"])}) pc
            ON r.child_id = pc.child_id AND r.referral_date >= pc.match_date
        ORDER BY r.referral_date
        """,
        _REFERRAL_KEPT,
    )


def build_assessment_facts(con: duckdb.DuckDBPyConnection, scope: Scope | None = None) -> None:
    """`assessment_facts`: each assessment with its referral and working-day durations on both clocks.

    The linked referral is the CIN census `referral_date` where given, else the child's latest
    referral on or before the assessment's start.
    """
    src = _sources(scope)
    _write(
        con,
        "assessment_facts",
        scope,
        f"""
        WITH a AS (
            SELECT a.*, coalesce(a.referral_date, lr.referral_date) AS linked_referral_date
            FROM {src["assessments"]} a
            ASOF LEFT JOIN (SELECT child_id, referral_date FROM {src["referrals"]}) lr
                ON a.child_id = lr.child_id AND a.start_date >= lr.referral_date
        ), described AS (  -- the age a column, so that the band's CASE refers to it, not to the age's own CASE
            SELECT a.*, coalesce(a.disabled, ch.disabled) AS disabled_either, ch.ethnicity AS child_ethnicity,
                   {_age_sql("coalesce(a.date_of_birth, ch.date_of_birth)", "a.start_date", "a.age_years")} AS age
            FROM {_rewritten(scope, "a", _LINKED_KEPT)} a
            LEFT JOIN {src["children"]} ch USING (child_id)
        )
        SELECT a.child_id, a.start_date, a.authorised_date,
               CAST(date_trunc('month', a.start_date) AS DATE) AS start_month,
               CAST(date_trunc('month', a.authorised_date) AS DATE) AS month,
               a.linked_referral_date AS referral_date,
               coalesce(rf.referral_source, 'Not recorded') AS referral_source,
               cs.working_day_index AS start_wdi,
               ca.working_day_index - cs.working_day_index AS wd_start_to_auth,
               ca.working_day_index - cr.working_day_index AS wd_referral_to_auth,
               a.child_seen, a.requires_support,
               a.disabled_either AS disabled,
               a.team, a.worker,
               a.ethnicity AS ethnicity_recorded, {_category_sql("a.ethnicity", "rc")} AS ethnicity_category,
               {_group_sql("cc")} AS ethnicity_group,
               {_age_band_sql("a.age")} AS age_band
        FROM described a
        LEFT JOIN ethnicity_codes rc ON rc.code = a.ethnicity
        LEFT JOIN ethnicity_codes cc ON cc.code = a.child_ethnicity
        LEFT JOIN {src["referrals"]} rf ON rf.child_id = a.child_id AND rf.referral_date = a.linked_referral_date
        LEFT JOIN calendar cs ON cs.day = a.start_date
        LEFT JOIN calendar ca ON ca.day = a.authorised_date
        LEFT JOIN calendar cr ON cr.day = a.linked_referral_date
        ORDER BY a.authorised_date NULLS LAST
        """,
        _ASSESSMENT_KEPT,
    )


def build_recording_facts(con: duckdb.DuckDBPyConnection, scope: Scope | None = None) -> None:
    """`recording_facts`: each recorded item with its delay in working days from event to entry."""
    _write(
        con,
        "recording_facts",
        scope,
        f"""
        SELECT r.record_id, r.child_id, coalesce(r.record_type, 'not_recorded') AS record_type, r.event_date,
               CAST(date_trunc('month', r.event_date) AS DATE) AS month,
               CAST(r.entered_at AS DATE) AS entered_date,
               ce.working_day_index AS event_wdi,
               cn.working_day_index - ce.working_day_index AS delay_wd,
               r.team, r.worker, r.child_views_recorded
        FROM {_sources(scope)["recordings"]} r
        LEFT JOIN calendar ce ON ce.day = r.event_date
        LEFT JOIN calendar cn ON cn.day = CAST(r.entered_at AS DATE)
        ORDER BY r.event_date
        """,
    )


def build_contact_facts(con: duckdb.DuckDBPyConnection, scope: Scope | None = None) -> None:
    """`contact_facts`: each contact with the child's previous contact (an earlier day) and next referral."""
    src = _sources(scope)
    _write(
        con,
        "contact_facts",
        scope,
        f"""
        WITH c AS (  -- the child's latest contact on an earlier day (a window: cheaper than a self ASOF join)
            SELECT *, max(contact_date) OVER (PARTITION BY child_id ORDER BY contact_date
                                              RANGE BETWEEN UNBOUNDED PRECEDING AND INTERVAL 1 DAY PRECEDING)
                          AS previous_contact_date
            FROM {src["contacts"]}
        ), described AS (  -- the age a column, so that the band's CASE refers to it, not to the age's own CASE
            SELECT c.*, ch.disabled, ch.ethnicity AS child_ethnicity,
                   {_age_sql("coalesce(c.date_of_birth, ch.date_of_birth)", "c.contact_date", "c.age_years")} AS age
            FROM {_rewritten(scope, "c", _CONTACT_KEPT)} c LEFT JOIN {src["children"]} ch USING (child_id)
        )
        SELECT c.child_id, c.contact_date, CAST(date_trunc('month', c.contact_date) AS DATE) AS month,
               coalesce(c.contact_source, 'Not recorded') AS contact_source,
               c.ethnicity AS ethnicity_recorded, {_category_sql("c.ethnicity", "rc")} AS ethnicity_category,
               {_group_sql("cc")} AS ethnicity_group,
               {_age_band_sql("c.age")} AS age_band,
               c.disabled,
               c.previous_contact_date,
               coalesce(c.previous_contact_date >= CAST(c.contact_date - INTERVAL 12 MONTH AS DATE), false)
                   AS repeat_12m,
               nr.referral_date AS next_referral_date,
               CAST(nr.referral_date - c.contact_date AS INTEGER) AS days_to_referral
        FROM described c
        LEFT JOIN ethnicity_codes rc ON rc.code = c.ethnicity
        LEFT JOIN ethnicity_codes cc ON cc.code = c.child_ethnicity
        ASOF LEFT JOIN (SELECT child_id, referral_date FROM {src["referrals"]}) nr
            ON c.child_id = nr.child_id AND c.contact_date <= nr.referral_date
        """,
        _CONTACT_KEPT,
    )


def _spans(con: duckdb.DuckDBPyConnection, plan: dict[str, Scope | None], present: set[str]) -> Scope | None:
    """Bring `recording_spans` up to date for a plan that rebuilds `children`; the children whose attributes
    `children` must work out again (TEMP `_derive_attributed`: those of the events scope, and those whose
    recordings' span was read again), or None for all of its scope (in full)."""
    children = plan["children"]
    if children is None:
        build_recording_spans(con)
        return None
    changed = Scope("_derive_records", "record_id") if "records" in plan else None  # the merge's changed records
    if changed is not None:  # their current rows
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_RECORDED} AS"
            f" SELECT record_id, child_id, event_date FROM recordings WHERE {changed.where}"
        )
    if SPANS not in present or ("records" in plan and plan["records"] is None):
        build_recording_spans(con)
    elif changed is not None:
        build_recording_spans(con, _RECORDED)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_ATTRIBUTED} AS SELECT child_id FROM _derive_events")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_UNSETTLED} (child_id VARCHAR)")  # none unless records changed
    if changed is not None:  # a child whose span is read again is worked out whole, in the scope (it is already)
        unsettled = unsettled_spans(con, changed, _RECORDED).table
        con.execute(f"INSERT INTO {_ATTRIBUTED} SELECT child_id FROM {unsettled}")
        con.execute(
            f"INSERT INTO {children.table} SELECT child_id FROM {unsettled} EXCEPT SELECT child_id FROM {children.table}"
        )
    return Scope(_ATTRIBUTED)


def _added_children(
    con: duckdb.DuckDBPyConnection, changes: str | None, attributed: Scope | None, new_loads: list[int] | None
) -> Scope | None:
    """The `attributed` children whose rows were only added to (TEMP `_derive_added`), for `build_children` to
    combine their kept latest attributes with their new rows; None when the changes cannot say (no `replaced`).

    Only added to: the merge replaced none of the child's rows current before (every key of it the loads carry is
    new, or kept its values: `replaced` false for each of its tables) and its recordings' span is not read again
    (TEMP `_derive_unsettled`). A child new to the store is one: all its rows are new.
    """
    if changes is None or attributed is None or new_loads is None:
        return None
    if "replaced" not in {r[0] for r in con.execute(f"DESCRIBE {changes}").fetchall()}:
        return None
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_ADDED} AS SELECT child_id FROM _derive_events"
        f" ANTI JOIN (SELECT child_id FROM {changes} WHERE replaced AND entity <> 'recordings'"
        " AND child_id IS NOT NULL) r USING (child_id)"
        f" ANTI JOIN {_UNSETTLED} u USING (child_id)"
    )
    return Scope(_ADDED)


_FACT_ATTRIBUTES = ("ethnicity", "disabled", "date_of_birth")  # all the event facts read of a child's `children` row


def _attributes_changed_sql(scope: Scope) -> str:
    """SELECT child_id of the `scope` children whose `children` row is new or changed one of the `_FACT_ATTRIBUTES`
    since it was last built (its rows as last built are in TEMP `_derive_codes`)."""
    differs = " OR ".join(f"n.{c} IS DISTINCT FROM o.{c}" for c in _FACT_ATTRIBUTES)
    return (
        f"SELECT n.child_id FROM {_sources(scope)['children']} n"
        f" LEFT JOIN {_LISTED} o USING (child_id) WHERE o.child_id IS NULL OR {differs}"
    )


_BOUNDS = "_derive_bounds"  # TEMP: per child of `_derive_facts`, the bounds of its event facts kept (see _fact_bounds)
# Per event fact table, the rows of a child with bounds that are kept as they are (see `_fact_bounds`).
_CONTACT_KEPT = "contact_date <= last_referral_before"
_CLOSURE_KEPT = "match_date <= last_referral_before"
_REFERRAL_KEPT = "referral_date < first_new_date"
_ASSESSMENT_KEPT = "start_date < first_new_date AND coalesce(referral_date < first_new_date, true)"
_LINKED_KEPT = "start_date < first_new_date AND coalesce(linked_referral_date < first_new_date, true)"  # in CTE a


def _new_dates_sql(scope: Scope, new_loads: list[int]) -> str:
    """(child_id, day): each date of the `scope` children's current rows the new loads brought that the event facts
    order or match by: contact date, referral date, assessment start, a closed episode's earlier of start and
    closure (an open episode makes no closure row and hides no NFA referral: the facts do not read it)."""
    loads = ", ".join(str(int(load)) for load in new_loads) or "NULL"
    new = f"load_id IN ({loads}) AND {scope.where}"
    return f"""SELECT child_id, contact_date AS day FROM contacts WHERE {new}
        UNION ALL SELECT child_id, referral_date FROM referrals WHERE {new}
        UNION ALL SELECT child_id, start_date FROM assessments WHERE {new}
        UNION ALL SELECT child_id, CASE WHEN start_date IS NOT NULL THEN least(start_date, closure_date) END
            FROM cin_episodes WHERE {new} AND closure_date IS NOT NULL"""


def _fact_bounds(con: duckdb.DuckDBPyConnection, changes: str, scope: Scope, new_loads: list[int]) -> None:
    """TEMP `_derive_bounds`: per child of `scope`, D (`first_new_date`) and T (`last_referral_before`), or NULLs
    for a child whose event facts are rewritten whole.

    A child has bounds when the load only added rows to it (`replaced` false for each of its tables, as in
    `_added_children`), its `children` row kept the `_FACT_ATTRIBUTES` (a child new to `children` did not) and every
    date `_new_dates_sql` reads of its new rows is known. D is the earliest of those dates, T the child's latest
    referral strictly before D (none: every contact and closure is rewritten). Kept (`_*_KEPT`): contacts on or
    before T, closures matching on or before T, referrals before D, assessments starting before D whose linked
    referral is before D or that have none; every other row of the child, and every row with a NULL date of its
    own, is rewritten.

    Why the kept rows are exact: the child's rows current before all stay, with their values, and the new ones all
    fall on or after D (a new key: the keys hold the dates, so no new referral shares an old one's date). A contact
    on or before T reads its own row, the attributes, the latest contact on an earlier day (none new: new contacts
    are after T) and the next referral on or after it, which is T or earlier (new referrals are after T). A closure
    matching on or before T: its next referral likewise; closures are only added after T (a new episode matches on
    or after its start and closure, a new NFA referral the day after it) or go after T (an NFA referral a new closed
    episode now starts on is on or after D, it matched the day after). A referral before D: the previous referral
    (`lag`) is an earlier one, none new; the previous closure matches on or before it, and the closures matching
    before D are the same rows (just shown) with the same `_ONE_CLOSURE_PER_MATCH_DATE` pick. An assessment starting
    before D: its linked referral (the census date, or the latest on or before the start: none new, so one with
    none still has none) and that referral's source (`rf`, joined on the linked date, before D: no new referral
    there). Ages read each row's own date and date of birth. `_write` then deletes and writes only the rows not kept, worked out from the whole
    history (`_rewritten` filters them after the windows and ASOF joins that read it).
    """
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {_BOUNDS} AS
        WITH whole AS (
            SELECT child_id FROM {changes} WHERE replaced AND entity <> 'recordings' AND child_id IS NOT NULL
            UNION {_attributes_changed_sql(scope)}
        ), first_new AS (
            SELECT child_id, CASE WHEN count(*) = count(day) THEN min(day) END AS first_new_date
            FROM ({_new_dates_sql(scope, new_loads)}) GROUP BY child_id
        ), bounded AS (
            SELECT s.child_id, f.first_new_date FROM {scope.table} s
            LEFT JOIN first_new f ON f.child_id = s.child_id AND s.child_id NOT IN (SELECT child_id FROM whole)
        )
        SELECT b.child_id, b.first_new_date, r.referral_date AS last_referral_before
        FROM bounded b ASOF LEFT JOIN (SELECT child_id, referral_date FROM {_sources(scope)["referrals"]}) r
            ON b.child_id = r.child_id AND b.first_new_date > r.referral_date"""
    )


def _narrow_facts(
    con: duckdb.DuckDBPyConnection,
    changes: str | None,
    plan: dict[str, Scope | None],
    new_loads: list[int] | None = None,
) -> dict[str, Scope | None]:
    """The plan with the events scope narrowed, after `children` is built, to the children whose event facts can
    have changed (TEMP `_derive_facts`; left out of the plan when there are none).

    A child's event facts are worked out from its own contacts, referrals, assessments and episodes (their values,
    not their provenance) and the `_FACT_ATTRIBUTES` of its `children` row alone. So a child the merge notes only
    for keys whose current rows kept their values (`moved` false in the changes: a referral sent again as it was)
    and whose row in `children` kept those attributes (the rows as last built are in TEMP `_derive_codes`) keeps its
    facts as they are. Unchanged plan when the changes do not say what moved (a table of changes without `moved`)
    or the events are rebuilt in full. Given the `new_loads` (and changes that say what was `replaced`), the events
    scope carries each child's bounds (`_fact_bounds`): of a child the load only added rows to, only the fact rows
    after them are rewritten.
    """
    events, children = plan.get("events"), plan.get("children")
    if changes is None or events is None or children is None:
        return plan
    columns = {r[0] for r in con.execute(f"DESCRIBE {changes}").fetchall()}
    if "moved" not in columns:
        return plan
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_FACTS} AS SELECT child_id FROM {events.table}"
        f" WHERE child_id IN (SELECT child_id FROM {changes} WHERE moved AND entity <> 'recordings')"
        f" OR child_id IN ({_attributes_changed_sql(events)})"
    )
    narrowed = {name: scope for name, scope in plan.items() if name != "events"}
    if con.execute(f"SELECT count(*) FROM {_FACTS}").fetchone() != (0,):
        facts = copy_rows(con, Scope(_FACTS))
        bounded = new_loads is not None and "replaced" in columns
        if bounded:
            _fact_bounds(con, changes, facts, new_loads or [])
        narrowed["events"] = Scope(_FACTS, bounds=_BOUNDS if bounded else None, copied=facts.copied)
    return narrowed


def build_derived(
    con: duckdb.DuckDBPyConnection, changes: str | None = None, new_loads: list[int] | None = None
) -> None:
    """Bring every derived table up to date (runs at every publish).

    `changes` names the merge's table of what changed (``ingest.merge.CHANGES``): only the rows
    that depend on those children and records are rebuilt, since every derived row depends on
    its own child's records (or, for recording facts, its own record) alone; a table none of whose
    inputs changed is kept as it is (the recording facts after an Annex A load). Without it, or when
    the tables are new, everything is rebuilt; when most children (records) changed, the tables of
    that scope are, which also keeps the fact tables sorted by date for fast period scans.
    `new_loads` (the loads this publish brings, with `changes`) lets the children's lists of recorded
    codes grow by the new versions instead of reading every version again (see `build_children`).
    Tables last built with other definitions (`store.derived_built`) are rebuilt in full whatever `changes` says.
    Insertion order is not preserved while building.
    """
    if changes is not None and not derived_built.is_current(con):
        changes = new_loads = None
    con.execute("SET preserve_insertion_order = false")
    try:
        with one_commit(con):
            present = store_tables(con)
            build_calendar(con, tables=present)
            build_ethnicity_codes(con, present)
            plan = _plan(con, changes, present)
            loads: list[int] | None = None
            if "children" in plan:  # the children's lists of codes grow by the new versions where they are up to date
                up_to_date = changes is not None and _KEPT_TABLES.issubset(present)
                loads = new_loads if up_to_date else None
                attributed = _spans(con, plan, present)
                added = _added_children(con, changes, attributed, loads)
                build_children(con, plan["children"], loads, attributed, added)
            plan = _narrow_facts(con, changes, plan, loads)
            for build, scope in (
                (build_closure_facts, "events"),
                (build_referral_facts, "events"),
                (build_assessment_facts, "events"),
                (build_recording_facts, "records"),
                (build_contact_facts, "events"),
            ):
                if scope in plan:
                    build(con, plan[scope])
            derived_built.record(con)
    finally:
        temp = [*(f"_derive_{name}" for name in _SCOPE_SQL), _LISTED, _RECORDED, _WIDENED, _UNSETTLED, _ATTRIBUTED]
        temp += [_FACTS, *(Scope(_FACTS).copy(t) for t in _COPIED), _BOUNDS, _LATEST, _WHOLE, _ADDED]
        for table in temp if changes is not None else (_LATEST,):
            con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute("RESET preserve_insertion_order")
