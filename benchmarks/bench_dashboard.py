"""Time each dashboard page's script run (Streamlit AppTest), cold and warm, on a given store.

Run: .venv/bin/python -m benchmarks.bench_dashboard --store data/demo.duckdb
Targets: within 1 s warm on the demo store, 3 s on the national-scale store. This measures the
server side (the page script, metric queries and figure building); the browser's drawing of the
plotly charts comes on top and is not timed here.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from streamlit import config
from streamlit.testing.v1 import AppTest

config.set_option(
    "server.address", "127.0.0.1"
)  # local mode, as `make run`: without sign-in any other address is refused
APP = Path(__file__).resolve().parent.parent / "dashboard.py"
PAGES = [
    "overview",
    "re_referrals",
    "timeliness",
    "ethnicity",
    "front_door",
    "data_quality",
    "downloads",
    "definitions",
    "about_data",
]


def run_page(page: str) -> float:
    """Seconds to run the router and then one page, as a user's first view of that page does."""
    at = AppTest.from_file(str(APP), default_timeout=600)
    start = time.perf_counter()
    at.run()
    if page != "overview":
        at.switch_page(f"pages/{page}_page.py").run()
    elapsed = time.perf_counter() - start
    if at.exception:
        raise RuntimeError(f"{page}: {at.exception[0].value}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", type=Path, required=True)
    args = parser.parse_args()
    os.environ["FRONTDOOR_STORE"] = str(args.store)
    print(f"store: {args.store}")
    print("| page | cold (s) | warm (s) |")
    print("|---|---:|---:|")
    for page in PAGES:
        cold = run_page(page)
        warm = min(run_page(page) for _ in range(3))
        print(f"| {page} | {cold:.2f} | {warm:.2f} |", flush=True)


if __name__ == "__main__":
    main()
