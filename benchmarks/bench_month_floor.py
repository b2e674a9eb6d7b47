"""The floor under the national month: DuckDB alone making only the row-level writes a month makes, beside the month.

Run (under the shared lock): .venv/bin/python -m benchmarks.bench_month_floor --store NATIONAL.duckdb
     [--attributes random|stored] [--runs 2] [--no-integer-key]
Writes the month as `bench_monthly_load` does, loads it with the loaders (checks on) on a copy of the store while
counting the rows each statement deletes, inserts and updates in each stored table, then times on fresh copies of
the store DuckDB alone making those writes and nothing else (no normalising, ranking, derivation or checks): each
table's rows of chosen keys deleted and as many rows inserted and updated as the month did, with this layout's
commits, and the work copy a load makes of the store file. Rows are the tables' own (chosen beforehand, untimed),
so compression and row groups are the real ones. Also the writes of a leaner layout (versions, then one write per
touched key: each event's current row and facts as one row, each child's derived rows as one row, the checks' kept
rows), and both with an integer child id (the copies' `child_id` columns cast to BIGINT: the synthetic ids are
numbers). Prints each write, each group and the sums beside the real month's steps.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

import store.connection
from benchmarks.bench_monthly_load import ATTRIBUTES, write_month
from benchmarks.duckdb_limit import DEFAULT_LIMIT, cap
from ingest.pipeline import load_files

KEYS = {"recordings": "record_id", "recordings_versions": "record_id", "recording_facts": "record_id"}
"""The column a table's written rows are found by (`child_id` for the others; `unit` for the checks' kept rows)."""
UPDATED = {
    "children": ("first_seen", "last_seen"),
    "recording_spans": ("first_recorded", "last_recorded"),
    "dq_failing_units": ("failing",),
    "dq_child_attributes": tuple(f"{a}_{b}" for a in ("ethnicity", "sex", "birth") for b in ("lo", "hi", "n")),
}
"""The columns the month's UPDATE statements set in each table."""
MATCHED = {"dq_failing_units": ("check_id", "unit")}
"""The columns an update matches its rows on, where more than the key."""
CHILD_TABLES = ("children", "children_keys", "recording_spans", "summary_ethnicity_conflicts", "dq_child_attributes")
"""Tables of one row per child: a leaner layout writes a touched child's row once."""
WORK_COPY, VERSIONS = "0 work copy", "1 versions"
_DML = re.compile(r"\s*(INSERT INTO|DELETE FROM|UPDATE)\s+(\w+)", re.IGNORECASE)
_REPLACED = re.compile(r"\s*CREATE OR REPLACE TABLE\s+(\w+)\s+AS", re.IGNORECASE)


def key_of(table: str) -> str:
    """The column the floor finds a table's rows by."""
    return "unit" if table == "dq_failing_units" else KEYS.get(table, "child_id")


def group_of(table: str) -> str:
    """Which of the month's writes a table's rows are (the groups commit one after the other, as the month does)."""
    if table.endswith("_versions") or table in ("loads", "rejects"):
        return VERSIONS
    if table in ("contacts", "referrals", "recordings", "assessments", "cin_episodes"):
        return "2 current rows"
    if table in CHILD_TABLES and not table.startswith("dq_"):
        return "3 children"
    if table.endswith("_facts"):
        return "4 facts"
    if table.startswith("dq_"):
        return "5 checks' kept rows"
    return "6 summaries"


@dataclass
class Write:
    """Rows one table loses, gains and has updated in a month; `whole`: rewritten whole (CREATE OR REPLACE)."""

    table: str
    deleted: int = 0
    inserted: int = 0
    updated: int = 0
    whole: bool = False


class _Rows:
    """A DML statement's result, read once by the counter and handed on."""

    def __init__(self, rows: list[Any]) -> None:
        self.rows = rows

    def fetchall(self) -> list[Any]:
        return self.rows

    def fetchone(self) -> Any:
        return self.rows[0] if self.rows else None


class CountingConnection:
    """A work copy's connection (and its cursors) adding each stored table's rows deleted, inserted, updated."""

    def __init__(self, con: Any, counts: dict[str, Counter[str]], wall: defaultdict[str, float]) -> None:
        self._con, self._counts, self._wall = con, counts, wall

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        result = self._con.execute(sql, *args, **kwargs)
        dml, replaced = _DML.match(sql), _REPLACED.match(sql)
        if dml and not dml.group(2).startswith(("_", "staged_")):
            rows = result.fetchall()
            op = dml.group(1).split()[0].lower()
            self._counts.setdefault(dml.group(2), Counter())[op] += int(rows[0][0]) if rows else 0
            self._wall[dml.group(2)] += time.perf_counter() - started
            return _Rows(rows)
        if replaced:
            self._counts.setdefault(replaced.group(1), Counter())["whole"] = 1
            self._wall[replaced.group(1)] += time.perf_counter() - started
        return result

    def cursor(self) -> CountingConnection:
        return CountingConnection(self._con.cursor(), self._counts, self._wall)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


@contextmanager
def counting(counts: dict[str, Counter[str]], wall: defaultdict[str, float]) -> Iterator[None]:
    """Every work copy opened meanwhile counts its writes into `counts` (statement wall time per table: `wall`)."""
    opened = store.connection._open_work_copy
    store.connection._open_work_copy = lambda p, w: CountingConnection(opened(p, w), counts, wall)  # type: ignore
    try:
        yield
    finally:
        store.connection._open_work_copy = opened


def real_month(
    seed: Path, folder: Path, attributes: str
) -> tuple[list[tuple[str, float]], float, float, defaultdict[str, float], list[Write]]:
    """The month loaded by the loaders (checks on) into a copy of `seed`: its steps, wall and CPU seconds, the wall
    time of its statements writing each table, and its writes."""
    work = folder / "month.duckdb"
    shutil.copyfile(seed, work)
    files = write_month(work, folder, 1.0, attributes)
    steps: list[tuple[str, float]] = []
    last: list[Any] = [time.perf_counter(), "copying the store"]

    def step(message: str) -> None:
        now = time.perf_counter()
        steps.append((last[1], now - last[0]))
        last[:] = [now, message]

    counts: dict[str, Counter[str]] = {}
    wall, started, cpu = defaultdict[str, float](float), time.perf_counter(), time.process_time()
    with counting(counts, wall):
        load_files(files, store=work, validate=True, progress=step)
    total, cpu = time.perf_counter() - started, time.process_time() - cpu
    step("done")
    shutil.rmtree(store.connection.versions_dir(work))
    work.unlink()
    writes = [
        Write(t, c["delete"], c["insert"], c["update"], bool(c["whole"]))
        for t, c in counts.items()
        if c["delete"] + c["insert"] + c["update"] >= 1000 or c["whole"]
    ]
    return steps, total, cpu, wall, writes


FACTS_OF = {"contacts": "contact_facts", "referrals": "referral_facts", "recordings": "recording_facts"}
"""Each event table the month merges into, and its facts (in a leaner layout, one row with them)."""


def leaner(writes: list[Write]) -> list[Write]:
    """The same month in a leaner layout: versions, then one write per touched key (an event's current row and
    facts as one row, a child's derived rows as one row: the most rows of either or any of them)."""
    by_table = {w.table: w for w in writes}
    merged = {FACTS_OF.get(w.table, w.table) for w in writes if w.table in FACTS_OF}
    child = [w for w in writes if w.table in CHILD_TABLES]
    lean = [w for w in writes if w.table not in FACTS_OF and w.table not in merged and w.table not in CHILD_TABLES]
    for facts in sorted(merged):
        both = [w for w in (by_table.get(facts), *(by_table.get(e) for e, f in FACTS_OF.items() if f == facts)) if w]
        lean.append(
            Write(facts, max(w.deleted for w in both), max(w.inserted for w in both), 0, any(w.whole for w in both))
        )
    if child:
        lean.append(Write("children", max(w.deleted for w in child), max(w.inserted for w in child)))
    return lean


def commits(groups: list[str], lean: bool) -> list[bool]:
    """After which write (by position) the transaction commits: after each versions table (one per file, as the
    loads commit), then after each group (this layout) or once, after the last write (a leaner layout)."""
    last = len(groups) - 1
    return [g == VERSIONS or i == last or (not lean and groups[i + 1] != g) for i, g in enumerate(groups)]


def _chosen_keys(con: duckdb.DuckDBPyConnection, table: str, rows: int) -> str:
    """A TEMP table of keys of `table` in a fixed pseudo-random order, as many as hold about `rows` rows."""
    name, key = f"_floor_keys_{table}_{rows}", key_of(table)
    con.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {name} AS SELECT k FROM (SELECT {key} AS k, sum(count(*)) OVER"
        f" (ORDER BY hash({key}), {key} ROWS UNBOUNDED PRECEDING) AS held FROM {table} GROUP BY {key}) WHERE held <= {rows}"
    )
    return name


def stage(con: duckdb.DuckDBPyConnection, w: Write) -> list[tuple[str, str]]:
    """The rows `w` writes, chosen from the table itself into TEMP tables (untimed); its statements, named."""
    t, key = w.table, key_of(w.table)
    if w.whole:
        con.execute(f"CREATE TEMP TABLE _floor_whole_{t} AS SELECT * FROM {t}")
        return [("rewritten whole", f"CREATE OR REPLACE TABLE {t} AS SELECT * FROM _floor_whole_{t}")]
    statements = []
    if w.updated:
        columns, matched = UPDATED.get(t, ()), MATCHED.get(t, (key,))
        keys = _chosen_keys(con, t, w.updated)
        con.execute(f"CREATE TEMP TABLE _floor_new_{t} AS SELECT * FROM {t} WHERE {key} IN (SELECT k FROM {keys})")
        sets = ", ".join(f"{c} = n.{c}" for c in columns)
        on = " AND ".join(f"{t}.{c} = n.{c}" for c in matched)
        statements.append(("update", f"UPDATE {t} SET {sets} FROM _floor_new_{t} n WHERE {on}"))
    if w.deleted:
        keys = _chosen_keys(con, t, w.deleted)
        statements.append(("delete", f"DELETE FROM {t} WHERE {key} IN (SELECT k FROM {keys})"))
    if w.inserted:
        chosen = (
            f"(SELECT * FROM {t} WHERE {key} IN (SELECT k FROM {_chosen_keys(con, t, w.inserted)}))"
            if w.deleted
            else f"(SELECT * FROM {t} USING SAMPLE reservoir({w.inserted} ROWS) REPEATABLE (14))"
        )
        con.execute(f"CREATE TEMP TABLE _floor_rows_{t} AS SELECT * FROM {chosen}")
        statements.append(("insert", f"INSERT INTO {t} SELECT * FROM _floor_rows_{t}"))
    return statements


Timing = list[tuple[str, str, int, float, float]]  # group, what, rows, wall, CPU


def _timed(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[int, float, float]:
    """Rows a statement wrote (0 when it says none), its wall and CPU seconds."""
    started, cpu = time.perf_counter(), time.process_time()
    rows = con.execute(sql).fetchall()
    count = rows[0][0] if rows and rows[0] and type(rows[0][0]) is int else 0
    return count, time.perf_counter() - started, time.process_time() - cpu


def work_copy(seed: Path, copy: Path) -> Timing:
    """The copy a load makes of the store file (into the page cache), then its fsync (a load overlaps that with
    reading the files): each with its wall and CPU seconds."""
    started, cpu = time.perf_counter(), time.process_time()
    shutil.copyfile(seed, copy)
    copied, copied_cpu = time.perf_counter(), time.process_time()
    with open(copy, "rb") as handle:
        os.fsync(handle.fileno())
    return [
        (WORK_COPY, "copy of the store file", 0, copied - started, copied_cpu - cpu),
        (
            WORK_COPY,
            "its fsync (beside the reading in a load)",
            0,
            time.perf_counter() - copied,
            time.process_time() - copied_cpu,
        ),
    ]


def floor(seed: Path, copy: Path, writes: list[Write], lean: bool) -> Timing:
    """DuckDB alone making `writes` on a fresh copy of `seed` (checkpoint_threshold 0, as a load's work copy), with
    the commits `commits` says, then a checkpoint."""
    copy.unlink(missing_ok=True)
    timing: Timing = work_copy(seed, copy)
    con = duckdb.connect(str(copy))
    con.execute("SET checkpoint_threshold = '0b'")
    ordered = sorted(writes, key=lambda w: (group_of(w.table), w.table))
    staged = [(w, stage(con, w)) for w in ordered]
    groups = [group_of(w.table) for w in ordered]
    begin = True
    for (w, statements), group, commit in zip(staged, groups, commits(groups, lean), strict=True):
        if begin:
            con.execute("BEGIN TRANSACTION")
        for what, sql in statements:
            timing.append((group, f"{w.table}: {what}", *_timed(con, sql)))
        if commit:
            _, secs, cpu_secs = _timed(con, "COMMIT")
            timing.append(
                (
                    group,
                    "commit" if group == VERSIONS or not lean else "commit (one, of every write after the versions)",
                    0,
                    secs,
                    cpu_secs,
                )
            )
        begin = commit
    _, secs, cpu_secs = _timed(con, "CHECKPOINT")
    timing.append(("7 checkpoint", "checkpoint", 0, secs, cpu_secs))
    con.close()
    copy.unlink()
    return timing


def integer_key_store(seed: Path, copy: Path, writes: list[Write]) -> None:
    """A copy of `seed` whose written tables hold `child_id` as BIGINT (row order kept), made once."""
    shutil.copyfile(seed, copy)
    con = duckdb.connect(str(copy))
    for w in writes:
        has = con.execute(
            "SELECT count(*) FROM duckdb_columns() WHERE table_name = ? AND column_name = 'child_id'", [w.table]
        ).fetchall()[0][0]
        if has:
            con.execute(
                f"CREATE OR REPLACE TABLE {w.table} AS SELECT * REPLACE (CAST(child_id AS BIGINT) AS child_id) FROM {w.table}"
            )
    con.execute("CHECKPOINT")
    con.close()


def print_timing(title: str, timing: Timing, month: dict[str, float]) -> tuple[float, float]:
    """One variant's writes (beside each table's first, the wall time of the month's statements writing it), its
    groups' sums and its whole sum; returns the sum's wall and CPU seconds."""
    print(f"\n### {title}: DuckDB alone\n\n| group | write | rows | wall s | CPU s | the month's statements, wall s |")
    print("|---|---|---:|---:|---:|---:|")
    sums: dict[str, list[float]] = {}
    shown: set[str] = set()
    for group, what, rows, wall, cpu in timing:
        table = what.split(":")[0]
        real = f"{month[table]:.2f}" if table in month and table not in shown else ""
        shown.add(table)
        print(f"| {group} | {what} | {rows:,} | {wall:.2f} | {cpu:.2f} | {real} |")
        sums.setdefault(group, [0.0, 0.0])
        sums[group][0] += wall
        sums[group][1] += cpu
    for group, (wall, cpu) in sums.items():
        print(f"| **{group}** | | | **{wall:.2f}** | **{cpu:.2f}** | |")
    wall, cpu = sum(s[0] for s in sums.values()), sum(s[1] for s in sums.values())
    copy_wall, copy_cpu = sums[WORK_COPY]
    print(
        f"| **sum** | without the work copy: {wall - copy_wall:.2f} / {cpu - copy_cpu:.2f} | | **{wall:.2f}** | **{cpu:.2f}** | |"
    )
    return wall, cpu


def run(seed: Path, folder: Path, attributes: str, integer_key: bool) -> None:
    """One real month and each floor beside it."""
    load_before = os.getloadavg()[0]
    steps, total, cpu, month, writes = real_month(seed, folder, attributes)
    print(
        f"\n## the month ({attributes} attributes), load average {load_before:.2f} before\n\n| step | wall s |\n|---|---:|"
    )
    print("\n".join(f"| {name} | {secs:.2f} |" for name, secs in steps))
    print(f"| **whole load, checks on** | **{total:.2f}** (CPU {cpu:.2f}) |")
    variants = [("this layout", seed, writes, False), ("leaner layout", seed, leaner(writes), True)]
    int_seed = folder / "integer_key.duckdb"
    if integer_key:
        if not int_seed.exists():
            started = time.perf_counter()
            integer_key_store(seed, int_seed, writes)
            print(f"\n(the copy with integer child ids made in {time.perf_counter() - started:.0f} s, untimed below)")
        variants += [
            ("this layout, integer child id", int_seed, writes, False),
            ("leaner layout, integer child id", int_seed, leaner(writes), True),
        ]
    sums = {}
    for title, source, variant, lean in variants:
        beside = month if title == "this layout" else {}
        sums[title] = print_timing(title, floor(source, folder / "floor.duckdb", variant, lean), beside)
    print(f"\n| {attributes} month | wall s | CPU s | share of the month's wall |\n|---|---:|---:|---:|")
    print(f"| the month, loaders, checks on | {total:.2f} | {cpu:.2f} | 100% |")
    for title, (wall, cpu_secs) in sums.items():
        print(f"| floor, {title} | {wall:.2f} | {cpu_secs:.2f} | {wall / total:.0%} |")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--store",
        type=Path,
        required=True,
        help="a validated national store, copied and never written (python -m benchmarks.national_store PATH)",
    )
    parser.add_argument("--attributes", choices=sorted(ATTRIBUTES), default="random")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--no-integer-key", dest="integer_key", action="store_false")
    parser.add_argument("--memory-limit", default=DEFAULT_LIMIT)
    parser.add_argument("--tmp", type=Path, default=Path("/tmp"), help="where the copies go (three of the store)")
    args = parser.parse_args(argv)
    if not args.store.exists():
        parser.error(f"no store at {args.store}: build one with python -m benchmarks.national_store {args.store}")
    cap(args.memory_limit)
    with tempfile.TemporaryDirectory(dir=args.tmp, prefix="month-floor-") as tmp:
        folder = Path(tmp)
        for _ in range(args.runs):
            run(args.store.resolve(), folder, args.attributes, args.integer_key)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
