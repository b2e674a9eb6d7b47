"""Time each dashboard page's script run (Streamlit AppTest), as the first view after a publish and warm.

Run: .venv/bin/python -m benchmarks.bench_dashboard --store data/demo.duckdb [--calls 5]
Targets (issue 13): every page's first view after a publish within 3 s at national scale, warm within
1 s. "First view" runs the page with every cache emptied first (caches are keyed on the published
store version, so after a publish each page may be the first one a user opens: it pays for the
router's filter choices as well as its own queries); "warm" is the best of three later views. This
measures the server side (the page script, metric queries and figure building); the browser's
drawing of the plotly charts comes on top and is not timed here. With --calls, the slowest metric
calls of each first view are listed (seconds, function). An untimed view of the Definitions page
first loads the Python modules (streamlit, plotly, the pages), as a server does once when it starts.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st
from streamlit import config
from streamlit.testing.v1 import AppTest

config.set_option(
    "server.address", "127.0.0.1"
)  # local mode, as `make run`: without sign-in any other address is refused
APP = Path(__file__).resolve().parent.parent / "dashboard.py"
PAGES: dict[str, tuple[str, str]] = {  # page -> its URL path and title (dashboard.PAGES)
    "overview": ("overview", "Overview"),
    "re_referrals": ("re-referrals", "Re-referrals"),
    "timeliness": ("timeliness", "Timeliness"),
    "ethnicity": ("ethnicity", "Ethnicity"),
    "front_door": ("front-door", "Front door"),
    "data_quality": ("data-quality", "Data quality"),
    "downloads": ("downloads", "Downloads"),
    "definitions": ("definitions", "Definitions"),
    "about_data": ("about-the-data", "About the data"),
}
CALLS: list[tuple[float, str]] = []


def _timed(run: Callable[..., Any]) -> Callable[..., Any]:
    """`ui.data._run` that records how long each uncached metric call took."""

    def timed(version: str, name: str, args: tuple[Any, ...], kwargs: tuple[tuple[str, Any], ...]) -> Any:
        start = time.perf_counter()
        try:
            return run(version, name, args, kwargs)
        finally:
            CALLS.append((time.perf_counter() - start, name.rsplit(".", 2)[-2] + "." + name.rsplit(".", 1)[-1]))

    return timed


def run_page(page: str, first_view: bool = False) -> float:
    """Seconds for a session opened on the page's URL to run the router and the page.

    The session opens the page's link (`/timeliness`) as its first run, as a user following a
    link does, so only that page runs (not the landing page first). With `first_view`, every
    cache is emptied first.
    """
    if first_view:
        st.cache_data.clear()
        st.cache_resource.clear()
    at = AppTest.from_file(str(APP), default_timeout=600)
    url, title = PAGES[page]
    at.switch_page(f"pages/{url}.py")  # the hand-over file of the URL path (ui/first_session.py)
    start = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - start
    if at.exception:
        raise RuntimeError(f"{page}: {at.exception[0].value}")
    if not at.title or at.title[0].value != title:
        raise RuntimeError(f"{page}: the link /{url} did not open the page")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--calls", type=int, default=0, help="list this many slowest metric calls of each first view")
    args = parser.parse_args()
    os.environ["FRONTDOOR_STORE"] = str(args.store)
    if args.calls:
        import ui.data

        ui.data._run = _timed(ui.data._run)  # type: ignore[method-assign]
    print(f"store: {args.store} ({args.store.resolve().stat().st_size / 1e9:.2f} GB)")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    started = time.perf_counter()
    run_page("definitions")  # untimed: loads the Python modules, as a server does once when it starts
    print(f"modules loaded (untimed Definitions view): {time.perf_counter() - started:.1f} s")
    print("| page | first view (s) | CPU (s) | warm (s) |")
    print("|---|---:|---:|---:|")
    for page in PAGES:
        CALLS.clear()
        cpu = time.process_time()
        cold = run_page(page, first_view=True)
        cpu = time.process_time() - cpu
        slowest = sorted(CALLS, reverse=True)[: args.calls]
        warm = min(run_page(page) for _ in range(3))
        print(f"| {page} | {cold:.2f} | {cpu:.2f} | {warm:.2f} |", flush=True)
        for secs, name in slowest:
            print(f"|   {name} | {secs:.2f} | | |", flush=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
