"""Opt-in pytest plugin (`-p tests.phase_times`): where a run's time went, per phase and per process, with CPU and load.

Prints the summed setup / call / teardown durations, each process's collection time and CPU time, the CPU time of
each test file (this process and the subprocesses its tests waited for; the steadier figure on a shared machine), and
the load average at the start and the end, so a timing taken while others share the machine can be read for what it is.
"""

from __future__ import annotations

import os
import resource
import time
from collections import Counter
from collections.abc import Generator
from typing import Any

import pytest

__all__ = [  # the hooks pytest calls (named here so the dead-code check counts them as used)
    "pytest_collection",
    "pytest_runtest_protocol",
    "pytest_runtest_logreport",
    "pytest_sessionfinish",
    "pytest_testnodedown",
    "pytest_terminal_summary",
]

_started = time.monotonic()
_load_at_start = os.getloadavg()
_phases: Counter[str] = Counter()
_processes: dict[str, dict[str, float]] = {}
_collection: dict[str, float] = {}
_file_cpu: Counter[str] = Counter()


def _cpu(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_collection(session: pytest.Session) -> Generator[None, None, None]:
    wall, cpu = time.monotonic(), _cpu()
    yield
    _collection.update(wall=time.monotonic() - wall, cpu=_cpu() - cpu)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, None, None]:
    cpu = _cpu() + _cpu(resource.RUSAGE_CHILDREN)
    yield
    _file_cpu[item.location[0]] += _cpu() + _cpu(resource.RUSAGE_CHILDREN) - cpu


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _phases[report.when] += report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    output = getattr(session.config, "workeroutput", None)
    if output is not None:  # a pytest-xdist worker: hand the figures to the controller
        output["phase_times"] = {"collect_wall": _collection.get("wall", 0.0), "cpu": _cpu()}
        output["file_cpu"] = dict(_file_cpu)


def pytest_testnodedown(node: Any, error: object) -> None:
    figures = getattr(node, "workeroutput", {}).get("phase_times")
    if figures:
        _processes[node.gateway.id] = figures
    _file_cpu.update(getattr(node, "workeroutput", {}).get("file_cpu", {}))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    say = terminalreporter.write_line
    say(f"phase totals (summed over processes): {', '.join(f'{k} {v:.1f} s' for k, v in sorted(_phases.items()))}")
    if _collection and not _processes:  # collected here (under pytest-xdist the workers collect)
        say(f"collection {_collection['wall']:.1f} s wall, {_collection['cpu']:.1f} s CPU")
    for name, figures in sorted(_processes.items()):
        say(f"{name}: collection {figures['collect_wall']:.1f} s wall, {figures['cpu']:.1f} s CPU in all")
    if _file_cpu:
        say(f"CPU per test file, setup to teardown ({sum(_file_cpu.values()):.1f} s in all; from 1 s):")
        for name, seconds in _file_cpu.most_common():
            if seconds >= 1:
                say(f"  {seconds:6.1f} s  {name}")
    cpu = _cpu() + _cpu(resource.RUSAGE_CHILDREN)
    start, end = (" ".join(f"{x:.1f}" for x in load) for load in (_load_at_start, os.getloadavg()))
    say(
        f"wall {time.monotonic() - _started:.1f} s, CPU {cpu:.1f} s (this process and ended children), load {start} -> {end}"
    )
