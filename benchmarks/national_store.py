"""A national-scale synthetic store (about five years of England) generated in DuckDB SQL, for benchmarks.

`build_national_store(path, scale)` writes canonical-shaped rows straight into the version tables
with `generate_series` and hashing (fixed seed, so the same scale gives the same store), then
publishes through `ingest.publish.finalise` so the derived tables are built exactly as in
production. Scale 1.0: 3 million referrals, 10 million contacts, 3 million assessments,
1.5 million CIN episodes, 20 million recordings.

    python -m benchmarks.national_store PATH [--scale 0.01]
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

from ingest.publish import finalise
from store.codes import CLOSURE_REASONS, ETHNICITY_GROUPS, RECORD_TYPES, REFERRAL_SOURCES
from store.connection import open_for_update

SIZES: dict[str, int] = {
    "referrals": 3_000_000,
    "contacts": 10_000_000,
    "assessments": 3_000_000,
    "cin_episodes": 1_500_000,
    "recordings": 20_000_000,
}
CHILDREN = 1_400_000
FIRST_DAY = date(2020, 4, 1)
DAYS = 1826  # five years
AS_OF = date(2025, 3, 31)
SEED = 20100  # fixed: the same scale always gives the same store
TEAMS = 60
WORKERS = 3000


def _list(values: list[str | None]) -> str:
    return "[" + ", ".join("NULL" if v is None else f"'{v}'" for v in values) + "]"


# Ethnicity: mostly known codes, some REFU / NOBT / missing / invalid.
ETHNICITY_POOL = _list([*sorted(ETHNICITY_GROUPS)] * 3 + ["WBRI"] * 20 + ["REFU", "NOBT", None, None, "XXXX"])
SOURCE_POOL = _list(list(REFERRAL_SOURCES))
CLOSURE_POOL = _list(list(CLOSURE_REASONS))
RECORD_TYPE_POOL = _list(list(RECORD_TYPES))


def _h(stream: int) -> str:
    """A deterministic pseudo-random UBIGINT per row `i` for one stream."""
    return f"CAST(hash(i, {SEED + stream}) % 1000000007 AS BIGINT)"


def _pick(pool: str, stream: int) -> str:
    return f"{pool}[1 + {_h(stream)} % len({pool})]"


def _child(stream: int, children: int) -> str:
    # Skewed: a third of events go to an eighth of the children, so repeats happen.
    return (
        f"CAST(CASE WHEN {_h(stream)} % 3 = 0 THEN {_h(stream + 50)} % {max(1, children // 8)}"
        f" ELSE {_h(stream + 50)} % {children} END AS VARCHAR)"
    )


def _day(stream: int) -> str:
    return f"CAST(DATE '{FIRST_DAY}' + CAST({_h(stream)} % {DAYS} AS INTEGER) AS DATE)"


def _provenance(entity: str) -> str:
    return (
        f"1 AS load_id, 'national_synthetic.csv' AS source_file, '{entity}' AS sheet, CAST(i + 2 AS INTEGER)"
        f" AS row_number, DATE '{AS_OF}' AS as_of, CAST([] AS VARCHAR[]) AS flags"
    )


def _child_attributes(day: str) -> str:
    return (
        f"{_pick(ETHNICITY_POOL, 20)} AS ethnicity, CASE WHEN {_h(21)} % 2 = 0 THEN 'M' ELSE 'F' END AS sex,"
        f" CAST({day} - CAST(({_h(22)} % 6700) - 200 AS INTEGER) AS DATE) AS date_of_birth"
    )


def _staff() -> str:
    return (
        f"'Team ' || CAST({_h(30)} % {TEAMS} AS VARCHAR) AS team,"
        f" 'Worker ' || CAST({_h(31)} % {WORKERS} AS VARCHAR) AS worker"
    )


def _statements(sizes: dict[str, int], children: int) -> dict[str, str]:
    series = "FROM generate_series(0, {n} - 1) t(i)"
    return {
        "referrals": f"""
            SELECT {_child(1, children)} AS child_id, {_day(2)} AS referral_date, {_pick(SOURCE_POOL, 3)} AS referral_source,
                   {_h(4)} % 100 < 8 AS nfa, {_staff()}, {_child_attributes(_day(2))}, {_provenance("referrals")}
            {series.format(n=sizes["referrals"])}""",
        "contacts": f"""
            SELECT {_child(5, children)} AS child_id, {_day(6)} AS contact_date, {_pick(SOURCE_POOL, 7)} AS contact_source,
                   {_child_attributes(_day(6))}, {_provenance("contacts")}
            {series.format(n=sizes["contacts"])}""",
        "assessments": f"""
            SELECT child_id, start_date,
                   CASE WHEN start_date + duration <= DATE '{AS_OF}' AND {_h(10)} % 100 >= 2
                        THEN CAST(start_date + duration AS DATE) END AS authorised_date,
                   {_h(11)} % 100 < 90 AS child_seen, {_h(12)} % 100 < 45 AS requires_support,
                   {_h(13)} % 100 < 9 AS disabled, {_staff()}, {_child_attributes("start_date")},
                   {_provenance("assessments")}
            FROM (SELECT i, {_child(8, children)} AS child_id, {_day(9)} AS start_date,
                         CAST(CASE WHEN {_h(14)} % 100 < 85 THEN {_h(15)} % 63 ELSE 63 + {_h(15)} % 60 END AS INTEGER)
                             AS duration
                  {series.format(n=sizes["assessments"])})""",
        "cin_episodes": f"""
            SELECT child_id, start_date,
                   CASE WHEN start_date + length <= DATE '{AS_OF}' THEN CAST(start_date + length AS DATE) END
                       AS closure_date,
                   CASE WHEN start_date + length <= DATE '{AS_OF}' THEN {_pick(CLOSURE_POOL, 16)} END AS closure_reason,
                   'N' || CAST({_h(17)} % 10 AS VARCHAR) AS primary_need, {_h(13)} % 100 < 9 AS disabled, {_staff()},
                   {_child_attributes("start_date")}, {_provenance("cin_episodes")}
            FROM (SELECT i, {_child(18, children)} AS child_id, {_day(19)} AS start_date,
                         CAST({_h(23)} % 400 AS INTEGER) AS length
                  {series.format(n=sizes["cin_episodes"])})""",
        "recordings": f"""
            SELECT 'R' || CAST(i AS VARCHAR) AS record_id, {_child(24, children)} AS child_id,
                   {_pick(RECORD_TYPE_POOL, 25)} AS record_type, event_date,
                   CASE WHEN {_h(26)} % 1000 >= 15 THEN CAST(event_date AS TIMESTAMP)
                        + to_days(CAST(CASE WHEN {_h(27)} % 100 < 80 THEN {_h(28)} % 8 ELSE {_h(28)} % 40 END AS INTEGER))
                        + to_hours(CAST(8 + {_h(29)} % 10 AS INTEGER)) END AS entered_at,
                   {_staff()}, CASE WHEN {_h(32)} % 100 < 60 THEN {_h(33)} % 100 < 70 END AS child_views_recorded,
                   {_provenance("recordings")}
            FROM (SELECT i, {_day(34)} AS event_date {series.format(n=sizes["recordings"])})""",
    }


def build_national_store(path: Path, scale: float = 1.0) -> Path:
    """Write a national-scale synthetic store to `path` (published like any load) and return the path."""
    sizes = {entity: max(1, int(n * scale)) for entity, n in SIZES.items()}
    children = max(50, int(CHILDREN * scale))
    with open_for_update(path) as con:
        con.execute("DELETE FROM loads")
        con.execute(
            "INSERT INTO loads (load_id, source_file, sha256, format, as_of, loaded_at, rows_read, rows_loaded,"
            " rows_rejected, rows_superseded, rows_unchanged, notices, event_date_min, event_date_max)"
            " VALUES (1, 'national_synthetic.csv', ?, 'benchmark', ?, now(), ?, ?, 0, 0, 0, [], ?, ?)",
            [f"national-{SEED}-{scale}", AS_OF, sum(sizes.values()), sum(sizes.values()), FIRST_DAY, AS_OF],
        )
        for entity, select in _statements(sizes, children).items():
            con.execute(f"DELETE FROM {entity}_versions")
            con.execute(f"INSERT INTO {entity}_versions BY NAME {select}")
        finalise(con, None, validate=False)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.national_store", description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    build_national_store(args.path, args.scale)
    print(f"built {args.path} at scale {args.scale} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
