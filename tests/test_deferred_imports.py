"""expectations.deferred_imports: a deferred module is imported on first use, and then works as itself."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from expectations.deferred_imports import defer

PROBE = "deferred_probe_module"


@pytest.fixture()
def probe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A module that records in a file each time it is executed."""
    runs = tmp_path / "runs.txt"
    (tmp_path / f"{PROBE}.py").write_text(
        f"from pathlib import Path\nPath({str(runs)!r}).open('a').write('run\\n')\nANSWER = 42\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, PROBE, raising=False)
    yield runs
    sys.modules.pop(PROBE, None)


def test_a_deferred_module_runs_only_when_first_used(probe: Path) -> None:
    defer((PROBE,))
    import deferred_probe_module as stand_in  # the import statement itself costs nothing

    assert not probe.exists()
    assert stand_in.ANSWER == 42  # first use: the real module runs, once
    from deferred_probe_module import ANSWER

    assert ANSWER == 42
    assert probe.read_text() == "run\n"
    assert sys.modules[PROBE] is not stand_in and sys.modules[PROBE].ANSWER == 42


def test_a_module_already_imported_or_missing_is_left_alone(probe: Path) -> None:
    import deferred_probe_module

    defer((PROBE, "no_such_module_anywhere"))
    assert sys.modules[PROBE] is deferred_probe_module
    assert "no_such_module_anywhere" not in sys.modules
    assert probe.read_text() == "run\n"
