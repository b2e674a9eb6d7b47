"""A load's checks re-run only on what it touched, yet store the results a run on the whole store gives."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from expectations import incremental
from expectations.checks import REGISTRY
from expectations.model import CheckParams
from expectations.runner import validate_store
from ingest.pipeline import load_files
from store import derive
from store.connection import open_for_update, published_file
from synthetic import readback
from synthetic.demo import extract_files, quarterly_batches

pytestmark = pytest.mark.slow  # builds a whole synthetic council through the loaders, checked at every load

CAP = 7  # failing rows stored per check: small, so the cap is exercised

_from_store = CheckParams.from_store.__func__  # type: ignore[attr-defined]


def _capped(cls, con, load_id=None, ethnicity_threshold=None, max_failure_rows=CAP):  # type: ignore[no-untyped-def]
    return _from_store(cls, con, load_id, ethnicity_threshold, CAP)


def _results(con: duckdb.DuckDBPyConnection, load_id: int) -> list[tuple]:
    return con.execute(
        "SELECT check_id, table_name, expectation, severity, engine, success, element_count, unexpected_count,"
        " round(unexpected_percent, 9) FROM dq_results WHERE load_id = ? ORDER BY ALL",
        [load_id],
    ).fetchall()


def _failures(con: duckdb.DuckDBPyConnection, load_id: int) -> list[tuple]:
    return con.execute(
        "SELECT check_id, table_name, child_id, source_file, sheet, row_number, value, problem FROM dq_failures"
        " WHERE load_id = ? ORDER BY ALL",
        [load_id],
    ).fetchall()


def _kept(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(f"SELECT * FROM {incremental.KEPT} ORDER BY ALL").fetchall()


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> list[list[Path]]:
    folder = readback.generated(readback.small_params(), readback.shared_root(tmp_path_factory.getbasetemp()))
    return quarterly_batches(extract_files(folder))


@pytest.fixture(scope="module")
def compared(batches: list[list[Path]], tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    """Load the quarters one publish at a time, checks on; after each, validate a copy on the whole store."""
    root = tmp_path_factory.mktemp("incremental_checks")
    store = root / "store.duckdb"
    seen: list[dict] = []
    carried: list[frozenset[str]] = []
    real_carried = incremental.carried_checks

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        carried.append(real_carried(*args, **kwargs))
        return carried[-1]

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FRONTDOOR_DATA_DOCS", "off")
        mp.setattr(derive, "FULL_REBUILD_SHARE", 2.0)  # the small council: the incremental derive path too
        mp.setattr(CheckParams, "from_store", classmethod(_capped))
        mp.setattr(incremental, "carried_checks", spy)
        for i, batch in enumerate(batches):
            asked = len(carried)  # a load into a store with no derived tables yet checks everything without asking
            summaries = load_files(batch, store=store, validate=True)
            assert all(s.status == "loaded" for s in summaries), [s.error for s in summaries]
            load_id = max(s.load_id for s in summaries if s.load_id is not None)
            copy = root / f"whole-{i}.duckdb"
            shutil.copyfile(published_file(store), copy)
            with open_for_update(copy) as con:
                validate_store(con, load_id)  # every check on the whole store
            loaded = duckdb.connect(str(published_file(store)), read_only=True)
            whole = duckdb.connect(str(published_file(copy)), read_only=True)
            try:
                seen.append(
                    {
                        "load_id": load_id,
                        "carried": carried[-1] if len(carried) > asked else frozenset(),
                        "results": (_results(loaded, load_id), _results(whole, load_id)),
                        "failures": (_failures(loaded, load_id), _failures(whole, load_id)),
                        "kept": (_kept(loaded), _kept(whole)),
                    }
                )
            finally:
                loaded.close()
                whole.close()
    return seen


def test_each_load_stores_the_results_of_a_whole_store_run(compared: list[dict]) -> None:
    assert len(compared) >= 3, "too few loads to show anything carried forward"
    for step in compared:
        incremental_rows, whole_rows = step["results"]
        assert len(incremental_rows) == len(REGISTRY)
        assert incremental_rows == whole_rows, f"load {step['load_id']}: dq_results differ from a whole-store run"


def test_each_load_stores_the_failing_rows_of_a_whole_store_run(compared: list[dict]) -> None:
    for step in compared:
        incremental_rows, whole_rows = step["failures"]
        assert incremental_rows == whole_rows, f"load {step['load_id']}: dq_failures differ from a whole-store run"
        assert step["kept"][0] == step["kept"][1], f"load {step['load_id']}: kept failing rows differ"


def test_the_loads_after_the_first_re_check_only_what_they_touched(compared: list[dict]) -> None:
    kept = {c.check_id for c in REGISTRY.values() if c.kept}
    # a check that reads a store-wide value re-runs on the whole store when a load changes that value
    store_wide = {c.check_id for c in REGISTRY.values() if c.sql is not None and c.sql.depends_on is not None}
    assert compared[0]["carried"] == frozenset()  # nothing kept yet: the first load checks the whole store
    for step in compared[1:]:
        assert kept - step["carried"] <= store_wide, f"load {step['load_id']}: {sorted(kept - step['carried'])}"
    assert any(step["carried"] == kept for step in compared[1:])


def test_the_comparison_covers_failing_checks_of_every_kind(compared: list[dict]) -> None:
    last = compared[-1]
    failing = {row[0] for row in last["results"][0] if row[7] > 0}
    kinds = {REGISTRY[i].kind for i in failing}
    assert {"row", "child", "aggregate"} <= kinds, kinds
    capped = [row for row in last["results"][0] if row[7] > CAP]
    assert capped, "no check fails more often than the cap: the cap is not exercised"
