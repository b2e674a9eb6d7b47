"""`python -m expectations.dfe_cin FILE... [--csv OUT]`: DfE's CIN rules on census files before they are loaded.

Prints, per file, its census year and the number of findings per rule (no child-level values);
`--csv` writes every finding (LAchildID, rule, DfE message, element path, values, file, row) for
the officer to work down. Exit status 1 when any file has an error that would block the return.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb
import pandas as pd

from expectations.dfe_cin.runner import findings_frame, run_rules
from ingest.detect import detect_format
from ingest.readers.base import ExtractError
from ingest.readers.cin_submitted import stage_submitted


def check_file(path: Path) -> tuple[int | None, pd.DataFrame]:
    """(census year, findings) of one CIN census file; ExtractError when it is not one."""
    found = detect_format(path)  # also refuses missing, oversized and malformed files in one line
    if found != "cin_census":
        raise ExtractError(path, f"not a CIN census XML (looks like {found.replace('_', ' ')})")
    con = duckdb.connect()
    try:
        stage_submitted(path, con)
        run_rules(con)
        year = con.execute("SELECT collection_year FROM staged_dfe_run").fetchall()[0][0]
        return year, findings_frame(con).assign(source_file=path.name)
    finally:
        con.close()


def _summary(name: str, year: int | None, findings: pd.DataFrame) -> str:
    errors = int((findings["rule_type"] == "error").sum())
    queries = int((findings["rule_type"] == "query").sum())
    census = f"{year - 1}-{year % 100:02d}" if year else "unknown year"
    lines = [f"{name}: census {census}; {errors} error(s) that would block the return, {queries} query(ies)"]
    counts = findings.groupby(["rule_type", "rule_code", "message"], sort=False).size()
    lines += [f"  {code} {kind}: {n} — {message[:90]}" for (kind, code, message), n in counts.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m expectations.dfe_cin", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="CIN census XML files")
    parser.add_argument("--csv", type=Path, help="write every finding to this CSV (child-level personal data)")
    args = parser.parse_args(argv)
    frames, blocked, failed = [], False, False
    for path in args.files:
        try:
            year, findings = check_file(path)
        except ExtractError as err:
            print(err, file=sys.stderr)
            failed = True
            continue
        print(_summary(path.name, year, findings))
        blocked = blocked or bool((findings["rule_type"] == "error").any())
        frames.append(findings)
    if args.csv and frames:
        pd.concat(frames).to_csv(args.csv, index=False)
        print(f"findings written to {args.csv} (child-level personal data)")
    return 2 if failed else (1 if blocked else 0)


if __name__ == "__main__":
    raise SystemExit(main())
