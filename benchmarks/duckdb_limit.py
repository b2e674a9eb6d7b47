"""Cap the memory of every DuckDB database a benchmark opens, in its own process and in a `python -m` it starts.

The machine is shared, so a national-scale run must not take DuckDB's default (80% of RAM).
`cap(limit)` makes every later `duckdb.connect` in this process use `memory_limit = limit`;
`command(limit, module, args)` is the command line that runs `python -m module args` the same way:

    python -m benchmarks.duckdb_limit 8GB ingest FILE... --store STORE
"""

from __future__ import annotations

import os
import resource
import runpy
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

DEFAULT_LIMIT = "8GB"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
_connect = duckdb.connect


def cap(limit: str = DEFAULT_LIMIT) -> None:
    """Every later `duckdb.connect` in this process opens its database with `memory_limit = limit`."""

    def connect(database: Any = ":memory:", read_only: bool = False, config: dict[str, Any] | None = None) -> Any:
        return _connect(database, read_only=read_only, config={"memory_limit": limit, **(config or {})})

    duckdb.connect = connect


def command(limit: str, module: str, args: list[str]) -> list[str]:
    """The command line of `python -m module args` with its DuckDB memory capped at `limit`."""
    return [sys.executable, "-m", "benchmarks.duckdb_limit", limit, module, *args]


def timed_ingest(args: list[str], limit: str) -> tuple[float, float, str]:
    """Wall and CPU seconds of `python -m ingest ARGS` as a new process (memory capped), and what it printed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        command(limit, "ingest", args),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"python -m ingest failed ({done.returncode}): {done.stderr.strip().splitlines()[-1:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, done.stdout.strip()


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        raise SystemExit("usage: python -m benchmarks.duckdb_limit LIMIT MODULE [ARGS...]")
    limit, module, *args = argv
    cap(limit)
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
