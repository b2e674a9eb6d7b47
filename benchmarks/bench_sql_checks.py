"""Time each statement of a load's SQL checks thread on a national store after a month's merge, before its checks.

Run (at national scale under the shared lock, `flock /work/bench.lock ...`):
  .venv/bin/python -m benchmarks.bench_sql_checks prepare SEED.duckdb OUT.duckdb [--scale 1.0]
  .venv/bin/python -m benchmarks.bench_sql_checks time OUT.duckdb
`prepare` copies SEED (validated by the code under test: a check whose definition changed re-runs on the whole
store), writes the national month of benchmarks/bench_monthly_load.py, and loads it with the loaders as far as the
checks: the merge's table of changes (ingest.merge.CHANGES) is kept in OUT as `_bench_changes`. `time` opens OUT
read-only, scopes the checks as `validate_store` would, runs the SQL checks thread alone
(`expectations.runner._run_sql_checks`) timing every statement, and prints the slowest statements, the thread's wall
and CPU seconds with the load average, and a digest of what it found (results, failing and checked rows per unit):
equal digests from the old code and the new mean the same results.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import tempfile
import time
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb

from benchmarks.duckdb_limit import DEFAULT_LIMIT, cap

CHANGES_KEPT = "_bench_changes"
LOADS_KEPT = "_bench_loads"


def prepare(seed: Path, out: Path, scale: float) -> None:
    """OUT: SEED with the month merged and derived, unchecked, the merge's changes kept (see the module's doc)."""
    import expectations.runner as runner
    from benchmarks.bench_monthly_load import write_month
    from ingest.pipeline import load_files

    def keep_changes(con: duckdb.DuckDBPyConnection, load_id: int | None, *_: Any, **kw: Any) -> None:
        con.execute(f"CREATE TABLE {CHANGES_KEPT} AS SELECT * FROM {kw['changes']}")
        con.execute(f"CREATE TABLE {LOADS_KEPT} AS SELECT ? AS load_id, ? AS new_loads", [load_id, kw["new_loads"]])

    runner.validate_store = keep_changes  # type: ignore[assignment]  # the load stops where its checks would start
    with tempfile.TemporaryDirectory() as folder:
        shutil.copyfile(seed.resolve(), out)
        load_files(write_month(out, Path(folder), scale), store=out, validate=True)


class _Timed:
    """A connection whose `execute` is timed (and its result fetched at once), with the calling functions."""

    def __init__(self, con: duckdb.DuckDBPyConnection, log: list[tuple[float, float, str, str]]) -> None:
        self.con, self.log = con, log

    def __getattr__(self, name: str) -> Any:
        return getattr(self.con, name)

    def execute(self, sql: str, *args: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        result = self.con.execute(sql, *args)
        rows = result.fetchall() if result.description else []
        callers = "/".join(f.name for f in traceback.extract_stack()[-3:-1])
        self.log.append((time.perf_counter() - wall, time.process_time() - cpu, callers, " ".join(sql.split())))
        return _Fetched(rows)


class _Fetched:
    def __init__(self, rows: list[tuple]) -> None:
        self.rows = rows

    def fetchall(self) -> list[tuple]:
        return self.rows


def time_sql_checks(store: Path, shown: int) -> None:
    """Run the SQL checks thread alone on a prepared store; print its slowest statements and a digest of its results."""
    from expectations import incremental, runner
    from expectations.checks import REGISTRY
    from expectations.model import CheckParams

    con = duckdb.connect(str(store), read_only=True)
    load_id, new_loads = con.execute(f"SELECT load_id, new_loads FROM {LOADS_KEPT}").fetchall()[0]
    params = CheckParams.from_store(con, load_id=load_id)
    checks = list(REGISTRY.values())
    scoped = incremental.carried_checks(con, checks, params, list(new_loads))
    params = replace(params, scope=incremental.build_scope(con, CHANGES_KEPT))
    cursor = con.cursor()
    incremental.share_scope(con, cursor, params.scope)
    log: list[tuple[float, float, str, str]] = []
    results: list[dict] = []
    load, wall, cpu = os.getloadavg()[0], time.perf_counter(), time.process_time()
    runner._run_sql_checks(_Timed(cursor, log), params, checks, scoped, results, {})  # type: ignore[arg-type]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"SQL checks thread: {wall:.2f} s wall, {cpu:.2f} s CPU; load average {load:.2f} -> {os.getloadavg()[0]:.2f};"
    )
    print(f"{len(scoped)} checks re-run on what the month touched, {len(log)} statements; the slowest (wall, CPU):")
    for w, c, callers, sql in sorted(log, reverse=True)[:shown]:
        print(f"| {w:6.2f} | {c:6.2f} | {callers} | {sql[:110]} |")
    counts = sorted((r["check_id"], r["element_count"], r["unexpected_count"]) for r in results)
    digest = hashlib.sha256(json.dumps(counts, default=str).encode())
    for table in (incremental.RUN_FAILING, incremental.RUN_CHECKED):
        for row in cursor.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall():
            digest.update(repr(row).encode())
    print(f"results digest {digest.hexdigest()[:16]} ({sum(1 for c in counts if c[2])} checks failing)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    prep = sub.add_parser("prepare", help="a store after a month's merge, before its checks")
    prep.add_argument("seed", type=Path)
    prep.add_argument("out", type=Path)
    prep.add_argument("--scale", type=float, default=1.0, help="the seed's scale (benchmarks/national_store.py)")
    timing = sub.add_parser("time", help="the SQL checks thread alone on a prepared store")
    timing.add_argument("store", type=Path)
    timing.add_argument("--shown", type=int, default=12, help="how many of the slowest statements to print")
    parser.add_argument("--memory-limit", default=DEFAULT_LIMIT, help="DuckDB memory_limit (shared machine)")
    args = parser.parse_args()
    cap(args.memory_limit)
    if args.command == "prepare":
        prepare(args.seed, args.out, args.scale)
    else:
        time_sql_checks(args.store, args.shown)


if __name__ == "__main__":
    main()
