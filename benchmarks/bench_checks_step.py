"""Time one load and its checks step: `python -m ingest FILES --store COPY` run in this process, validate_store timed.

Run: .venv/bin/python -m benchmarks.bench_checks_step --store SEED.duckdb [--repeat 2] FILE...
Copies the (already validated) store to a temporary folder each time, loads the files into the copy as
`python -m ingest` does (this process starts with nothing of the loaders imported; the checks and Data
Docs on), and prints wall and CPU seconds (the process and its threads) of the whole load and of the
checks step (`expectations.runner.validate_store`), with the load average: on a shared machine compare
CPU as well as wall. E.g. the council month of issue 13:
`--store /work/bench-data/cm/seed/s.duckdb /work/bench-data/cm/month.xlsx`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import runpy
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _timed_load(seed: Path, files: list[str]) -> dict[str, float]:
    import expectations.runner as runner

    spent: dict[str, float] = {}
    validate = runner.validate_store

    def timed_validate(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return validate(*args, **kwargs)
        finally:
            spent.update(checks_wall=time.perf_counter() - wall, checks_cpu=time.process_time() - cpu)

    with tempfile.TemporaryDirectory(prefix="bench-checks-") as folder:
        store = Path(folder) / "s.duckdb"
        shutil.copyfile(seed.resolve(), store)
        runner.validate_store = timed_validate
        argv, sys.argv = sys.argv, ["ingest", *files, "--store", str(store)]
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
                runpy.run_module("ingest", run_name="__main__")
        finally:
            sys.argv, runner.validate_store = argv, validate
        spent.update(load_wall=time.perf_counter() - wall, load_cpu=time.process_time() - cpu)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True, help="a validated store, copied for each run")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    for run in range(1, args.repeat + 1):
        s = _timed_load(args.store, args.files)
        print(
            f"run {run}: whole load {s['load_wall']:.2f} s wall, {s['load_cpu']:.2f} s CPU;"
            f" checks {s.get('checks_wall', 0):.2f} s wall, {s.get('checks_cpu', 0):.2f} s CPU;"
            f" load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
