"""`python -m ingest` needs a named store: without --store or FRONTDOOR_STORE it refuses in one line and writes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ingest_without_a_store_refuses_in_one_line(tmp_path: Path) -> None:
    extract = tmp_path / "list3.csv"
    extract.write_text("Child Unique ID,Date of Referral\n1005,01/05/2024\n")
    env = {k: v for k, v in os.environ.items() if k != "FRONTDOOR_STORE"}
    demo = ROOT / "data" / "demo.duckdb"
    before = demo.resolve().stat().st_mtime_ns if demo.exists() else None
    proc = subprocess.run(
        [sys.executable, "-m", "ingest", str(extract), "--quiet", "--no-validate"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines == [
        "error: name the store to load into with --store PATH or FRONTDOOR_STORE"
        " (only `python -m synthetic demo` writes the demo store)"
    ], proc.stderr
    assert proc.stdout == ""
    after = demo.resolve().stat().st_mtime_ns if demo.exists() else None
    assert after == before  # the demo store was not touched
