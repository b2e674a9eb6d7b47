"""Time the synthetic council's extracts (`python -m synthetic extracts`) in one process, and check them against a reference.

Usage: .venv/bin/python -m benchmarks.bench_synthetic_extracts [--children 300] [--years 1] [--seed 7]
       [--end 2025-09-30] [--repeat 3] [--profile] [--reference DIR]

Writes the extracts (made-up children, no real data) to a temporary directory --repeat times and prints the
CPU and wall seconds of each build (imports excluded: they are paid once per process) and the load average.
--profile runs the builds under cProfile (what the hot spots were found with; its figures are ~2.5x the real ones).
--reference DIR (a folder written by another version of the generator, same parameters) checks that the last
build wrote the same files: CSV, XML and truth.json byte for byte, every workbook's every sheet cell for cell
(python_calamine, empty areas kept). Exit 1 on any difference.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import filecmp
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synthetic.build import extracts
from synthetic.params import Params


def build_once(params: Params, out: Path, profile: bool) -> tuple[float, float]:
    """CPU and wall seconds of one build into `out`."""
    profiler = cProfile.Profile() if profile else None
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler:
        profiler.runcall(extracts, params, out, 1)
    else:
        extracts(params, out, jobs=1)
    return time.process_time() - cpu, time.perf_counter() - wall


def differences(reference: Path, built: Path) -> list[str]:
    """One line per file that differs (bytes for text files, cells for workbooks), or that only one folder has."""
    from python_calamine import CalamineWorkbook

    ref_names = {p.name for p in reference.iterdir()}
    new_names = {p.name for p in built.iterdir()}
    out = [f"{name}: in one folder only" for name in sorted(ref_names ^ new_names)]
    for name in sorted(ref_names & new_names):
        a, b = reference / name, built / name
        if name.endswith((".xlsx", ".xls")):
            wa, wb = CalamineWorkbook.from_path(str(a)), CalamineWorkbook.from_path(str(b))
            if wa.sheet_names != wb.sheet_names:
                out.append(f"{name}: sheets differ")
                continue
            for sheet in wa.sheet_names:
                cells_a = wa.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
                if cells_a != wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False):
                    out.append(f"{name}: cells differ on {sheet}")
        elif not filecmp.cmp(a, b, shallow=False):
            out.append(f"{name}: bytes differ")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=300)
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2025, 9, 30))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--reference", type=Path, default=None)
    args = parser.parse_args()
    params = Params(children=args.children, years=args.years, seed=args.seed, end=args.end)
    with tempfile.TemporaryDirectory() as tmp:
        cpus = []
        for i in range(args.repeat):
            out = Path(tmp) / f"build_{i}"
            cpu, wall = build_once(params, out, args.profile)
            cpus.append(cpu)
            load = " ".join(f"{x:.2f}" for x in os.getloadavg())
            print(f"build {i + 1}: {cpu:.2f} s CPU, {wall:.2f} s wall (load average {load})")
        print(f"best of {args.repeat}: {min(cpus):.2f} s CPU{' (under cProfile)' if args.profile else ''}")
        if args.reference is None:
            return 0
        found = differences(args.reference, out)
        for line in found:
            print(line)
        print(f"against {args.reference}: {len(found)} differences")
        return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
