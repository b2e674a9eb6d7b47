"""The demo: the default synthetic council's extracts, loaded into the store through the same loaders."""

from __future__ import annotations

import re
import time
from itertools import groupby
from pathlib import Path

from store.connection import PROJECT_ROOT, store_path
from synthetic.build import TRUTH_FILE, extracts
from synthetic.params import Params

DEMO_EXTRACTS = PROJECT_ROOT / "data" / "demo_extracts"
DEMO_PARAMS = Params()  # 3,000 children, 3 years to 2025-09-30, seed 42, LA 889
EXTRACT_SUFFIXES = (".xlsx", ".xls", ".csv", ".xml")


def extract_files(folder: Path) -> list[Path]:
    """The extract files in a folder (truth.json and anything else left out), oldest first by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in EXTRACT_SUFFIXES)


def quarter_of(file: Path) -> str:
    """The calendar quarter an extract belongs to, from its name ('2024-Q3'); census files at their 31 March."""
    name = file.name
    if m := re.search(r"(\d{4})-(\d{2})-\d{2}", name):
        return f"{m[1]}-Q{(int(m[2]) - 1) // 3 + 1}"
    if m := re.search(r"(\d{4})-Q(\d)", name):
        return f"{m[1]}-Q{m[2]}"
    if m := re.search(r"cin_census_(\d{4})-(\d{2})", name):
        return f"{int(m[1]) + 1}-Q1"
    return "9999-Q9"  # anything unnamed loads last


def quarterly_batches(files: list[Path]) -> list[list[Path]]:
    """Files grouped by quarter, oldest first: the demo is loaded as a council would, a quarter at a time."""
    ordered = sorted(files, key=lambda f: (quarter_of(f), f.name))
    return [list(group) for _, group in groupby(ordered, key=quarter_of)]


def _clear(folder: Path) -> None:
    """Remove a previous demo set (only a folder that holds our truth.json is cleared)."""
    if folder.exists() and (folder / TRUTH_FILE).exists():
        for p in extract_files(folder) + [folder / TRUTH_FILE]:
            p.unlink()


def build_demo(store: Path | None = None, out: Path | None = None, jobs: int = 2, params: Params = DEMO_PARAMS) -> str:
    """Write the demo extracts and load every file through `ingest.pipeline.load_files`; return a summary line."""
    from ingest.pipeline import load_files  # the loader may land after this module; import it only when used

    folder = out or DEMO_EXTRACTS
    _clear(folder)
    started = time.perf_counter()
    extracts(params, folder, jobs=jobs)
    written = time.perf_counter()
    files = extract_files(folder)
    summaries = []
    for batch in quarterly_batches(files):  # one publish (and one data-quality run) per quarter: a trend to show
        summaries += load_files(batch, store=store_path(store), progress=lambda message: print(message, flush=True))
    loaded = time.perf_counter()
    return (
        f"demo: wrote {len(files)} extract files to {folder} in {written - started:.1f}s, "
        f"loaded {len(summaries)} into {store_path(store)} in {loaded - written:.1f}s"
    )
