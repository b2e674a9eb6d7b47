"""The registry covers every metric function, docs/METRICS.md is current, and the CLI prints the 13 headline keys."""

from __future__ import annotations

import importlib
import inspect
import json
import math
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from metrics.__main__ import main as cli_main
from metrics.registry import GOOD_DIRECTIONS, KINDS, REGISTRY, definitions_frame, definitions_markdown
from metrics.report import HEADLINE_KEYS
from tests.storekit import build_store

ROOT = Path(__file__).resolve().parent.parent
API_MODULES = ("re_referrals", "timeliness", "ethnicity", "front_door", "practice", "benchmarks", "spc", "privacy")


def _public_functions() -> list[str]:
    names = []
    for module_name in API_MODULES:
        module = importlib.import_module(f"metrics.{module_name}")
        names += [
            f"metrics.{module_name}.{name}"
            for name, obj in inspect.getmembers(module, inspect.isfunction)
            if not name.startswith("_") and obj.__module__ == module.__name__
        ]
    return names


def test_every_metric_function_has_a_registry_entry() -> None:
    registered = {d.function_name for d in REGISTRY.values()}
    missing = sorted(set(_public_functions()) - registered)
    assert not missing, f"functions without a registry entry: {missing}"


def test_every_registry_entry_names_a_real_function_and_is_complete() -> None:
    for code, definition in REGISTRY.items():
        module_name, _, name = definition.function_name.rpartition(".")
        assert getattr(importlib.import_module(module_name), name) is definition.function, code
        assert definition.good_direction in GOOD_DIRECTIONS and definition.kind in KINDS, code
        for field in ("title", "wording", "numerator", "denominator", "unit", "source", "convention"):
            assert getattr(definition, field).strip(), f"{code}.{field} is empty"


def test_definitions_frame_has_one_row_per_metric() -> None:
    frame = definitions_frame()
    assert frame["code"].tolist() == list(REGISTRY)
    assert {"numerator", "denominator", "good_direction", "convention"} <= set(frame.columns)


def test_docs_metrics_md_is_generated_from_the_registry() -> None:
    assert (ROOT / "docs" / "METRICS.md").read_text() == definitions_markdown() + "\n", (
        "regenerate with: python -m metrics docs > docs/METRICS.md"
    )


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "store.duckdb"
    rows = {
        "referrals": [
            dict(child_id="1", referral_date=date(2024, 1, 5), ethnicity="WBRI"),  # first: known
            dict(child_id="1", referral_date=date(2024, 2, 5)),
        ],  # re-referral, ethnicity missing
        "assessments": [dict(child_id="1", start_date=date(2024, 1, 8), authorised_date=date(2024, 1, 10))],
    }
    return build_store(path, rows, as_of=date(2024, 3, 31))


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m metrics` as a user runs it: its exit code, what it prints and where."""
    return subprocess.run(
        [sys.executable, "-m", "metrics", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The command's own code in this process (the process boundary is tested once, above): exit code, out, err."""
    code = cli_main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_json_has_exactly_the_headline_keys(store: Path) -> None:
    result = _run("report", "--store", str(store), "--from", "2024-01-01", "--to", "2024-03-31")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert list(report) == list(HEADLINE_KEYS) and len(report) == 13
    assert (report["referrals"], report["re_referrals"], report["re_referral_rate"]) == (2, 1, 50.0)
    assert (report["assessments_completed"], report["assessment_timeliness_rate"]) == (1, 100.0)
    assert report["recordings"] == 0 and report["recording_timeliness_rate"] is None  # nothing to divide by
    assert report["median_recording_delay_wd"] is None
    assert report["ethnicity_completeness_rate"] == 50.0
    assert "No recordings are loaded" in result.stderr


def test_cli_csv_and_empty_period(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _main(
        capsys, "report", "--store", str(store), "--from", "2010-01-01", "--to", "2010-12-31", "--format", "csv"
    )
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0] == "measure,value" and len(lines) == 14
    assert "re_referral_rate," in lines and "referrals,0" in lines


def test_cli_rejects_a_backwards_period(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = _main(capsys, "report", "--store", str(store), "--from", "2024-03-01", "--to", "2024-01-01")
    assert code == 2 and "after it ends" in err


def test_headline_rates_are_unrounded(store: Path) -> None:
    from metrics.params import Period
    from metrics.report import headline_report
    from store.connection import open_read

    with open_read(store) as con:
        report = headline_report(con, Period(date(2024, 1, 1), date(2024, 3, 31)), lookback="365_days")
    assert all(
        v is None or isinstance(v, (int, float)) and not (isinstance(v, float) and math.isnan(v))
        for v in report.values()
    )
