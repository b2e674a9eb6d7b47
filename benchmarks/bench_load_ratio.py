"""The whole load against DuckDB alone on the same CSV files, in one run: both times and their ratio.

Run: .venv/bin/python -m benchmarks.bench_load_ratio [--scale 1.0] [--keep DIR]
Writes national-scale Annex A per-list CSVs (Lists 1, 3, 4 and 6) and a case-recording CSV with
DuckDB (scale 1.0: the sizes of benchmarks/national_store.py, 37.5 million rows; fixed seed), then
times, on the same files in the same run:
- DuckDB alone: `CREATE TABLE … AS SELECT * FROM read_csv(…)` for each file into one new database
  file, then CHECKPOINT (no normalisation, provenance, versions, derived tables or checks);
- the whole load as a user runs it: `python -m ingest FILES --store NEW_STORE` (a new process,
  imports included, data quality checks and Data Docs on, as by default);
and prints both (wall and CPU seconds, with the load average: the machine may be shared) and the
ratio of the wall times (the target of issue 13: at most 3×). With `--floor` it also times, in the same run,
DuckDB writing every row two and three times (the file read into a table, then that table copied once or
twice into another: no normalisation, ranking, derivation or check): the least a store that keeps versions
and current rows (two writes) or versions, current rows and facts (three, this store's layout) can cost
next to DuckDB alone. A first, untimed scan puts the files in
the page cache so neither side pays for the disk. Both sides run with the same DuckDB memory_limit
(`--memory-limit`, default 8GB: the machine is shared). At scale 1.0 run it under the shared lock:
`flock /work/bench.lock .venv/bin/python -m benchmarks.bench_load_ratio`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from benchmarks.duckdb_limit import DEFAULT_LIMIT, timed_ingest
from benchmarks.national_store import CHILDREN, SIZES

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SEED = 20130

_CHILD_COLUMNS = """CAST(h(i, {seed}) % {children} AS VARCHAR) AS "Child Unique ID",
         ['M', 'F', 'U'][1 + h(i, {seed} + 1) % 3] AS "Gender",
         ['WBRI', 'WBRI', 'WBRI', 'APKN', 'BCRB', 'MWBC', 'NOBT', 'REFU'][1 + h(i, {seed} + 2) % 8] AS "Ethnicity",
         strftime(DATE '2006-01-01' + CAST(h(i, {seed} + 3) % 6500 AS INTEGER), '%d/%m/%Y') AS "Date of Birth\""""


def _event_date(stream: int) -> str:
    """A date in the five years to 31 March 2025, as dd/mm/yyyy."""
    return f"strftime(DATE '2020-04-01' + CAST(h(i, {SEED} + {stream}) % 1826 AS INTEGER), '%d/%m/%Y')"


FILES: dict[str, tuple[str, str]] = {
    "annex_a_list_1_contacts.csv": (
        "contacts",
        f"""
        {_CHILD_COLUMNS}, {_event_date(10)} AS "Date of Contact",
        ['1A', '1B', '2A', '3A', '5A', '6', '9'][1 + h(i, {{seed}} + 11) % 7] AS "Contact Source\"""",
    ),
    "annex_a_list_3_referrals.csv": (
        "referrals",
        f"""
        {_CHILD_COLUMNS}, {_event_date(20)} AS "Date of Referral",
        ['1A', '2A', '3A', '5A', '6', '9'][1 + h(i, {{seed}} + 21) % 6] AS "Referral Source",
        ['Yes', 'No', 'No', 'No'][1 + h(i, {{seed}} + 22) % 4] AS "Referral NFA?",
        'Team ' || h(i, {{seed}} + 23) % 60 AS "Allocated Team",
        'Worker ' || h(i, {{seed}} + 24) % 3000 AS "Allocated Worker\"""",
    ),
    "annex_a_list_4_assessments.csv": (
        "assessments",
        f"""
        {_CHILD_COLUMNS}, {_event_date(30)} AS "Continuous Assessment Start Date",
        ['Yes', 'No'][1 + h(i, {{seed}} + 31) % 2] AS "Child Seen During Continuous Assessment",
        CASE WHEN h(i, {{seed}} + 32) % 10 = 0 THEN NULL
             ELSE strftime(DATE '2020-04-01' + CAST(h(i, {SEED} + 30) % 1826 + h(i, {{seed}} + 33) % 60
                                                    AS INTEGER), '%d/%m/%Y') END
            AS "Continuous Assessment Date of Authorisation",
        'Team ' || h(i, {{seed}} + 34) % 60 AS "Allocated Team",
        'Worker ' || h(i, {{seed}} + 35) % 3000 AS "Allocated Worker\"""",
    ),
    "annex_a_list_6_children_in_need.csv": (
        "cin_episodes",
        f"""
        {_CHILD_COLUMNS}, {_event_date(40)} AS "CIN Start Date",
        ['N1', 'N2', 'N3', 'N4', 'N5', 'N6', 'N7', 'N8', 'N9'][1 + h(i, {{seed}} + 41) % 9] AS "Primary Need Code",
        CASE WHEN h(i, {{seed}} + 42) % 3 = 0 THEN NULL
             ELSE strftime(DATE '2020-04-01' + CAST(h(i, {SEED} + 40) % 1826 + h(i, {{seed}} + 43) % 300
                                                    AS INTEGER), '%d/%m/%Y') END AS "CIN Closure Date",
        CASE WHEN h(i, {{seed}} + 42) % 3 = 0 THEN NULL
             ELSE ['RC1', 'RC2', 'RC3', 'RC4', 'RC7', 'RC8'][1 + h(i, {{seed}} + 44) % 6] END AS "Reason for Closure",
        'Team ' || h(i, {{seed}} + 45) % 60 AS "Allocated Team",
        'Worker ' || h(i, {{seed}} + 46) % 3000 AS "Allocated Worker\"""",
    ),
    "case_recordings.csv": (
        "recordings",
        f"""
        'R' || i AS "Record ID", CAST(h(i, {{seed}}) % {{children}} AS VARCHAR) AS "Child Unique ID",
        ['Case Note', 'Home Visit', 'Supervision', 'Assessment'][1 + h(i, {{seed}} + 51) % 4] AS "Record Type",
        {_event_date(50)} AS "Event Date",
        strftime(TIMESTAMP '2020-04-01 09:00' + INTERVAL (h(i, {SEED} + 50) % 1826 + h(i, {{seed}} + 52) % 9) DAY,
                 '%Y-%m-%d %H:%M') AS "Entered At",
        'Worker ' || h(i, {{seed}} + 53) % 3000 AS "Worker", 'Team ' || h(i, {{seed}} + 54) % 60 AS "Team",
        ['Yes', 'No', ''][1 + h(i, {{seed}} + 55) % 3] AS "Child Views Recorded\"""",
    ),
}
"""File name -> (the national store's table whose size it takes, the SELECT list of its columns over range(rows) i)."""


FLOORS = {2: "twice: versions and current rows", 3: "three times: versions, current rows and facts"}
"""Writes per row -> what a store writing each row that many times keeps (the `--floor` rows)."""


def write_files(folder: Path, scale: float) -> dict[Path, int]:
    """The CSV files at `scale` of national size, written by DuckDB; file -> rows."""
    con = duckdb.connect()
    con.execute("CREATE MACRO h(i, s) AS CAST(hash(i, s) % 1000000007 AS BIGINT)")  # a signed pseudo-random number
    children = max(100, int(CHILDREN * scale))
    written: dict[Path, int] = {}
    for n, (name, (table, columns)) in enumerate(FILES.items()):
        rows = max(1, int(SIZES[table] * scale))
        select = columns.format(seed=SEED + 100 * n, children=children)
        path = folder / name
        con.execute(f"COPY (SELECT {select} FROM range({rows}) t(i)) TO '{path}' (HEADER, DELIMITER ',')")
        written[path] = rows
    con.close()
    return written


def warm(files: list[Path]) -> None:
    """Read each file once so both timings find it in the page cache."""
    for path in files:
        with path.open("rb") as handle:
            while handle.read(1 << 24):
                pass


def duckdb_alone(files: list[Path], database: Path, limit: str, writes: int = 1) -> tuple[float, float]:
    """Wall and CPU seconds (all threads) for DuckDB to put every file into a table of a new database file, and with
    `writes` > 1 to copy that table into `writes` - 1 more tables of the file (each row written `writes` times)."""
    database.unlink(missing_ok=True)
    start, cpu = time.perf_counter(), time.process_time()
    con = duckdb.connect(str(database), config={"memory_limit": limit})
    for n, path in enumerate(files):
        con.execute(f"CREATE TABLE t{n} AS SELECT * FROM read_csv('{path}')")
        for copy in range(1, writes):
            con.execute(f"CREATE TABLE t{n}_{copy} AS SELECT * FROM t{n}")
    con.execute("CHECKPOINT")
    con.close()
    return time.perf_counter() - start, time.process_time() - cpu


def whole_load(files: list[Path], store: Path, limit: str) -> tuple[float, float]:
    """Wall and CPU seconds for `python -m ingest FILES --store STORE` (checks on), as a new process, into a new store."""
    for old in (store, store.with_name(store.name + ".versions"), store.with_name(store.name + ".data_docs")):
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old)
        else:
            old.unlink(missing_ok=True)  # a store kept by an earlier run (--keep): start from none again
    wall, cpu, _said = timed_ingest([*map(str, files), "--store", str(store)], limit)
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of national size (1.0: 37.5 M rows)")
    parser.add_argument("--keep", type=Path, help="write the files and stores here and keep them (default: a temp dir)")
    parser.add_argument("--memory-limit", default=DEFAULT_LIMIT, help="DuckDB memory_limit of both sides")
    parser.add_argument("--floor", action="store_true", help="also time DuckDB writing every row twice and three times")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        written = write_files(folder, args.scale)
        files, rows = list(written), sum(written.values())
        print(
            f"{len(files)} CSV files, {rows:,} rows, {sum(f.stat().st_size for f in files) / 1e6:,.0f} MB, "
            f"written in {time.perf_counter() - started:.1f} s (scale {args.scale:g})"
        )
        warm(files)
        load_before = os.getloadavg()[0]
        alone, alone_cpu = duckdb_alone(files, folder / "duckdb_alone.duckdb", args.memory_limit)
        floors = {
            w: duckdb_alone(files, folder / f"writes_{w}.duckdb", args.memory_limit, w)
            for w in (FLOORS if args.floor else {})
        }
        load, load_cpu = whole_load(files, folder / "store.duckdb", args.memory_limit)
        load_after = os.getloadavg()[0]
    print(f"DuckDB memory_limit {args.memory_limit}; load average {load_before:.2f} before, {load_after:.2f} after")
    print("| on the same files, same run | wall (s) | CPU (s) | rows per second |\n|---|---:|---:|---:|")
    print(
        f"| DuckDB alone (CREATE TABLE AS SELECT * FROM read_csv, into a file) | {alone:.2f} | {alone_cpu:.2f} |"
        f" {rows / alone:,.0f} |"
    )
    for w, (floor, floor_cpu) in floors.items():
        print(
            f"| DuckDB alone, each row written {FLOORS[w]} ({floor / alone:.1f}x wall, {floor_cpu / alone_cpu:.1f}x CPU)"
            f" | {floor:.2f} | {floor_cpu:.2f} | {rows / floor:,.0f} |"
        )
    print(f"| whole `python -m ingest` load, checks on | {load:.2f} | {load_cpu:.2f} | {rows / load:,.0f} |")
    print(f"\nratio (whole load / DuckDB alone): {load / alone:.1f}x wall, {load_cpu / alone_cpu:.1f}x CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
