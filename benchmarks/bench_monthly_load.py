"""Benchmark a month's extracts loaded into the national-scale store: what a council's routine load costs.

Run: .venv/bin/python -m benchmarks.bench_monthly_load [--store /tmp/national/s.duckdb] [--checks] [--scale 1.0]
     [--attributes random|stored]
Builds the national store first if it is missing (benchmarks/national_store.py at `--scale`, about
4 minutes at 1.0), copies it, writes one month of extracts (Annex A List 1 and List 3 CSVs, a
case-recording CSV, with last month's referrals sent again as a real rolling extract would; about
600,000 rows at scale 1.0), loads them with the loaders (`ingest.pipeline.load_files`, in this
process), and prints the time of each step, wall and CPU seconds and the load average. With
`--checks` the data quality checks run as in a real load (the target of issue 13: at most 15 s at
national scale). Only what the month touched is merged and re-derived. DuckDB's memory is capped
(`--memory-limit`, default 8GB: the machine is shared); at scale 1.0 run it under the shared lock:
`flock /work/bench.lock .venv/bin/python -m benchmarks.bench_monthly_load --store … --checks`.
A `--store` must have been built at the same `--scale` (the month's children are drawn from it).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from benchmarks.bench_csv_floor import reference_line
from benchmarks.duckdb_limit import DEFAULT_LIMIT, cap
from benchmarks.national_store import CHILDREN, build_national_store
from ingest.pipeline import load_files

MONTH_START, MONTH_END = "2025-04-01", "2025-04-30"

CONTACTS_SQL = """
COPY (SELECT m."Child Unique ID", {sex} AS "Gender", {ethnicity} AS "Ethnicity", {dob} AS "Date of Birth",
             m."Date of Contact", m."Contact Source"
      FROM (SELECT i, CAST(hash(i, 1) % {children} AS VARCHAR) AS "Child Unique ID", ['M', 'F'][1 + i % 2] AS sex,
                   ['WBRI', 'APKN', 'NOBT'][1 + i % 3] AS ethnicity, '01/01/2015' AS dob,
                   strftime(DATE '{start}' + CAST(i % 30 AS INTEGER), '%d/%m/%Y') AS "Date of Contact",
                   ['1A', '2A', '3A', '5A'][1 + i % 4] AS "Contact Source"
            FROM range({rows}) t(i)) m {join}
      ORDER BY m.i) TO '{path}' (HEADER)
"""

REFERRALS_SQL = """
COPY (SELECT * FROM (
        SELECT m."Child Unique ID", {sex} AS "Gender", {ethnicity} AS "Ethnicity", {dob} AS "Date of Birth",
               m."Date of Referral", m."Referral Source", m."Referral NFA?", m."Allocated Team", m."Allocated Worker"
        FROM (SELECT i, CAST(hash(i, 2) % {children} AS VARCHAR) AS "Child Unique ID", 'F' AS sex, 'WBRI' AS ethnicity,
                     '01/01/2015' AS dob, strftime(DATE '{start}' + CAST(i % 30 AS INTEGER), '%d/%m/%Y')
                     AS "Date of Referral", '3A' AS "Referral Source", 'No' AS "Referral NFA?",
                     'Team ' || (i % 60) AS "Allocated Team", 'Worker ' || (i % 3000) AS "Allocated Worker"
              FROM range({rows}) t(i)) m {join}
        UNION ALL  -- last month's referrals, sent again
        SELECT child_id, sex, ethnicity, strftime(date_of_birth, '%d/%m/%Y'), strftime(referral_date, '%d/%m/%Y'),
               referral_source, CASE WHEN nfa THEN 'Yes' ELSE 'No' END, team, worker
        FROM store.referrals WHERE referral_date >= DATE '{start}' - INTERVAL 1 MONTH AND referral_date < DATE '{start}'
      )) TO '{path}' (HEADER)
"""

RECORDINGS_SQL = """
COPY (SELECT 'M' || i AS "Record ID", CAST(hash(i, 3) % {children} AS VARCHAR) AS "Child Unique ID",
             ['Case Note', 'Home Visit', 'Supervision'][1 + i % 3] AS "Record Type",
             strftime(DATE '{start}' + CAST(i % 30 AS INTEGER), '%d/%m/%Y') AS "Event Date",
             strftime(TIMESTAMP '{start} 09:00' + INTERVAL (i % 30 + i % 7) DAY, '%Y-%m-%d %H:%M') AS "Entered At",
             'Worker ' || (i % 3000) AS "Worker", 'Team ' || (i % 60) AS "Team", 'Yes' AS "Child Views Recorded"
      FROM range({rows}) t(i)) TO '{path}' (HEADER)
"""


def _data_lines(path: Path) -> int:
    """Lines below the header of a CSV."""
    with open(path, encoding="utf-8") as handle:
        return sum(1 for _ in handle) - 1


# How the month's new contacts and referrals record each child's sex, ethnicity and date of birth: "random" (the
# month as first written: fixed or cycling values, so nearly every child it touches changes its latest attributes,
# the worst case for the derived tables) or "stored" (the child's values in the store's `children` table, as a
# council's next extract records a known child: its attributes stay as they were).
ATTRIBUTES = {
    "random": {"sex": "m.sex", "ethnicity": "m.ethnicity", "dob": "m.dob", "join": ""},
    "stored": {
        "sex": "coalesce(ch.sex, m.sex)",
        "ethnicity": "coalesce(ch.ethnicity, m.ethnicity)",
        "dob": "coalesce(strftime(ch.date_of_birth, '%d/%m/%Y'), m.dob)",
        "join": 'LEFT JOIN store.children ch ON ch.child_id = m."Child Unique ID"',
    },
}


def write_month(store: Path, folder: Path, scale: float = 1.0, attributes: str = "random") -> list[Path]:
    """One month of extracts at `scale` of national size (a sixtieth of the five-year store), written with DuckDB;
    `attributes` says how its new rows record the children's attributes (see ATTRIBUTES)."""
    files = {
        "annex_a_list_1_2025-04.csv": (CONTACTS_SQL, 170_000),
        "annex_a_list_3_2025-04.csv": (REFERRALS_SQL, 50_000),
        "case_recordings_2025-04.csv": (RECORDINGS_SQL, 330_000),
    }
    children = max(50, int(CHILDREN * scale))  # as benchmarks/national_store.py
    con = duckdb.connect()
    con.execute(f"ATTACH '{store.resolve()}' AS store (READ_ONLY)")
    for name, (sql, rows) in files.items():
        con.execute(
            sql.format(
                children=children,
                start=MONTH_START,
                rows=max(1, int(rows * scale)),
                path=folder / name,
                **ATTRIBUTES[attributes],
            )
        )
    con.close()
    return [folder / name for name in files]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=Path("/tmp/national/s.duckdb"))
    parser.add_argument("--checks", action="store_true", help="also run the data quality checks (as a real load does)")
    parser.add_argument("--scale", type=float, default=1.0, help="size of the store and the month (1.0: national)")
    parser.add_argument("--memory-limit", default=DEFAULT_LIMIT, help="DuckDB memory_limit (shared machine)")
    parser.add_argument(
        "--attributes",
        choices=sorted(ATTRIBUTES),
        default="random",
        help="the month's children's sex, ethnicity and date of birth: random (the worst case) or as stored",
    )
    args = parser.parse_args()
    cap(args.memory_limit)
    if not args.store.exists():
        build_national_store(args.store, args.scale)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        work = folder / "store.duckdb"
        shutil.copyfile(args.store.resolve(), work)
        files = write_month(work, folder, args.scale, args.attributes)
        rows = sum(_data_lines(f) for f in files)
        steps: list[tuple[str, float]] = []
        last = [time.perf_counter(), "copying the store"]

        def step(message: str) -> None:
            now = time.perf_counter()
            steps.append((str(last[1]), now - float(last[0])))
            last[:] = [now, message]

        load_before = os.getloadavg()[0]
        start, cpu = time.perf_counter(), time.process_time()
        summaries = load_files(files, store=work, validate=args.checks, progress=step)
        total, cpu = time.perf_counter() - start, time.process_time() - cpu
        step("done")
        load_after = os.getloadavg()[0]
    print(
        f"store {args.store} (scale {args.scale:g}), checks {'on' if args.checks else 'off'}, attributes"
        f" {args.attributes}, DuckDB memory_limit"
        f" {args.memory_limit}; load average {load_before:.2f} before, {load_after:.2f} after"
    )
    print("| step | seconds |\n|---|---:|")
    for name, secs in steps:
        print(f"| {name} | {secs:.2f} |")
    print(f"| **whole load of {rows:,} rows** | **{total:.2f}** (CPU {cpu:.2f}) |")
    for s in summaries:
        print(
            f"- {s.file}: {s.status}, {sum(s.rows.values()):,} versions, {s.superseded:,} superseded, "
            f"{s.replaced:,} replaced, {s.unchanged:,} unchanged"
        )
    print(reference_line())  # after the load, so that it does not warm or cool what the load reads


if __name__ == "__main__":
    main()
