"""`python -m metrics report --from ... --to ...` prints the headline report; `python -m metrics docs` the definitions."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import date

from metrics.coverage import history_warnings
from metrics.params import CLOCKS, DEFAULT_LIMIT_WD, DEFAULT_TARGET_WD, LOOKBACKS, Period
from metrics.registry import definitions_markdown
from metrics.report import headline_report
from store.connection import StoreNotFound, open_read


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m metrics", description="Front-door metrics.")
    sub = parser.add_subparsers(dest="command", required=True)
    report = sub.add_parser("report", help="print the headline figures for a period")
    report.add_argument("--store", help="store path (default: $FRONTDOOR_STORE or data/demo.duckdb)")
    report.add_argument("--from", dest="start", required=True, type=date.fromisoformat, help="first day, YYYY-MM-DD")
    report.add_argument("--to", dest="end", required=True, type=date.fromisoformat, help="last day, YYYY-MM-DD")
    report.add_argument("--format", choices=["json", "csv"], default="json")
    report.add_argument("--lookback", choices=LOOKBACKS, default="12_calendar_months")
    report.add_argument("--clock", choices=CLOCKS, default="start")
    report.add_argument("--limit-wd", type=int, default=DEFAULT_LIMIT_WD, help="assessment limit in working days")
    report.add_argument("--target-wd", type=int, default=DEFAULT_TARGET_WD, help="recording target in working days")
    report.add_argument("--as-of", type=date.fromisoformat, help="as-of date for open assessments")
    sub.add_parser("docs", help="print docs/METRICS.md, generated from the registry")
    return parser


def _report(args: argparse.Namespace) -> int:
    try:
        period = Period(args.start, args.end)
        con = open_read(args.store)
    except (ValueError, StoreNotFound) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    with con:
        for warning in history_warnings(con, period):
            print(f"warning: {warning}", file=sys.stderr)
        report = headline_report(
            con,
            period,
            lookback=args.lookback,
            clock=args.clock,
            limit_wd=args.limit_wd,
            target_wd=args.target_wd,
            as_of=args.as_of,
        )
    if args.format == "json":
        print(json.dumps(report, indent=2))
    else:
        writer = csv.writer(sys.stdout)
        writer.writerow(["measure", "value"])
        writer.writerows([key, "" if value is None else value] for key, value in report.items())
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "docs":
        print(definitions_markdown())
        return 0
    return _report(args)


if __name__ == "__main__":
    raise SystemExit(main())
