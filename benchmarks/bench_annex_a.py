"""Time the Annex A reader: a 50,000-row List 3 workbook (target well under 10 s) and a 1,000,000-row List 1 CSV (target >= 1 M rows/s).

Usage: .venv/bin/python benchmarks/bench_annex_a.py [--xlsx-rows 50000] [--csv-rows 1000000] [--repeat 3]

Writes synthetic files (made-up ids, no real data) to a temporary directory: the workbook with
xlsxwriter (a title row, real dates, DD/MM/YYYY text, Excel serials, prefixed codes, nbsp), the
CSV with DuckDB. Times ``read_annex_a`` on a fresh in-memory connection, best of --repeat runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import xlsxwriter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest.readers.annex_a import read_annex_a

LIST_3_HEADINGS = [
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
GENDERS = ["a) Male", "b) Female", "F", "M", "c) Not stated/recorded"]
ETHNICITIES = ["a) WBRI", "WBRI", "k) APKN", "White British", "s) NOBT", "", "#N/A", "r) OOTH"]
SOURCES = ["q) 6: Police", "Police", "6", "e) 2A: Schools", "j) 3D: Health services", "a) 1A: Individual"]


def write_workbook(path: Path, rows: int) -> None:
    """A List 3 sheet with a title row and the messy values seen in real files."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("List 3")
    date_format = book.add_format({"num_format": "dd/mm/yyyy"})
    sheet.write_row(0, 0, ["List 3: Referrals"])
    sheet.write_row(1, 0, LIST_3_HEADINGS)
    start = dt.date(2023, 4, 1)
    for i in range(rows):
        r = i + 2
        referral = start + dt.timedelta(days=i % 360)
        sheet.write_number(r, 0, 100000 + i % 40000)
        sheet.write_string(r, 1, GENDERS[i % len(GENDERS)])
        sheet.write_string(r, 2, ETHNICITIES[i % len(ETHNICITIES)])
        sheet.write_datetime(r, 3, dt.datetime(2008, 1, 1) + dt.timedelta(days=i % 5000), date_format)
        sheet.write_number(r, 4, 5 + i % 12)
        if i % 3 == 0:
            sheet.write_datetime(r, 5, dt.datetime.combine(referral, dt.time()), date_format)
        elif i % 3 == 1:
            sheet.write_string(r, 5, referral.strftime("%d/%m/%Y"))
        else:
            sheet.write_number(r, 5, (referral - dt.date(1899, 12, 30)).days)
        sheet.write_string(r, 6, SOURCES[i % len(SOURCES)])
        sheet.write_string(r, 7, "a) Yes" if i % 4 == 0 else "b) No")
        sheet.write_number(r, 8, i % 4)
        sheet.write_string(r, 9, f"Locality {i % 6} Duty Team")
        sheet.write_string(r, 10, f"Worker\u00a0{i % 150}")
    book.close()


def write_csv(path: Path, rows: int) -> None:
    """A List 1 CSV: DD/MM/YYYY dates, prefixed and bare codes, blanks and #N/A."""
    con = duckdb.connect()
    con.execute(f"""
        COPY (
          SELECT CAST(100000 + i % 400000 AS VARCHAR) AS "Child Unique ID",
                 (['a) Male', 'b) Female', 'F', 'M'])[1 + i % 4] AS "Gender",
                 (['a) WBRI', 'WBRI', 'k) APKN', 'White British', 's) NOBT', '', '#N/A'])[1 + i % 7] AS "Ethnicity",
                 strftime(DATE '2006-01-01' + CAST(i % 6000 AS INTEGER), '%d/%m/%Y') AS "Date of Birth",
                 CAST(i % 18 AS VARCHAR) AS "Age of Child (Years)",
                 strftime(DATE '2022-01-01' + CAST(i % 1500 AS INTEGER), '%d/%m/%Y') AS "Date of Contact",
                 (['q) 6: Police', 'Police', '6', 'e) 2A: Schools', 'School', 'j) 3D: Health services'])[1 + i % 6]
                   AS "Contact Source"
          FROM range({rows}) t(i)
        ) TO '{path}' (HEADER, DELIMITER ',')
    """)
    con.close()


def time_read(path: Path) -> tuple[float, float, int]:
    """Wall and CPU seconds (all threads) taken by read_annex_a on a fresh connection, and rows read."""
    con = duckdb.connect()
    start, cpu_start = time.perf_counter(), time.process_time()
    result = read_annex_a(path, con)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    staged = sum(con.execute(f"SELECT count(*) FROM staged_{e}").fetchone()[0] for e in result.entities)
    rejected = con.execute("SELECT count(*) FROM staged_rejects").fetchone()[0]
    con.close()
    if staged + rejected != result.rows_read:
        raise SystemExit(f"{path.name}: {staged} staged + {rejected} rejected != {result.rows_read} read")
    return elapsed, cpu, result.rows_read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xlsx-rows", type=int, default=50_000)
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    duckdb.connect().register("_warm_up", __import__("pyarrow").table({"x": [1]}))  # first register imports pandas
    with tempfile.TemporaryDirectory() as tmp:
        for name, write, rows in (
            ("list_3.xlsx", write_workbook, args.xlsx_rows),
            ("list_1.csv", write_csv, args.csv_rows),
        ):
            path = Path(tmp) / name
            start = time.perf_counter()
            write(path, rows)
            written = time.perf_counter() - start
            runs = [time_read(path) for _ in range(args.repeat)]
            best, cpu, read = min(runs)
            size_mb = path.stat().st_size / 1e6
            print(
                f"{name}: {read:,} rows ({size_mb:.1f} MB, written in {written:.1f} s): best {best:.2f} s"
                f" (CPU {cpu:.2f} s) of {args.repeat} -> {read / best:,.0f} rows/s;"
                f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
            )


if __name__ == "__main__":
    main()
