"""A load's timeline as a user runs it, checks on: when each step starts and when the checks' import is done.

Run: .venv/bin/python -m benchmarks.bench_load_timeline FILE... [--from STORE] [--no-validate]
Copies STORE (never changed; without it: a new store, an initial load) and loads the files into it in this
process, as `python -m ingest`
does (the Great Expectations import in its background thread, started by the publish), printing wall
and CPU seconds (the process and its threads) at each of the loader's progress messages and when
the checks' import finishes. The load's critical path shows:
if the import finishes after the loader reaches the checks, the import is what the load waits for.
Run it as a new process (`python -m`): an earlier import in the same process would hide the imports' cost.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import tempfile
import time
from pathlib import Path

from ingest.publish import CHECKS_MODULE

STARTED_WALL, STARTED_CPU = time.perf_counter(), time.process_time()


def mark(message: str) -> None:
    """One line of the timeline: wall and CPU seconds since the process started timing."""
    wall, cpu = time.perf_counter() - STARTED_WALL, time.process_time() - STARTED_CPU
    print(f"| {wall:6.2f} | {cpu:6.2f} | {message} |", flush=True)


def _import_checks() -> None:
    importlib.import_module(CHECKS_MODULE)
    mark("(background) the checks' import is done")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument(
        "--from", dest="source", type=Path, help="the store to load into a copy of (default: a new store)"
    )
    parser.add_argument("--no-validate", action="store_true", help="checks off")
    args = parser.parse_args(argv)
    print("| wall s | CPU s | step |\n|---:|---:|---|")
    import ingest.publish

    ingest.publish._import_checks = _import_checks  # the same import, marked when it is done
    from ingest.pipeline import load_files

    mark("the loader's imports are done")
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "s.duckdb"
        if args.source:
            shutil.copyfile(args.source.resolve(), store)
            mark("the store is copied")
        summaries = load_files(args.files, store=store, progress=mark, validate=not args.no_validate)
        mark("done")
    print(f"load average {os.getloadavg()[0]:.2f}; " + "; ".join(f"{s.file}: {s.status}" for s in summaries))
    from benchmarks.bench_csv_floor import reference_line  # after the load: its imports are not the load's

    print(reference_line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
