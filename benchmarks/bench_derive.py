"""Benchmark the derived tables and summaries of a publish: per step, at tiny, council or national scale.

Run:
  python -m benchmarks.bench_derive tiny [--loads 20]
      each publish's build_derived + build_summaries on the dashboard test fixture's store (the test suite's case)
  python -m benchmarks.bench_derive snapshot SEED OUT FILE...
      load FILE... into a copy of SEED and save it at OUT as it stands just before the derived tables are built
      (merged, derived tables and summaries as the load before left them; the merge's changes in
      `_bench_changes`, the new loads in `_bench_new_loads`)
  python -m benchmarks.bench_derive run SNAPSHOT [--repeat 3] [--as-current]
      on a fresh copy of SNAPSHOT each time: build_derived + build_summaries as that publish runs them,
      wall and CPU seconds of each builder, and the commit. `--as-current` first notes in the copy that its
      derived tables were built with this tree's definitions (store.derived_built), so a tree whose edits give
      the same tables is timed on its incremental path, not a full rebuild: only after proving them identical
At national scale run `snapshot` and `run` under the shared lock (`flock /work/bench.lock …`); DuckDB's memory
is capped (`--memory-limit`, default 8GB).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from benchmarks.duckdb_limit import DEFAULT_LIMIT, cap
from store import derive, summary

_BUILDERS = ("build_children", "build_closure_facts", "build_referral_facts", "build_assessment_facts")
_BUILDERS += ("build_recording_facts", "build_contact_facts")


def _timed(steps: dict[str, list[float]], name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            steps.setdefault(name, [0.0, 0.0])
            steps[name][0] += time.perf_counter() - wall
            steps[name][1] += time.process_time() - cpu

    return run


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def snapshot(seed: Path, out: Path, files: list[Path]) -> None:
    """The store just before a publish's derived tables: see the module docstring."""
    from ingest.merge import CHANGES
    from ingest.pipeline import load_files

    def keep_changes(con: duckdb.DuckDBPyConnection, changes: str | None = None, new_loads: Any = None) -> None:
        # the loads this publish brings, also when the publish would rebuild in full (a seed derived with other
        # definitions than this tree's passes none): the loads the seed did not have
        con.execute(f"CREATE OR REPLACE TABLE _bench_changes AS SELECT * FROM {CHANGES}")
        con.execute("CREATE OR REPLACE TABLE _bench_new_loads AS SELECT load_id FROM loads WHERE load_id > ?", [last])

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "store.duckdb"
        shutil.copyfile(seed.resolve(), work)
        with duckdb.connect(str(work), read_only=True) as con:
            last = (con.execute("SELECT coalesce(max(load_id), 0) FROM loads").fetchone() or (0,))[0]
        derive.build_derived = keep_changes  # type: ignore[assignment]
        summary.build_summaries = lambda *_args, **_kwargs: None  # type: ignore[assignment]
        summaries = load_files(files, store=work, validate=False)
        shutil.copyfile(work.resolve(), out)
    print(f"{out}: {[s.status for s in summaries]}")


def run(path: Path, repeat: int, as_current: bool = False) -> None:
    """Time each builder of build_derived, build_summaries and the commit on fresh copies of a snapshot."""
    from store import derived_built
    from store.connection import one_commit

    steps: dict[str, list[float]] = {}
    for name in _BUILDERS:
        setattr(derive, name, _timed(steps, name, getattr(derive, name)))
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeat):
            steps.clear()
            work = Path(tmp) / "store.duckdb"
            shutil.copyfile(path.resolve(), work)
            con = duckdb.connect(str(work))
            if as_current:
                derived_built.record(con)
                con.execute("CHECKPOINT")
            con.execute("CREATE TEMP TABLE _merge_changes AS SELECT * FROM _bench_changes")
            new_loads = [r[0] for r in con.execute("SELECT load_id FROM _bench_new_loads").fetchall()]
            wall, cpu = time.perf_counter(), time.process_time()
            with one_commit(con):
                _timed(steps, "build_derived (all)", derive.build_derived)(con, "_merge_changes", new_loads)
                _timed(steps, "build_summaries", summary.build_summaries)(con, "_merge_changes", new_loads)
            total = time.perf_counter() - wall, time.process_time() - cpu
            con.close()
            print(f"derived tables, summaries and commit: {total[0]:.2f} s wall, {total[1]:.2f} s CPU; load {_load()}")
            for name, (w, c) in steps.items():
                print(f"  {name:24s} {w:7.2f} s wall {c:7.2f} s CPU")


def tiny(loads: int) -> None:
    """Each publish's derived tables and summaries on the dashboard fixture's store (milliseconds per publish)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from tests.storekit import build_store
    from tests.test_dashboard_fixture import fixture_rows

    with tempfile.TemporaryDirectory() as tmp:
        store = build_store(Path(tmp) / "store.duckdb", fixture_rows())
        con = duckdb.connect(str(store.resolve()), config={"threads": 1})
        for label, publish in (
            ("build_derived", lambda: derive.build_derived(con)),
            ("build_summaries", lambda: summary.build_summaries(con)),
        ):
            publish()
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(loads):
                publish()
            ms = [(time.perf_counter() - wall) / loads * 1000, (time.process_time() - cpu) / loads * 1000]
            print(f"{label:16s} {ms[0]:7.1f} ms wall {ms[1]:7.1f} ms CPU per publish")
    print(f"load average {_load()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory-limit", default=DEFAULT_LIMIT, help="DuckDB memory_limit (shared machine)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("tiny").add_argument("--loads", type=int, default=20)
    snap = sub.add_parser("snapshot")
    snap.add_argument("seed", type=Path)
    snap.add_argument("out", type=Path)
    snap.add_argument("files", type=Path, nargs="+")
    timing = sub.add_parser("run")
    timing.add_argument("snapshot", type=Path)
    timing.add_argument("--repeat", type=int, default=3)
    timing.add_argument("--as-current", action="store_true", help="time this tree's incremental path (see above)")
    args = parser.parse_args()
    cap(args.memory_limit)
    if args.command == "tiny":
        tiny(args.loads)
    elif args.command == "snapshot":
        snapshot(args.seed, args.out, args.files)
    else:
        run(args.snapshot, args.repeat, args.as_current)


if __name__ == "__main__":
    main()
