"""`python -m expectations validate|docs`: re-run the data quality checks on a store, or print docs/CHECKS.md."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import pandas as pd

PRINTED_COLUMNS: list[str] = [
    "table_name",
    "check_id",
    "expectation",
    "dfe_code",
    "severity",
    "success",
    "unexpected_count",
]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m expectations", description="Data quality checks on the store.")
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="re-run every check on the published store and print the results")
    v.add_argument("--store", help="store path (default $FRONTDOOR_STORE, else data/demo.duckdb)")
    v.add_argument("--format", choices=["table", "json"], default="table")
    v.add_argument(
        "--save",
        action="store_true",
        help="also store the results under the latest load id (publishes a new store version)",
    )
    v.add_argument("--data-docs", type=Path, help="Data Docs folder (default <store>.data_docs beside the store)")
    v.add_argument("--no-docs", action="store_true", help="do not build Data Docs")
    v.add_argument(
        "--ethnicity-threshold",
        type=float,
        help="ethnicity completeness threshold, 0-1 or a percentage (default $FRONTDOOR_ETHNICITY_THRESHOLD or 0.95)",
    )
    sub.add_parser("docs", help="print docs/CHECKS.md (generated from the registry)")
    return parser


def _run(args: argparse.Namespace) -> pd.DataFrame:
    from expectations.data_docs import build_data_docs, data_docs_dir
    from expectations.model import CheckParams
    from expectations.runner import run_checks, validate_store
    from store.connection import open_for_update, open_read, store_path

    if args.save:
        with open_for_update(args.store) as con:
            return validate_store(
                con, None, args.data_docs, ethnicity_threshold=args.ethnicity_threshold, build_docs=not args.no_docs
            )
    con = open_read(args.store)
    try:
        params = CheckParams.from_store(con, ethnicity_threshold=args.ethnicity_threshold)
        run = run_checks(con, params, list_failures=False)  # prints the counts: the failing rows are not listed
    finally:
        con.close()
    folder = data_docs_dir(args.data_docs, store_path(args.store))
    if not args.no_docs and folder is not None and run.ge_session is not None:
        build_data_docs(run.ge_session, folder)
    return run.results


def _print(results: pd.DataFrame, fmt: str) -> None:
    out = results[PRINTED_COLUMNS].rename(columns={"table_name": "table"})
    if fmt == "json":
        print(json.dumps(json.loads(out.to_json(orient="records")), indent=2))
    else:
        print(out.fillna({"dfe_code": ""}).to_string(index=False))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "docs":
        from expectations.catalogue import checks_markdown

        print(checks_markdown())
        return 0
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    from store.connection import StoreNotFound

    try:
        results = _run(args)
    except StoreNotFound as exc:
        print(exc, file=sys.stderr)
        return 2
    _print(results, args.format)
    return 0


def _closed_pipe() -> int:
    """The reader of stdout went away (`... | head`): stop quietly, as a Unix filter does, without a traceback."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # Python flushes stdout again at exit; let that go nowhere
    return 0


if __name__ == "__main__":
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        code = _closed_pipe()
    raise SystemExit(code)
