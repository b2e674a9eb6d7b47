"""expectations.deferred_imports: a deferred module is imported on first use, and then works as itself; a trimmed package
skips the imports named until a name they bind is read."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from expectations.deferred_imports import Trim, defer, trim

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


def test_a_stand_in_gives_its_file_without_loading(probe: Path) -> None:
    defer((PROBE,))
    stand_in = sys.modules[PROBE]
    assert stand_in.__file__ is not None and stand_in.__file__.endswith(f"{PROBE}.py")
    # what Streamlit's first element does (is this a REPL?): every frame's module looked up through sys.modules
    assert all(inspect.getmodule(frame.frame) is not stand_in for frame in inspect.stack())
    assert not probe.exists()
    assert stand_in.ANSWER == 42 and probe.read_text() == "run\n"


TRIMMED_PACKAGE = "trimmed_probe_package"


@pytest.fixture()
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A package whose __init__ imports a name from a light module and one from a heavy one (which records its runs)."""
    runs = tmp_path / "heavy_runs.txt"
    root = tmp_path / TRIMMED_PACKAGE
    root.mkdir()
    (root / "__init__.py").write_text(
        f"from {TRIMMED_PACKAGE}.light import LIGHT\nfrom {TRIMMED_PACKAGE}.heavy import HEAVY as ALIAS\nAFTER = LIGHT + 1\n",
        encoding="utf-8",
    )
    (root / "light.py").write_text("LIGHT = 1\n", encoding="utf-8")
    (root / "heavy.py").write_text(
        f"from pathlib import Path\nfrom {TRIMMED_PACKAGE} import LIGHT\n"
        f"Path({str(runs)!r}).open('a').write('run\\n')\nHEAVY = LIGHT + 99\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield runs
    for name in [n for n in sys.modules if n.split(".")[0] == TRIMMED_PACKAGE]:
        del sys.modules[name]


def test_a_trimmed_package_skips_the_named_imports_until_a_name_they_bind_is_read(package: Path) -> None:
    trim({TRIMMED_PACKAGE: Trim(skip=frozenset({f"{TRIMMED_PACKAGE}.heavy"}))})
    import trimmed_probe_package as trimmed

    assert trimmed.AFTER == 2  # every other statement ran, in order
    assert f"{TRIMMED_PACKAGE}.heavy" not in sys.modules and not package.exists()
    assert getattr(trimmed, "no_such_name", None) is None  # a walk of sys.modules looking for a name finds none
    assert not package.exists()
    from trimmed_probe_package import ALIAS  # a name the whole __init__ binds: it runs, once

    assert ALIAS == 100 and trimmed.heavy.HEAVY == 100
    assert package.read_text() == "run\n"
    with pytest.raises(ImportError):
        from trimmed_probe_package import still_no_such_name  # noqa: F401


def test_great_expectations_runs_without_the_data_sources_the_checks_never_use() -> None:
    """In a fresh process (this one may have imported GE already): the checks' import leaves Spark, SQL, S3 and the
    expectations the checks do not use out (the expectations of every registry check built, none is missing), the
    pandas data source validates, and asking for any of them loads it."""
    script = """
import sys
from datetime import date
import pandas as pd
from expectations import suites
from expectations.checks import REGISTRY
from expectations.model import CheckParams
params = CheckParams(as_of=date(2025, 3, 31))
every_check = [suites.to_expectation(c, params) for c in REGISTRY.values() if c.ge is not None]
left_out = [n for n in ("datasource.fluent.sql_datasource", "datasource.fluent.spark_datasource",
                        "datasource.fluent.pandas_s3_datasource", "expectations.core.expect_column_mean_to_be_between")
            if "great_expectations." + n in sys.modules]
session = suites.GeSession.start()
suite = suites.gx.ExpectationSuite(name="t", expectations=[suites.E.ExpectColumnValuesToNotBeNull(column="a")])
result = session.validate("t", suite, pd.DataFrame({"a": [1, None, 3]}))
from great_expectations.expectations.registry import get_expectation_impl
mean = get_expectation_impl("expect_column_mean_to_be_between")  # an expectation left out: the registry completes
from great_expectations.datasource.fluent import SparkDatasource
print(left_out, result.results[0].result["unexpected_count"], mean.__name__, SparkDatasource.__name__, sep=";")
"""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=root, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[];1;ExpectColumnMeanToBeBetween;SparkDatasource"


OUTER = "outer_probe_package"


@pytest.fixture()
def packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A package re-exporting an inner one's names, as gx.expectations re-exports core's; the inner one's modules
    fill a registry, as GE's expectations do (the module left out records its runs)."""
    runs = tmp_path / "unused_runs.txt"
    outer = tmp_path / OUTER
    (outer / "inner").mkdir(parents=True)
    (outer / "__init__.py").write_text("from .inner import USED, UNUSED\n", encoding="utf-8")
    (outer / "registry.py").write_text("ENTRIES = {}\n", encoding="utf-8")
    (outer / "inner" / "__init__.py").write_text(
        "from .used import USED\nfrom .unused import UNUSED\n", encoding="utf-8"
    )
    (outer / "inner" / "used.py").write_text(
        f"from {OUTER}.registry import ENTRIES\nENTRIES['used'] = USED = 1\n", encoding="utf-8"
    )
    (outer / "inner" / "unused.py").write_text(
        f"from pathlib import Path\nfrom {OUTER}.registry import ENTRIES\n"
        f"Path({str(runs)!r}).open('a').write('run\\n')\nENTRIES['unused'] = UNUSED = 2\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield runs
    for name in [n for n in sys.modules if n.split(".")[0] == OUTER]:
        del sys.modules[name]


def test_a_registry_or_a_re_export_asking_for_what_was_left_out_completes_the_package(packages: Path) -> None:
    trim(
        {
            OUTER: Trim(),
            f"{OUTER}.inner": Trim(keep=frozenset({f"{OUTER}.inner.used"}), registry=(f"{OUTER}.registry", "ENTRIES")),
        }
    )
    import outer_probe_package as outer

    registry = sys.modules[f"{OUTER}.registry"]
    assert outer.USED == 1 and not packages.exists()  # the re-export binds what the inner package binds
    assert registry.ENTRIES.get("used") == 1 and not packages.exists()
    assert registry.ENTRIES.get("unused") == 2  # the registry asked for what was left out: the inner package completes
    assert outer.UNUSED == 2  # and the re-export, on its first read
    assert packages.read_text() == "run\n"
