"""`python -m ingest FILE... [--store PATH] [--as-of YYYY-MM-DD]`: load extracts and print what changed."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import gc
import os
import sys
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from ingest.pipeline import LoadSummary


def _parse_date(text: str) -> date:
    try:
        given = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date in the form YYYY-MM-DD") from None
    if given > date.today():
        raise argparse.ArgumentTypeError(f"{given} is after today: an extract cannot be as of a later date")
    return given


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ingest",
        description="Load Annex A workbooks or CSVs, CIN census XML and case-recording CSVs into the store.",
    )
    parser.add_argument(
        "files", nargs="+", type=Path, metavar="FILE", help="extract files (format detected from content)"
    )
    parser.add_argument(
        "--store", type=Path, default=None, help="store path (else $FRONTDOOR_STORE; one of them is required)"
    )
    parser.add_argument(
        "--as-of",
        type=_parse_date,
        default=None,
        dest="as_of",
        help="as-of date of the extracts (default: a CIN census file's ReferenceDate, else"
        " each file's latest event date not after today)",
    )
    parser.add_argument("--no-validate", action="store_true", help="skip the data quality checks (not recommended)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def format_summary(summaries: list[LoadSummary]) -> str:
    """The end-of-load summary: one line per file, then totals."""
    lines = []
    for s in summaries:
        if s.status == "failed":
            lines.append(f"FAILED     {s.error}")
            continue
        if s.status == "unchanged":
            lines.append(f"unchanged  {s.file}: {'; '.join(s.notices)}")
            continue
        tables = ", ".join(f"{n} {t}" for t, n in s.rows.items()) or "no rows"
        lines.append(
            f"loaded     {s.file} [{s.format}, as of {s.as_of}, load {s.load_id}]: {tables}; "
            f"rejected {s.rejected}, superseded {s.superseded}, replaced {s.replaced}, unchanged {s.unchanged}"
        )
        lines.append(f"           {s.rows_read} rows read = {sum(s.rows.values())} loaded + {s.rejected} rejected")
        lines += [f"           notice: {n}" for n in s.notices]
    loaded = [s for s in summaries if s.status == "loaded"]
    lines.append(
        f"{len(loaded)} loaded, {sum(s.status == 'unchanged' for s in summaries)} unchanged, "
        f"{sum(s.status == 'failed' for s in summaries)} failed; rows: {sum(sum(s.rows.values()) for s in loaded)}, "
        f"rejected: {sum(s.rejected for s in loaded)}, superseded: {sum(s.superseded for s in loaded)}, "
        f"unchanged: {sum(s.unchanged for s in loaded)}"
    )
    return "\n".join(lines)


def _failure(err: Exception, target: Path) -> str:
    """One line on a load that failed as a whole (the store is unchanged)."""
    from store.connection import StoreNotFound, is_disk_full

    if is_disk_full(err):
        return (
            f"no space left on the disk holding the store ({target.parent}): the load failed and the store"
            " is unchanged; free some space and load again"
        )
    if isinstance(err, StoreNotFound):
        return str(err).strip().splitlines()[0]
    if isinstance(err, PermissionError):
        return f"permission denied writing {err.filename or target}: the load failed and the store is unchanged"
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return f"the load failed and the store at {target} is unchanged ({type(err).__name__}: {text})"


SMALL_LOAD_BYTES = 128 * 1024**2  # a store and extracts under this in all (a council): one DuckDB thread


def _bytes(path: Path) -> int:
    try:
        return path.stat().st_size  # the published version a store's link points at
    except OSError:
        return 0  # not there (yet): the loader reports a missing extract in its own words


@contextlib.contextmanager
def duckdb_threads_for(files: list[Path], store: Path) -> Iterator[None]:
    """While a small load runs (store and extracts under SMALL_LOAD_BYTES), its store connections use one DuckDB
    thread, unless $FRONTDOOR_DUCKDB_THREADS says otherwise.

    A council's month is hundreds of statements over thousands of rows each: a second DuckDB thread shortens few of
    them, costs CPU in each (a council month: 7% more CPU and 4% more wall, 7 pairs of 7; a council's five-year
    back-load of 89 files, 46 MB: 8% more CPU, 10-22% more wall, 2 pairs) and takes the core the checks' import and
    the SQL checks' thread run on meanwhile. Bigger loads (a region's, 229 MB, was not measured) keep DuckDB's
    default (every core)."""
    from store.connection import THREADS_ENV

    if os.environ.get(THREADS_ENV, "").strip() or sum(map(_bytes, [*files, store])) >= SMALL_LOAD_BYTES:
        yield
        return
    os.environ[THREADS_ENV] = "1"
    try:
        yield
    finally:
        os.environ.pop(THREADS_ENV, None)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.store is None:
        from store.connection import STORE_ENV

        if not os.environ.get(STORE_ENV):
            # Never fall back to the demo store: a council's real extract must not land in demo data.
            print(
                f"error: name the store to load into with --store PATH or {STORE_ENV}"
                " (only `python -m synthetic demo` writes the demo store)",
                file=sys.stderr,
            )
            return 2
    from tqdm import tqdm

    from ingest.pipeline import load_files
    from store.connection import store_path

    target = store_path(args.store)
    steps = len(args.files) + (4 if not args.no_validate else 3)  # each file, merge, derive, [checks,] publish
    bar = tqdm(
        total=steps,
        desc="loading",
        unit="step",
        delay=1.0,
        file=sys.stderr,
        disable=args.quiet or not sys.stderr.isatty(),
        bar_format="{desc}: {percentage:3.0f}%|{bar:20}| {elapsed} {postfix}",
    )

    def progress(message: str) -> None:
        bar.set_postfix_str(message)
        bar.update(1)

    try:
        with duckdb_threads_for(args.files, target):
            summaries = load_files(
                args.files, store=target, as_of=args.as_of, progress=progress, validate=not args.no_validate
            )
    except Exception as err:  # a failure while publishing: the store is left as it was
        if os.environ.get("FRONTDOOR_DEBUG"):
            raise
        print(f"error: {_failure(err, target)}", file=sys.stderr)
        return 2
    finally:
        bar.close()
    for s in summaries:
        if s.status == "failed":
            print(f"error: {s.error}", file=sys.stderr)
    print(format_summary(summaries))
    print(f"store: {target}" + ("" if target.exists() else " (not created: no file loaded)"))
    return 1 if any(s.status == "failed" for s in summaries) else 0


GC_YOUNG_THRESHOLD = 50_000  # objects allocated between young collections (Python's default: 700)


def collect_less() -> None:
    """Collect cyclic garbage less often in this process: a load's Python objects are few and mostly long-lived (Great
    Expectations' modules and suites), and with Python's thresholds the collector walked them 600 times a council
    month (0.5 s of CPU); collections still run, 50,000 allocations apart (BENCHMARKS.md, issue 13 ninth pass)."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


def exit_now(code: int) -> NoReturn:
    """End the command once its output is written: the exit handlers run, then the process ends without the
    interpreter's teardown, whose garbage collections of every module's objects cost about half a second of CPU
    after the store is published. When a thread other than a daemon is still running, Python's own exit waits for it.
    """
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: Python's own exit reports it
        raise SystemExit(code) from None
    if any(t is not threading.main_thread() and not t.daemon for t in threading.enumerate()):
        raise SystemExit(code)
    atexit._run_exitfuncs()
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    collect_less()
    exit_now(main())
