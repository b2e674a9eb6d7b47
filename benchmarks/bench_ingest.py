"""Benchmark the loaders: CSV extracts (target >= 1 M rows/s) and a 50,000-row Annex A workbook (< 10 s).

Run: .venv/bin/python -m benchmarks.bench_ingest [--rows 1000000] [--workbook-rows 50000]
Prints a Markdown table for BENCHMARKS.md. Timings are wall clock on this machine.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb
import xlsxwriter

from ingest.detect import read_extract
from ingest.pipeline import load_files

LIST1_SQL = """
COPY (
  SELECT (100000 + i % 400000)::VARCHAR AS "Child Unique ID",
         ['a) Male', 'b) Female', 'F', 'Male'][1 + i % 4] AS "Gender",
         ['a) WBRI', 'WBRI', 'k) APKN', 'NOBT', '#N/A'][1 + i % 5] AS "Ethnicity",
         strftime(DATE '2008-01-01' + (i % 5000)::INTEGER, '%d/%m/%Y') AS "Date of Birth",
         (i % 17)::VARCHAR AS "Age of Child (Years)",
         strftime(DATE '2020-01-01' + (i % 1800)::INTEGER, '%d/%m/%Y') AS "Date of Contact",
         ['q) 6: Police', 'Schools', '3A', 'Housing', '1A'][1 + i % 5] || '' AS "Contact Source"
  FROM range({rows}) t(i)
) TO '{path}' (HEADER, DELIMITER ',')
"""

RECORDINGS_SQL = """
COPY (
  SELECT 'R' || i AS "Record ID", (100000 + i % 400000)::VARCHAR AS "Child Unique ID",
         ['Case Note', 'Home Visit', 'Supervision', 'Assessment'][1 + i % 4] AS "Record Type",
         strftime(DATE '2020-01-01' + (i % 1800)::INTEGER, '%d/%m/%Y') AS "Event Date",
         CASE WHEN i % 50 = 0 THEN '' ELSE strftime(TIMESTAMP '2020-01-01 09:00' + INTERVAL (i % 1800 + i % 9) DAY, '%Y-%m-%d %H:%M') END AS "Entered At",
         'Worker ' || (i % 300) AS "Worker", 'Team ' || (i % 12) AS "Team",
         ['Yes', 'No', ''][1 + i % 3] AS "Child Views Recorded"
  FROM range({rows}) t(i)
) TO '{path}' (HEADER, DELIMITER ',')
"""


def write_list3_workbook(path: Path, rows: int) -> Path:
    """A List 3 workbook with a title row, prefixed codes and real dates, like a council's."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("List 3")
    date_fmt = book.add_format({"num_format": "dd/mm/yyyy"})
    sheet.write_row(0, 0, ["List 3: Referrals"])
    headings = [
        "Child Unique ID",
        "Gender",
        "Ethnicity",
        "Date of Birth",
        "Age of Child (Years)",
        "Date of Referral",
        "Referral Source",
        "Referral NFA?",
        "Number of Referrals in Last 12 Months",
        "Allocated Team",
        "Allocated Worker",
    ]
    sheet.write_row(1, 0, headings)
    import datetime as dt

    for i in range(rows):
        r = i + 2
        sheet.write_number(r, 0, 100000 + i % 40000)
        sheet.write_string(r, 1, ("a) Male", "b) Female")[i % 2])
        sheet.write_string(r, 2, ("a) WBRI", "k) APKN", "s) NOBT")[i % 3])
        sheet.write_datetime(r, 3, dt.datetime(2010, 1, 1) + dt.timedelta(days=i % 4000), date_fmt)
        sheet.write_number(r, 4, i % 17)
        sheet.write_datetime(r, 5, dt.datetime(2022, 1, 1) + dt.timedelta(days=i % 700), date_fmt)
        sheet.write_string(r, 6, ("q) 6: Police", "e) 2A: Schools", "g) 3A: Health services")[i % 3])
        sheet.write_string(r, 7, ("a) Yes", "b) No")[i % 2])
        sheet.write_number(r, 8, i % 4)
        sheet.write_string(r, 9, f"Team {i % 8}")
        sheet.write_string(r, 10, f"Worker\xa0{i % 90}")
    book.close()
    return path


def timed(label: str, fn) -> tuple[str, float]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return label, time.perf_counter() - start


class Steps:
    """Times between the loader's progress messages: which step of a load takes how long."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self._last, self._step = time.perf_counter(), "start"

    def __call__(self, message: str) -> None:
        now = time.perf_counter()
        step = "read, normalise, write versions" if self._step.startswith("reading") else self._step
        self.times[step] = self.times.get(step, 0.0) + now - self._last
        self._last, self._step = now, message


def stage_only(path: Path) -> None:
    """The reader alone: file to staged canonical rows in DuckDB."""
    con = duckdb.connect()
    read_extract(path, con)
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workbook-rows", type=int, default=50_000)
    args = parser.parse_args()
    results: list[tuple[str, int, float]] = []
    breakdown: list[tuple[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        con = duckdb.connect()
        list1, recordings = d / "list1.csv", d / "recordings.csv"
        con.execute(LIST1_SQL.format(rows=args.rows, path=list1))
        con.execute(RECORDINGS_SQL.format(rows=args.rows, path=recordings))
        workbook = write_list3_workbook(d / "annex_a_list3.xlsx", args.workbook_rows)
        for label, path, n in [
            ("Annex A List 1 CSV", list1, args.rows),
            ("case-recording CSV", recordings, args.rows),
            ("Annex A List 3 workbook (.xlsx)", workbook, args.workbook_rows),
        ]:
            stage_only(path)  # a first, untimed read: imports, DuckDB's extensions, the file in the page cache
            secs = min(timed(label, lambda p=path: stage_only(p))[1] for _ in range(3))
            results.append((f"{label}: read and normalise (best of 3)", n, secs))
            store = d / f"{path.stem}.duckdb"
            _, secs = timed(label, lambda p=path, s=store: load_files([p], store=s, validate=False))
            results.append((f"{label}: whole load into an empty store, checks off", n, secs))
            store2 = d / f"{path.stem}-checked.duckdb"
            steps = Steps()
            _, secs = timed(
                label, lambda p=path, s=store2, st=steps: load_files([p], store=s, validate=True, progress=st)
            )
            steps("done")
            results.append((f"{label}: whole load with the data quality checks", n, secs))
            breakdown.append((label, {k: v for k, v in steps.times.items() if k != "start"}))
    print("| what | rows | seconds | rows per second |")
    print("|---|---:|---:|---:|")
    for label, n, secs in results:
        print(f"| {label} | {n:,} | {secs:.2f} | {n / secs:,.0f} |")
    print("\nSteps of the load with checks (seconds):\n")
    names = list(dict.fromkeys(k for _, times in breakdown for k in times))
    print("| file | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for label, times in breakdown:
        print(f"| {label} | " + " | ".join(f"{times.get(k, 0):.2f}" for k in names) + " |")


if __name__ == "__main__":
    main()
