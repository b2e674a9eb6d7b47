"""The project's loaders take every generated file: no unexpected ExtractError, exactly the injected rejects, the true rates."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

from ingest.pipeline import load_files
from synthetic import readback
from synthetic.demo import extract_files

pytestmark = pytest.mark.slow  # builds a whole synthetic council through the loaders

PARAMS = readback.small_params()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return readback.generated(PARAMS, readback.shared_root(tmp_path_factory.getbasetemp()))


@pytest.fixture(scope="module")
def loaded(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[list, duckdb.DuckDBPyConnection]:
    store = tmp_path_factory.mktemp("synthetic_store") / "store.duckdb"
    summaries = load_files(extract_files(folder), store=store, validate=False)
    con = duckdb.connect(str(store.resolve()), read_only=True)
    yield summaries, con
    con.close()


def _expected_rejects(truth: dict) -> dict[str, int]:
    """Rows the readers must set aside: rows without a child id and rows whose key date is not a date."""
    out: dict[str, int] = {}
    for fault in truth["faults"]:
        if fault["kind"] in ("missing_child_id", "unparseable_key_date"):
            for name, n in fault["files"].items():
                out[name] = out.get(name, 0) + n
    return out


def test_every_file_loads(loaded) -> None:
    summaries, _ = loaded
    failed = [s.error for s in summaries if s.status != "loaded"]
    assert failed == []
    assert {s.format for s in summaries} == {"annex_a", "cin_census", "case_recording"}
    assert sum(1 for s in summaries if s.format == "annex_a") == 11 + 4  # 11 workbooks, 4 per-list CSVs


def test_rejects_are_exactly_the_injected_rows(loaded, folder: Path) -> None:
    _, con = loaded
    truth = json.loads((folder / "truth.json").read_text())
    rows = con.execute(
        # a CIN census row is rejected once per table it feeds: count its CINdetails (the referrals)
        "SELECT source_file, count(*) FROM rejects WHERE source_file NOT LIKE 'cin_census%' OR entity = 'referrals' GROUP BY 1"
    ).fetchall()
    found: dict[str, int] = {}
    for name, n in rows:
        key = re.sub(r"_list_\d+\.csv$", "_list_*.csv", name)
        found[key] = found.get(key, 0) + n
    assert found == _expected_rejects(truth)


def test_store_recovers_the_true_re_referral_rate(loaded, folder: Path) -> None:
    """An independent SQL count over the loaded referrals gives truth.json's numerator and denominator."""
    _, con = loaded
    rate = json.loads((folder / "truth.json").read_text())["rates"]["re_referral_rate"]
    period = json.loads((folder / "truth.json").read_text())["rates"]["period"]
    denominator, numerator = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM referrals q WHERE q.child_id = p.child_id"
        " AND q.referral_date < p.referral_date AND q.referral_date >= p.referral_date - INTERVAL 12 MONTH))"
        " FROM referrals p WHERE p.referral_date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)",
        [period["start"], period["end"]],
    ).fetchone()
    assert (numerator, denominator) == (rate["numerator"], rate["denominator"])


def test_demo_loads_a_quarter_at_a_time() -> None:
    from synthetic.demo import quarterly_batches

    names = [
        "annex_a_2024-05-31.xlsx",
        "cin_census_2023-24.xml",
        "case_recordings_2024-Q2.csv",
        "annex_a_2024-03-31.xlsx",
        "annex_a_2024-04-30_list_3.csv",
    ]
    batches = [[p.name for p in batch] for batch in quarterly_batches([Path(n) for n in names])]
    # the 2023-24 census closes on 31 March 2024, so it lands with the first quarter of 2024
    assert batches == [
        ["annex_a_2024-03-31.xlsx", "cin_census_2023-24.xml"],
        ["annex_a_2024-04-30_list_3.csv", "annex_a_2024-05-31.xlsx", "case_recordings_2024-Q2.csv"],
    ]
