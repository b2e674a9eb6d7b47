"""Statistical process control for monthly series (p-chart or XmR), with "Making Data Count" signals."""

from __future__ import annotations

import threading

import duckdb
import pandas as pd

from metrics.params import check_choice

CHARTS: tuple[str, ...] = ("p", "xmr")
RUN_LENGTH = 7  # points in a row on one side of the centre line
TREND_LENGTH = 6  # points in a row each higher (or lower) than the one before

_DATABASE: list[duckdb.DuckDBPyConnection] = []  # one in-memory database for the process, opened on first use
_DATABASE_LOCK = threading.Lock()


def _connection() -> duckdb.DuckDBPyConnection:
    """A new connection to the process's in-memory DuckDB database (~0.01 ms), for one chart's limits; its registered
    frame is its own. Opening a database costs ~35 ms, and the dashboard runs each page view in a new thread."""
    with _DATABASE_LOCK:
        if not _DATABASE:
            _DATABASE.append(duckdb.connect())
        return _DATABASE[0].cursor()


_LIMITS = {
    "p": """
        SELECT *, CASE WHEN den > 0 THEN greatest(0.0, centre - 300.0 * sqrt((centre / 100.0) * (1 - centre / 100.0) / den)) END AS lcl,
                  CASE WHEN den > 0 THEN least(100.0, centre + 300.0 * sqrt((centre / 100.0) * (1 - centre / 100.0) / den)) END AS ucl
        FROM (SELECT *, 100.0 * sum(num) OVER () / nullif(sum(den) OVER (), 0) AS centre FROM seq)""",
    "xmr": """
        SELECT *, centre - 2.66 * avg(moving_range) OVER () AS lcl, centre + 2.66 * avg(moving_range) OVER () AS ucl
        FROM (SELECT *, avg(val) OVER () AS centre, abs(val - lag(val) OVER (ORDER BY pos)) AS moving_range FROM seq)""",
}

_SIGNALS = """
WITH src AS (SELECT row_number() OVER () - 1 AS row_index, val, num, den FROM series),
seq AS (SELECT *, row_number() OVER (ORDER BY row_index) AS pos FROM src WHERE val IS NOT NULL AND NOT isnan(val)),
limits AS ({limits}),
sided AS (SELECT *, sign(val - centre) AS side, sign(val - lag(val) OVER (ORDER BY pos)) AS move FROM limits),
runs AS (SELECT *, pos - row_number() OVER (PARTITION BY side ORDER BY pos) AS run_group FROM sided),
run_lengths AS (SELECT *, CASE WHEN side <> 0 THEN count(*) OVER (PARTITION BY side, run_group) ELSE 0 END AS run_length,
                       pos - row_number() OVER (PARTITION BY move ORDER BY pos) AS move_group FROM runs),
moves AS (SELECT *, CASE WHEN move <> 0 THEN count(*) OVER (PARTITION BY move, move_group) ELSE 0 END AS move_run
          FROM run_lengths),
flagged AS (SELECT *, move_run >= {moves} OR coalesce(lead(move_run) OVER (ORDER BY pos) >= {moves}, false) AS trend
            FROM moves)
SELECT src.row_index, f.centre, f.lcl, f.ucl,
       CASE WHEN f.ucl IS NOT NULL AND f.val > f.ucl THEN 'above'
            WHEN f.lcl IS NOT NULL AND f.val < f.lcl THEN 'below'
            WHEN f.run_length >= {run} THEN 'run'
            WHEN f.trend THEN 'trend' END AS signal
FROM src LEFT JOIN flagged f USING (row_index) ORDER BY src.row_index
"""


def spc_limits(
    frame: pd.DataFrame,
    value: str = "rate",
    numerator: str = "numerator",
    denominator: str = "denominator",
    chart: str = "p",
) -> pd.DataFrame:
    """`frame` (in time order) with centre, lcl, ucl and signal ('above', 'below', 'run', 'trend' or None) added.

    Rows with a true `provisional` column (months not yet due) are left out of the limits and signals.
    """
    check_choice("chart", chart, CHARTS)
    series = pd.DataFrame(
        {
            "val": pd.to_numeric(frame[value], errors="coerce").astype("float64"),
            "num": pd.to_numeric(frame[numerator], errors="coerce").astype("float64")
            if numerator in frame
            else float("nan"),
            "den": pd.to_numeric(frame[denominator], errors="coerce").astype("float64")
            if denominator in frame
            else float("nan"),
        }
    )
    if "provisional" in frame:
        # Months not yet due are drawn apart: they take no part in the limits or the signals.
        series.loc[frame["provisional"].fillna(False).astype(bool).to_numpy(), "val"] = float("nan")
    if chart == "p" and series["den"].isna().all():
        raise ValueError("a p-chart needs numerator and denominator columns; use chart='xmr' for a plain series")
    sql = _SIGNALS.format(limits=_LIMITS[chart], moves=TREND_LENGTH - 1, run=RUN_LENGTH)
    con = _connection()
    try:
        con.register("series", series)
        limits = con.execute(sql).df()
    finally:
        con.close()
    out = frame.copy()
    # centre is one value for the whole series: fill it for rows without a value too.
    out["centre"] = limits["centre"].astype("float64").fillna(limits["centre"].max()).to_numpy()
    out["lcl"] = limits["lcl"].astype("float64").to_numpy()
    out["ucl"] = limits["ucl"].astype("float64").to_numpy()
    signal = limits["signal"].astype(object)
    out["signal"] = pd.Series(signal.where(signal.notna(), None).to_numpy(), index=out.index, dtype=object)
    return out
