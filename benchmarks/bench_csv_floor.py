"""How fast this machine's DuckDB alone can put a CSV into a store file: the floor under any CSV load.

Run: .venv/bin/python -m benchmarks.bench_csv_floor [--rows 1000000]
Writes the benchmark's Annex A List 1 CSV (benchmarks/bench_ingest.py) and times DuckDB doing
nothing but reading it into a table of a database file (no normalisation, no provenance, no
versions, no derived tables, no checks), best of three each.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb

from benchmarks.bench_ingest import LIST1_SQL

CASES: dict[str, str] = {
    "scan only (count the rows)": "SELECT count(*) FROM read_csv('{csv}', all_varchar = true)",
    "into a database file, as text": "CREATE OR REPLACE TABLE t AS SELECT * FROM read_csv('{csv}', all_varchar = true)",
    "into a database file, dates typed by DuckDB": (
        "CREATE OR REPLACE TABLE t AS SELECT * FROM read_csv('{csv}', dateformat = '%d/%m/%Y')"
    ),
}


def best_of_three(con: duckdb.DuckDBPyConnection, sql: str) -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        con.execute(sql)
        con.execute("CHECKPOINT")  # the rows are on disk, as a published store's are
        times.append(time.perf_counter() - start)
    return min(times)


REFERENCE_ROWS = 500_000
REFERENCE_CASE = "into a database file, as text"


def host_reference(rows: int = REFERENCE_ROWS) -> tuple[float, float]:
    """(wall, CPU) seconds DuckDB alone takes to put `rows` rows of the List 1 CSV into a database file, best of three:
    the host's speed at the moment, printed beside a load's figure (the same code took 2-4x as long as an hour
    earlier on this shared host; BENCHMARKS.md, issue 13 seventh pass)."""
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "list1.csv"
        duckdb.connect().execute(LIST1_SQL.format(rows=rows, path=csv))
        con = duckdb.connect(str(Path(tmp) / "floor.duckdb"))
        cpu = time.process_time()
        wall = best_of_three(con, CASES[REFERENCE_CASE].format(csv=csv))
        cpu = (time.process_time() - cpu) / 3
        con.close()
    return wall, cpu


def reference_line() -> str:
    """One line for a benchmark's output: the host reference (`host_reference`) as measured now."""
    wall, cpu = host_reference()
    return (
        f"host reference (DuckDB alone, {REFERENCE_ROWS:,} CSV rows into a file, best of 3): {wall:.2f} s wall,"
        f" ~{cpu:.2f} s CPU: compare a figure only with figures taken beside a similar reference"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "list1.csv"
        duckdb.connect().execute(LIST1_SQL.format(rows=args.rows, path=csv))
        print("| DuckDB alone | seconds | rows per second |\n|---|---:|---:|")
        for label, sql in CASES.items():
            con = duckdb.connect(str(Path(tmp) / "floor.duckdb"))
            secs = best_of_three(con, sql.format(csv=csv))
            con.close()
            print(f"| {label} | {secs:.2f} | {args.rows / secs:,.0f} |")


if __name__ == "__main__":
    main()
