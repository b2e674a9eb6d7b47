"""A council's month: a 50,000-row Annex A workbook loaded into a five-year council store, checks on.

Run: .venv/bin/python -m benchmarks.bench_council_month [--scale 0.01] [--rows 50000] [--store DIR/s.duckdb]
Builds a five-year council store with the national builder at `--scale` (0.01: a council is about
a hundredth of England; benchmarks/national_store.py, about 20 s) unless `--store` names one already
built, copies it, validates the copy once on the whole store and keeps the results (`python -m
expectations validate --save --no-docs`: as after any load, the checks' earlier results are there),
and writes one month's Annex A workbook (.xlsx: sheets List 1, 3, 4 and 6, a title
row each) as a council sends it: the new month's contacts, referrals, assessments and CIN episodes
(a sixtieth of the store's five years, on its children) and, to make up `--rows`, the latest rows
of each list already in the store, sent again unchanged as a rolling extract does. Then it times
`python -m ingest WORKBOOK --store COPY` as a user runs it (a new process, imports included, data
quality checks and Data Docs on): wall and CPU seconds (the process and its threads), with the load
average. The target of issue 13: at most 5 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import xlsxwriter

from benchmarks.duckdb_limit import DEFAULT_LIMIT, command, timed_ingest
from benchmarks.national_store import AS_OF, SIZES, build_national_store

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MONTH = (dt.date(2025, 4, 1), dt.date(2025, 4, 30))  # the month after the store's as-of date
_CHILD = """child_id AS "Child Unique ID", sex AS "Gender", ethnicity AS "Ethnicity",
            date_of_birth AS "Date of Birth\""""
_STAFF = """team AS "Allocated Team", worker AS "Allocated Worker\""""
_YES_NO = "CASE WHEN {0} THEN 'Yes' WHEN NOT {0} THEN 'No' END"

# sheet -> (canonical table, its date column, the sheet's columns from that table, the new month's rows)
LISTS: dict[str, tuple[str, str, str, str]] = {
    "List 1": (
        "contacts",
        "contact_date",
        f"""{_CHILD}, contact_date AS "Date of Contact", contact_source AS "Contact Source\"""",
        """SELECT child_id, sex, ethnicity, date_of_birth, day AS contact_date, '3A' AS contact_source""",
    ),
    "List 3": (
        "referrals",
        "referral_date",
        f"""{_CHILD}, referral_date AS "Date of Referral", referral_source AS "Referral Source",
            {_YES_NO.format("nfa")} AS "Referral NFA?", {_STAFF}""",
        """SELECT child_id, sex, ethnicity, date_of_birth, day AS referral_date, '3A' AS referral_source,
                  i % 12 = 0 AS nfa, 'Team ' || i % 60 AS team, 'Worker ' || i % 3000 AS worker""",
    ),
    "List 4": (
        "assessments",
        "start_date",
        f"""{_CHILD}, start_date AS "Continuous Assessment Start Date",
            {_YES_NO.format("child_seen")} AS "Child Seen During Continuous Assessment",
            authorised_date AS "Continuous Assessment Date of Authorisation", {_STAFF}""",
        f"""SELECT child_id, sex, ethnicity, date_of_birth, day AS start_date, i % 10 > 0 AS child_seen,
                  CASE WHEN i % 3 = 0 THEN least(day + 20, DATE '{MONTH[1]}') END AS authorised_date,
                  'Team ' || i % 60 AS team, 'Worker ' || i % 3000 AS worker""",
    ),
    "List 6": (
        "cin_episodes",
        "start_date",
        f"""{_CHILD}, start_date AS "CIN Start Date", primary_need AS "Primary Need Code",
            closure_date AS "CIN Closure Date", closure_reason AS "Reason for Closure", {_STAFF}""",
        """SELECT child_id, sex, ethnicity, date_of_birth, day AS start_date, 'N1' AS primary_need,
                  NULL::DATE AS closure_date, NULL AS closure_reason,
                  'Team ' || i % 60 AS team, 'Worker ' || i % 3000 AS worker""",
    ),
}


def _new_month(con: duckdb.DuckDBPyConnection, table: str, new_sql: str, rows: int) -> str:
    """A TEMP table of the month's new rows for `table`: existing children, days across the month."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE new_{table} AS {new_sql}
            FROM (SELECT i, CAST(DATE '{MONTH[0]}' + CAST(i % 30 AS INTEGER) AS DATE) AS day,
                         (SELECT count(*) FROM store.children) AS n FROM range({rows}) t(i)) r
            JOIN (SELECT child_id, sex, ethnicity, date_of_birth,
                         row_number() OVER (ORDER BY child_id) - 1 AS k FROM store.children) c
              ON c.k = hash(r.i, '{table}') % r.n"""
    )
    return f"new_{table}"


def month_rows(store: Path, rows: int) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    """Sheet -> (headings, rows): the month's new rows and the latest stored rows sent again, `rows` in all."""
    total = sum(SIZES[table] for table, *_ in LISTS.values())
    con = duckdb.connect(config={"memory_limit": DEFAULT_LIMIT})
    con.execute(f"ATTACH '{store.resolve()}' AS store (READ_ONLY)")
    sheets: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}
    for sheet, (table, date_column, columns, new_sql) in LISTS.items():
        share = (
            round(rows * SIZES[table] / total) if sheet != "List 6" else rows - sum(len(r) for _, r in sheets.values())
        )
        stored = con.execute(f"SELECT count(*) FROM store.{table}").fetchone()
        new = min(share, max(1, round((stored[0] if stored else 0) / 60)))  # five years is sixty months
        fresh = _new_month(con, table, new_sql, new)
        relation = con.execute(
            f"""SELECT {columns} FROM (
                    SELECT * FROM {fresh}
                    UNION ALL BY NAME
                    (SELECT * FROM store.{table} ORDER BY {date_column} DESC, child_id LIMIT {share - new}))"""
        )
        sheets[sheet] = ([d[0] for d in relation.description], relation.fetchall())
    con.close()
    return sheets


def write_workbook(path: Path, sheets: dict[str, tuple[list[str], list[tuple[Any, ...]]]]) -> int:
    """An Annex A workbook with one sheet per list (title row, headings, rows); returns the data rows written."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    date_format = book.add_format({"num_format": "dd/mm/yyyy"})
    written = 0
    for sheet_name, (headings, rows) in sheets.items():
        sheet = book.add_worksheet(sheet_name)
        sheet.write_string(0, 0, f"{sheet_name}: extract to {MONTH[1]:%d/%m/%Y}")
        sheet.write_row(1, 0, headings)
        for r, row in enumerate(rows, start=2):
            for c, value in enumerate(row):
                if isinstance(value, dt.date):
                    sheet.write_datetime(r, c, dt.datetime(value.year, value.month, value.day), date_format)
                elif value is not None:
                    sheet.write_string(r, c, str(value))
        written += len(rows)
    book.close()
    return written


def validate_once(store: Path, limit: str) -> None:
    """Run every check on the store and keep the results, as every publish of a real store has."""
    done = subprocess.run(
        command(limit, "expectations", ["validate", "--save", "--no-docs", "--store", str(store)]),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    if done.returncode != 0:
        raise SystemExit(f"validating the council store failed ({done.returncode}): {done.stderr.strip()[-300:]}")


def timed_load(workbook: Path, store: Path, limit: str) -> tuple[float, float, str]:
    """Wall and CPU seconds of `python -m ingest WORKBOOK --store STORE` as a new process, and what it printed."""
    return timed_ingest([str(workbook), "--store", str(store)], limit)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.01, help="the council store's size as a share of England")
    parser.add_argument("--rows", type=int, default=50_000, help="data rows in the month's workbook")
    parser.add_argument("--store", type=Path, help="a council store already built at --scale (kept as it is)")
    parser.add_argument(
        "--memory-limit", default=DEFAULT_LIMIT, help="DuckDB memory_limit of the load (shared machine)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = args.store or folder / "council" / "s.duckdb"
        if not source.exists():
            started = time.perf_counter()
            build_national_store(source, args.scale)
            print(f"council store built at scale {args.scale:g} in {time.perf_counter() - started:.1f} s")
        store = folder / "store" / "s.duckdb"
        store.parent.mkdir()
        shutil.copyfile(source.resolve(), store)
        validate_once(store, args.memory_limit)
        workbook = folder / f"annex_a_{MONTH[1]:%Y-%m}.xlsx"
        started = time.perf_counter()
        rows = write_workbook(workbook, month_rows(store, args.rows))
        print(
            f"workbook: {rows:,} rows on 4 lists, {workbook.stat().st_size / 1e6:.1f} MB, written in"
            f" {time.perf_counter() - started:.1f} s; store: {store.stat().st_size / 1e6:,.0f} MB"
            f" (five years to {AS_OF:%d/%m/%Y}, scale {args.scale:g})"
        )
        load_before = os.getloadavg()
        wall, cpu, said = timed_load(workbook, store, args.memory_limit)
        load_after = os.getloadavg()
    print(f"`python -m ingest WORKBOOK --store STORE` (checks on, DuckDB memory_limit {args.memory_limit}) said:")
    print("\n".join(f"    {line}" for line in said.splitlines()))
    print("| council month, checks on | wall (s) | CPU (s) | load average before / after |\n|---|---:|---:|---|")
    print(
        f"| {rows:,}-row Annex A workbook into the five-year council store | {wall:.2f} | {cpu:.2f} |"
        f" {load_before[0]:.2f} / {load_after[0]:.2f} |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
