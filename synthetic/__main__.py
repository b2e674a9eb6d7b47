"""Command line: `python -m synthetic extracts ...` writes a synthetic council's extracts; `demo` builds the demo store."""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

from synthetic.params import DEMO_END, Params


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text}") from exc


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m synthetic", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("extracts", help="write a seeded, messy set of extracts in all three formats, with truth.json")
    ex.add_argument("--children", type=int, default=3000, help="children in the population (default 3000)")
    ex.add_argument("--years", type=int, default=3, help="years of extracts up to the end date (default 3)")
    ex.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    ex.add_argument("--out", type=Path, required=True, help="directory to write into")
    ex.add_argument(
        "--end", type=_date, default=DEMO_END, help=f"extract date of the latest files (default {DEMO_END})"
    )
    ex.add_argument("--la-code", default="889", help="local authority code in the CIN census header (default 889)")
    ex.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="processes writing Annex A workbooks")
    demo = sub.add_parser("demo", help="write the demo extracts into data/demo_extracts/ and load them into the store")
    demo.add_argument("--store", type=Path, default=None, help="store path (default: the project's store)")
    demo.add_argument("--out", type=Path, default=None, help="extracts directory (default data/demo_extracts)")
    demo.add_argument(
        "--jobs", type=int, default=min(2, os.cpu_count() or 1), help="processes writing Annex A workbooks"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    if args.command == "extracts":
        from synthetic.build import extracts

        try:
            params = Params(
                children=args.children, years=args.years, seed=args.seed, end=args.end, la_code=args.la_code
            )
        except ValueError as exc:
            print(f"synthetic: {exc}", file=sys.stderr)
            return 2
        truth = extracts(params, args.out, jobs=args.jobs)
        rates = truth["rates"]
        print(
            f"wrote {sum(len(f['files']) for f in truth['files'])} files and truth.json to {args.out} "
            f"in {time.perf_counter() - started:.1f}s: re-referrals {rates['re_referral_rate']['rate']}%, "
            f"assessments within 45 working days {rates['assessment_within_45wd']['rate']}%, "
            f"ethnicity not known {rates['ethnicity_not_known']['rate']}%, "
            f"recording delay median {rates['recording_delay']['median_wd']} working days"
        )
        return 0
    from synthetic.demo import build_demo

    summary = build_demo(store=args.store, out=args.out, jobs=args.jobs)
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
