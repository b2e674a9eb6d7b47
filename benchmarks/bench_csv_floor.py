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
