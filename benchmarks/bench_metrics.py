"""Benchmark of the headline metrics on the national-scale store: materialised scans vs window queries vs pandas.

    python -m benchmarks.bench_metrics [--store PATH] [--scale 1.0] [--repeat 5]

Builds the store with benchmarks/national_store.py when it is missing, then runs three workers,
each in its own process so its peak memory (ru_maxrss) is its own: the metrics package (scans of
the derived tables), the same definitions as un-materialised DuckDB queries over the canonical
tables, and a vectorised pandas implementation over the canonical rows already in memory (load
time reported apart). Prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

DEFAULT_STORE = Path("/tmp/frontdoor_national/store.duckdb")
HEADLINE = (
    "re_referral_rate",
    "assessment_timeliness",
    "open_assessments_overdue",
    "recording_timeliness",
    "ethnicity_completeness",
)


def _time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median wall time of `repeat` runs after one warm-up, and the last result."""
    result = fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---- worker 1: the metrics package ------------------------------------------------------------------------


def worker_metrics(store: Path, repeat: int) -> dict[str, Any]:
    from metrics.coverage import default_period
    from metrics.ethnicity import ethnicity_completeness
    from metrics.re_referrals import re_referral_rate
    from metrics.report import headline_report
    from metrics.timeliness import (
        assessment_timeliness,
        count_open_assessments_overdue,
        open_assessments_overdue,
        recording_timeliness,
    )
    from store.connection import open_read

    con = open_read(store)
    period = default_period(con)
    runs: dict[str, Callable[[], Any]] = {
        "re_referral_rate": lambda: re_referral_rate(con, period).iloc[0]["numerator"],
        "assessment_timeliness": lambda: assessment_timeliness(con, period).iloc[0]["numerator"],
        "open_assessments_overdue": lambda: count_open_assessments_overdue(con),
        "open_assessments_overdue_list": lambda: len(open_assessments_overdue(con)),
        "recording_timeliness": lambda: recording_timeliness(con, period).iloc[0]["numerator"],
        "ethnicity_completeness": lambda: ethnicity_completeness(con, period).iloc[0]["numerator"],
        "headline_report": lambda: headline_report(con, period)["referrals"],
    }
    out = {name: _time(fn, repeat) for name, fn in runs.items()}
    return {
        "period": [str(period.start), str(period.end)],
        "seconds": {k: v[0] for k, v in out.items()},
        "results": {k: int(v[1]) for k, v in out.items()},
        "peak_mb": _peak_mb(),
    }


# ---- worker 2: the same definitions without the derived tables --------------------------------------------

_WINDOW_SQL = {
    "re_referral_rate": """
        WITH r AS (SELECT referral_date, lag(referral_date) OVER (PARTITION BY child_id ORDER BY referral_date) AS p
                   FROM referrals)
        SELECT count(*) FILTER (WHERE p >= CAST(referral_date - INTERVAL 12 MONTH AS DATE)) FROM r
        WHERE referral_date BETWEEN $start AND $end""",
    "assessment_timeliness": """
        SELECT count(*) FILTER (WHERE ca.working_day_index - cs.working_day_index <= 45) FROM assessments a
        JOIN calendar cs ON cs.day = a.start_date JOIN calendar ca ON ca.day = a.authorised_date
        WHERE a.authorised_date BETWEEN $start AND $end""",
    "open_assessments_overdue": """
        SELECT count(*) FROM assessments a JOIN calendar cs ON cs.day = a.start_date
        WHERE a.start_date <= $as_of AND (a.authorised_date IS NULL OR a.authorised_date > $as_of)
          AND (SELECT working_day_index FROM calendar WHERE day = $as_of) - cs.working_day_index > 45""",
    "recording_timeliness": """
        SELECT count(*) FILTER (WHERE cn.working_day_index - ce.working_day_index <= 5) FROM recordings r
        JOIN calendar ce ON ce.day = r.event_date LEFT JOIN calendar cn ON cn.day = CAST(r.entered_at AS DATE)
        WHERE r.event_date BETWEEN $start AND $end""",
    "ethnicity_completeness": """
        SELECT count(*) FILTER (WHERE ethnicity IN (SELECT code FROM ethnicity_codes WHERE category = 'known'))
        FROM referrals WHERE referral_date BETWEEN $start AND $end""",
}


def worker_window(store: Path, repeat: int) -> dict[str, Any]:
    from metrics.coverage import default_period
    from metrics.query import as_of_date
    from store.connection import open_read

    con = open_read(store)
    period = default_period(con)
    params = {"start": period.start, "end": period.end, "as_of": as_of_date(con)}
    out = {}
    for name, sql in _WINDOW_SQL.items():
        used = {k: v for k, v in params.items() if f"${k}" in sql}
        out[name] = _time(lambda sql=sql, used=used: con.execute(sql, used).fetchone()[0], repeat)
    return {
        "seconds": {k: v[0] for k, v in out.items()},
        "results": {k: int(v[1]) for k, v in out.items()},
        "peak_mb": _peak_mb(),
    }


# ---- worker 3: vectorised pandas over the canonical rows ---------------------------------------------------


def _pandas_frames(store: Path) -> dict[str, Any]:
    from store.connection import open_read

    con = open_read(store)
    return {
        "referrals": con.execute("SELECT child_id, referral_date, ethnicity FROM referrals").df(),
        "assessments": con.execute("SELECT start_date, authorised_date FROM assessments").df(),
        "recordings": con.execute("SELECT event_date, entered_at FROM recordings").df(),
        "as_of": con.execute("SELECT max(as_of) FROM loads").fetchone()[0],
        "period": __import__("metrics.coverage", fromlist=["default_period"]).default_period(con),
    }


def worker_pandas(store: Path, repeat: int) -> dict[str, Any]:
    import holidays
    import numpy as np
    import pandas as pd

    from store.codes import ETHNICITY_KNOWN

    started = time.perf_counter()
    data = _pandas_frames(store)
    load_seconds = time.perf_counter() - started
    period = data["period"]
    start, end, as_of = pd.Timestamp(period.start), pd.Timestamp(period.end), pd.Timestamp(data["as_of"])
    bank = np.array(
        sorted(holidays.country_holidays("GB", subdiv="ENG", years=range(2005, 2031))), dtype="datetime64[D]"
    )
    one = np.timedelta64(1, "D")

    def wd(a: pd.Series, b: pd.Series) -> np.ndarray:
        return np.busday_count(
            a.to_numpy().astype("datetime64[D]") + one, b.to_numpy().astype("datetime64[D]") + one, holidays=bank
        )

    def re_referrals() -> int:
        r = data["referrals"].drop_duplicates(["child_id", "referral_date"]).sort_values(["child_id", "referral_date"])
        previous = r.groupby("child_id", sort=False)["referral_date"].shift()
        inside = r["referral_date"].between(start, end)
        cutoff = r.loc[inside, "referral_date"] - pd.DateOffset(months=12)
        return int((previous[inside] >= cutoff).sum())

    def assessments() -> int:
        a = data["assessments"]
        done = a[a["authorised_date"].between(start, end)]
        return int((wd(done["start_date"], done["authorised_date"]) <= 45).sum())

    def overdue() -> int:
        a = data["assessments"]
        open_ = a[(a["start_date"] <= as_of) & (a["authorised_date"].isna() | (a["authorised_date"] > as_of))]
        return int((wd(open_["start_date"], pd.Series(as_of, index=open_.index)) > 45).sum())

    def recordings() -> int:
        r = data["recordings"]
        r = r[r["event_date"].between(start, end) & r["entered_at"].notna()]
        return int((wd(r["event_date"], r["entered_at"].dt.normalize()) <= 5).sum())

    def ethnicity() -> int:
        r = data["referrals"]
        return int(r.loc[r["referral_date"].between(start, end), "ethnicity"].isin(ETHNICITY_KNOWN).sum())

    runs = {
        "re_referral_rate": re_referrals,
        "assessment_timeliness": assessments,
        "open_assessments_overdue": overdue,
        "recording_timeliness": recordings,
        "ethnicity_completeness": ethnicity,
    }
    out = {name: _time(fn, repeat) for name, fn in runs.items()}
    return {
        "seconds": {k: v[0] for k, v in out.items()},
        "results": {k: int(v[1]) for k, v in out.items()},
        "load_seconds": load_seconds,
        "peak_mb": _peak_mb(),
    }


WORKERS: dict[str, Callable[[Path, int], dict[str, Any]]] = {
    "metrics": worker_metrics,
    "window": worker_window,
    "pandas": worker_pandas,
}


# ---- driver ----------------------------------------------------------------------------------------------


def _run_worker(name: str, store: Path, repeat: int) -> dict[str, Any]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.bench_metrics",
            "--worker",
            name,
            "--store",
            str(store),
            "--repeat",
            str(repeat),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _table(metrics: dict, window: dict, pandas: dict) -> str:
    lines = [
        "| measure | metrics (derived scan) s | un-materialised DuckDB s | pandas s | pandas ÷ metrics | same result |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name in HEADLINE:
        m, w, p = metrics["seconds"][name], window["seconds"][name], pandas["seconds"][name]
        same = metrics["results"][name] == window["results"][name] == pandas["results"][name]
        lines.append(f"| {name} | {m:.3f} | {w:.3f} | {p:.3f} | {p / m:.1f}× | {'yes' if same else 'NO'} |")
    total_p = sum(pandas["seconds"].values())
    report = metrics["seconds"]["headline_report"]
    lines.append(
        f"| whole headline report | {report:.3f} | {sum(window['seconds'].values()):.3f} | {total_p:.3f} |"
        f" {total_p / report:.1f}× | |"
    )
    listed = metrics["seconds"]["open_assessments_overdue_list"]
    lines += [
        "",
        f"The open-and-overdue list itself ({metrics['results']['open_assessments_overdue_list']} rows, as a"
        f" DataFrame) takes {listed:.3f} s; the report uses the count.",
        "",
        f"Peak memory (ru_maxrss): metrics {metrics['peak_mb']:.0f} MB; un-materialised {window['peak_mb']:.0f} MB;"
        f" pandas {pandas['peak_mb']:.0f} MB (pandas load from the store {pandas['load_seconds']:.1f} s, not counted above).",
        f"Period: {metrics['period'][0]} to {metrics['period'][1]}; median of the timed runs after a warm-up.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_metrics", description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=DEFAULT_STORE)
    parser.add_argument("--scale", type=float, default=1.0, help="scale of the store to build when it is missing")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(WORKERS[args.worker](args.store, args.repeat), default=str))
        return 0
    if not args.store.exists():
        from benchmarks.national_store import build_national_store

        started = time.perf_counter()
        build_national_store(args.store, args.scale)
        print(f"built the national store ({args.scale}) in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    results = {name: _run_worker(name, args.store, args.repeat) for name in WORKERS}
    print(_table(results["metrics"], results["window"], results["pandas"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
