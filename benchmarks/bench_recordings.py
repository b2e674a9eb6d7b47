"""Measure how fast the case-recording reader stages a large CSV (target: at least 1 million rows a second).

Usage: .venv/bin/python benchmarks/bench_recordings.py [--rows 2000000] [--repeat 3]

Writes a synthetic extract (made-up ids, no real data) to a temporary directory with DuckDB,
then times ``read_recordings`` on a fresh in-memory connection, best of --repeat runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest.readers.recordings import read_recordings

HEADER = "Record ID,Child Unique ID,Record Type,Event Date,Entered At,Worker,Team,Child Views Recorded"


def write_extract(path: Path, rows: int) -> None:
    """A synthetic extract: ISO and DD/MM/YYYY dates, times, blanks, a few unknown types and bad rows."""
    con = duckdb.connect()
    con.execute(f"""
        COPY (
          SELECT 'R' || i AS "Record ID",
                 CAST(100000 + i % 50000 AS VARCHAR) AS "Child Unique ID",
                 (['Case Note', 'Home Visit', 'Statutory Visit', 'Supervision', 'Chronology Entry',
                   'Strategy Discussion', 'Assessment', 'contact', 'Genogram'])[1 + i % 9] AS "Record Type",
                 CASE WHEN i % 2 = 0 THEN strftime(DATE '2023-01-01' + CAST(i % 700 AS INTEGER), '%Y-%m-%d')
                      ELSE strftime(DATE '2023-01-01' + CAST(i % 700 AS INTEGER), '%d/%m/%Y') END AS "Event Date",
                 CASE WHEN i % 10 = 0 THEN ''
                      WHEN i % 3 = 0 THEN strftime(TIMESTAMP '2023-01-02 09:30' + to_days(CAST(i % 700 AS INTEGER)), '%d/%m/%Y %H:%M')
                      ELSE strftime(TIMESTAMP '2023-01-02 09:30' + to_days(CAST(i % 700 AS INTEGER)), '%Y-%m-%d %H:%M:%S') END
                      AS "Entered At",
                 'Worker ' || (i % 300) AS "Worker",
                 'Team ' || (i % 20) AS "Team",
                 (['Yes', 'No', ''])[1 + i % 3] AS "Child Views Recorded"
          FROM range({rows}) t(i)
        ) TO '{path}' (HEADER, DELIMITER ',')
    """)
    con.close()


def time_read(path: Path) -> tuple[float, float, int]:
    """Wall seconds and process CPU seconds taken by read_recordings on a fresh connection, and rows read."""
    con = duckdb.connect()
    start, cpu = time.perf_counter(), time.process_time()
    result = read_recordings(path, con)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    rejected = con.execute("SELECT count(*) FROM staged_rejects").fetchone()[0]
    staged = con.execute("SELECT count(*) FROM staged_recordings").fetchone()[0]
    con.close()
    assert staged + rejected == result.rows_read
    return elapsed, cpu, result.rows_read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "recordings.csv"
        write_extract(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        runs = [time_read(path) for _ in range(args.repeat)]
    best, cpu, rows = min(runs)
    cores = os.cpu_count() or 1
    print(
        f"{rows:,} rows ({size_mb:.0f} MB), best of {args.repeat}: {best:.2f} s wall -> {rows / best:,.0f} rows/s;"
        f" {cpu:.2f} s CPU -> {rows / cpu * cores:,.0f} rows/s if all {cores} cores were free"
        f" (load average {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()
