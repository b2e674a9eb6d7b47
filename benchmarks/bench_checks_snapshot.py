"""Time a load's checks step alone, at any scale: a store snapshot taken just before the checks, validated on copies.

Run (national scale under the shared lock: `flock /work/bench.lock …`):
  .venv/bin/python -m benchmarks.bench_checks_snapshot snapshot SEED.duckdb SNAP/s.duckdb [FILE...]
  .venv/bin/python -m benchmarks.bench_checks_snapshot run SNAP/s.duckdb [--warm] [--dump DIR]
  .venv/bin/python -m benchmarks.bench_checks_snapshot reads SNAP/s.duckdb [--repeat N]
`snapshot` loads FILEs (default: the national month of bench_monthly_load, written from the seed) into a copy of
SEED with the loaders, but where the load would run its checks it keeps the merge's table of what the load touched
(as `_snapshot_changes`) and the loads to check, and publishes without checking. `run` copies the snapshot, runs
`expectations.runner.validate_store` on the copy as the load would (GE imported first, Data Docs built) and prints
wall and CPU seconds and the load average; `--dump` writes the dq tables it stored (Parquet, sorted) to compare two
trees' results; `--warm` first reads the tables a load's merge and derived tables have read, so DuckDB's buffer
pool holds them as in the load (a fresh process otherwise scans them from the file). The copy is committed once
before the clock starts, as a load's merge has committed its work copy before the checks. Each `run` starts from the same state, so runs of two trees alternate on one snapshot.
`reads` opens the snapshot read-only, scopes the checks as a load's run would, and prints the CPU and wall seconds of
the reads the checks step cannot do without (the touched children's rows found by their text child ids) beside the
consistency checks' shared table and the key check of contacts that are made of them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.duckdb_limit import DEFAULT_LIMIT, cap

CHANGES = "_snapshot_changes"
LOADS = "_snapshot_loads"
DUMPS = {
    "dq_results": "SELECT * EXCLUDE (run_at) FROM dq_results ORDER BY ALL",
    "dq_failures": "SELECT * FROM dq_failures ORDER BY ALL",
    "dq_failing_units": "SELECT * FROM dq_failing_units ORDER BY ALL",
    "dq_checked_units": "SELECT * FROM dq_checked_units ORDER BY ALL",
    "dq_check_state": "SELECT * FROM dq_check_state ORDER BY ALL",
}


def snapshot(seed: Path, out: Path, files: list[Path]) -> None:
    """Load `files` (default the national month) into a copy of `seed` at `out`, kept as it is before the checks."""
    import pandas as pd

    import expectations.runner as runner
    from benchmarks.bench_monthly_load import write_month
    from ingest.pipeline import load_files

    def keep_what_the_checks_get(con: Any, load_id: int | None, *_: Any, **kwargs: Any) -> pd.DataFrame:
        con.execute(f"CREATE OR REPLACE TABLE {CHANGES} AS SELECT * FROM {kwargs['changes']}")
        con.execute(
            f"CREATE OR REPLACE TABLE {LOADS} AS SELECT ? AS load_id, ? AS new_loads", [load_id, kwargs["new_loads"]]
        )
        return pd.DataFrame()

    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(seed.resolve(), out)
    validate = runner.validate_store
    runner.validate_store = keep_what_the_checks_get
    try:
        with tempfile.TemporaryDirectory() as folder:
            load_files(files or write_month(out.resolve(), Path(folder)), store=out, validate=True)
    finally:
        runner.validate_store = validate


WARMED = ("contacts", "referrals", "assessments", "cin_episodes", "recordings", "dq_failing_units")
"""With `--warm`, these tables and their `*_versions` are read (every column) before the step is timed."""


def _warm(con: Any) -> None:
    """Leave in DuckDB's buffer pool what a load's merge and derived tables leave there before its checks."""
    tables = [*WARMED, *(f"{t}_versions" for t in WARMED if t != "dq_failing_units")]
    for table in tables:
        columns = [row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()]
        con.execute(f"SELECT {', '.join(f'count({c})' for c in columns)} FROM {table}").fetchall()


def run(snap: Path, dump: Path | None, warm: bool = False) -> None:
    """The checks step on a copy of the snapshot (with a warmed buffer pool when `warm`): its wall and CPU seconds;
    the dq tables it stored into `dump`."""
    import expectations.suites  # noqa: F401  (Great Expectations imported first, as a load imports it beside the merge)
    from expectations.runner import validate_store
    from store.connection import _open_work_copy, create_schema

    with tempfile.TemporaryDirectory(prefix="bench-checks-snapshot-") as folder:
        con = _open_work_copy(snap, Path(folder) / "s.duckdb")
        create_schema(con)  # as a load opens its work copy (a snapshot made by an older build lacks tables)
        load_id, new_loads = con.execute(f"SELECT load_id, new_loads FROM {LOADS}").fetchall()[0]
        con.execute(f"CREATE OR REPLACE TEMP TABLE _changes AS SELECT * FROM {CHANGES}")
        # a commit now writes the fresh copy out (1.0-1.5 s at national scale), which the step's own commit would
        # otherwise pay for; in a load the merge's commits have done so before the checks
        con.execute("CREATE TABLE _bench_flush AS SELECT 1 AS a")
        con.execute("DROP TABLE _bench_flush")
        if warm:
            _warm(con)
        load = os.getloadavg()[0]
        wall, cpu = time.perf_counter(), time.process_time()
        validate_store(con, load_id, Path(folder) / "docs", changes="_changes", new_loads=list(new_loads))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"checks step: {wall:.2f} s wall, {cpu:.2f} s CPU; load average {load:.2f} -> {os.getloadavg()[0]:.2f}")
        if dump is not None:
            dump.mkdir(parents=True, exist_ok=True)
            for name, sql in DUMPS.items():
                con.execute(f"COPY ({sql}) TO '{dump / name}.parquet'")
        con.close()


def _timed(con: Any, name: str, sql: str) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    found = con.execute(sql).fetchall()[0][0]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{name}: {cpu:.2f} s CPU, {wall:.2f} s wall ({found} rows)", flush=True)


def reads(snap: Path, repeat: int) -> None:
    """The CPU of the scoped reads under the checks step, each statement timed on the snapshot (see the module's doc)."""
    from dataclasses import replace

    import duckdb

    from expectations import incremental, sql_checks
    from expectations.model import CheckParams
    from store.schema import ENTITIES

    con = duckdb.connect(str(snap), read_only=True)
    load_id = con.execute(f"SELECT load_id FROM {LOADS}").fetchall()[0][0]
    p = replace(CheckParams.from_store(con, load_id=load_id), scope=incremental.build_scope(con, CHANGES))
    versions = " + ".join(
        f"(SELECT count(*) FROM {t}_versions WHERE {p.children_in_scope('child_id')})"
        for t in sql_checks.ETHNICITY_TABLES
    )
    key = ", ".join(ENTITIES["contacts"].natural_key)
    statements = {
        "child ids of contacts hashed (no join)": "SELECT count(*) FROM contacts WHERE hash(child_id) % 7 = 0",
        "touched children's rows of contacts": f"SELECT count(*) FROM {p.rows('contacts')}",
        "contacts' repeated keys (key_unique)": f"SELECT count(*) FROM (SELECT {key} FROM {p.rows('contacts')}"
        f" GROUP BY ALL HAVING count(*) > 1)",
        "touched children's version rows, four tables": f"SELECT {versions}",
        "the consistency checks' shared table": f"SELECT count(*) FROM ({sql_checks._child_attributes_sql(p)})",
    }
    print(f"load average {os.getloadavg()[0]:.2f}")
    for _ in range(repeat):
        for name, sql in statements.items():
            _timed(con, name, sql)
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory-limit", default=DEFAULT_LIMIT, help="DuckDB memory_limit (shared machine)")
    steps = parser.add_subparsers(dest="step", required=True)
    take = steps.add_parser("snapshot", help="a seed store with a load merged, as its checks would find it")
    take.add_argument("seed", type=Path)
    take.add_argument("out", type=Path)
    take.add_argument("files", type=Path, nargs="*")
    check = steps.add_parser("run", help="the checks step on a copy of a snapshot")
    check.add_argument("snapshot", type=Path)
    check.add_argument("--dump", type=Path)
    check.add_argument("--warm", action="store_true", help="read the store's tables first, as a load's merge has")
    probe = steps.add_parser("reads", help="the scoped reads under the checks step, timed (read-only)")
    probe.add_argument("snapshot", type=Path)
    probe.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    cap(args.memory_limit)
    if args.step == "snapshot":
        snapshot(args.seed, args.out, args.files)
    elif args.step == "reads":
        reads(args.snapshot, args.repeat)
    else:
        run(args.snapshot, args.dump, args.warm)


if __name__ == "__main__":
    main()
