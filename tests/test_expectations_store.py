"""Results kept per load in the store, the dashboard's report functions, Data Docs, the bound on failing rows, and the CLI."""

from __future__ import annotations

import contextlib
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from expectations import data_docs, report, runner
from expectations.__main__ import main
from expectations.model import CheckParams
from expectations.runner import ValidationRun, run_checks, validate_store
from store.connection import open_for_update, open_read
from tests.storekit import build_store


def _referral(child: str, day: int, **kw: object) -> dict:
    return {
        "child_id": child,
        "referral_date": date(2024, 5, day),
        "referral_source": "6",
        "sex": "M",
        "ethnicity": "WBRI",
        "date_of_birth": date(2016, 1, 1),
        **kw,
    }


# Load 1: three referrals without sex. Load 2 (a later extract) corrects one: two are left.
LOAD_1 = {"referrals": [_referral(f"kid-{i}", i, sex=None) for i in (1, 2, 3)] + [_referral("kid-4", 4)]}
LOAD_2 = {"referrals": [_referral("kid-1", 1)]}
SEX_MISSING = "referrals.sex_present"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[list[Path]]]:
    """A store validated after each of two loads, then re-validated for load 2 (which must replace, not add).

    Data Docs are switched off for the two loads and built by the last validation only: each build replaces the
    whole folder, so the two before it would leave nothing the tests can see. Where each of the three validations
    built Data Docs is recorded (the third element), for the test that they are built once per validation unless
    switched off."""
    root = tmp_path_factory.mktemp("dq_store")
    built: list[list[Path]] = []
    build_data_docs = data_docs.build_data_docs

    def recorded(session: object, target: Path) -> Path | None:
        built[-1].append(target)
        return build_data_docs(session, target)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(data_docs, "build_data_docs", recorded)
        mp.setenv("FRONTDOOR_DATA_DOCS", "off")
        built.append([])
        path = build_store(root / "store.duckdb", LOAD_1, as_of=date(2024, 6, 30), validate=True)
        built.append([])
        build_store(path, LOAD_2, as_of=date(2024, 7, 31), validate=True)
        mp.delenv("FRONTDOOR_DATA_DOCS")
        built.append([])
        with open_for_update(path) as con:
            validate_store(con, 2)
    return path, root / "store.duckdb.data_docs", built


@pytest.fixture()
def con(store: tuple[Path, Path, list[list[Path]]]):
    connection = open_read(store[0])
    yield connection
    connection.close()


def test_results_are_kept_per_load_and_a_rerun_replaces_its_own(con) -> None:
    per_load = con.execute(
        "SELECT load_id, count(*), count(DISTINCT check_id) FROM dq_results GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert [row[0] for row in per_load] == [1, 2]
    assert all(n == distinct for _, n, distinct in per_load)  # the re-run of load 2 left one row per check
    failures = dict(
        con.execute("SELECT load_id, count(*) FROM dq_failures WHERE check_id = ? GROUP BY 1", [SEX_MISSING]).fetchall()
    )
    assert failures == {1: 3, 2: 2}


def test_trend_shows_the_check_getting_better(con) -> None:
    trend = report.dq_trend(con)
    sex = trend[trend["check_id"] == SEX_MISSING]
    assert sex["load_id"].tolist() == [1, 2]
    files = dict(con.execute("SELECT load_id, source_file FROM loads").fetchall())
    assert [label.split(" ", 1)[1] for label in sex["load"]] == [files[1], files[2]]  # load date and file name
    assert sex["unexpected_count"].tolist() == [3, 2]
    assert pd.to_datetime(sex["as_of"]).dt.date.tolist() == [date(2024, 6, 30), date(2024, 7, 31)]
    assert {"run_at", "table_name", "severity", "success", "unexpected_percent"} <= set(trend.columns)


def test_summary_by_table_and_severity_for_the_latest_load(con) -> None:
    summary = report.dq_summary(con)
    errors = summary[(summary["table_name"] == "referrals") & (summary["severity"] == "error")].iloc[0]
    failing = con.execute(
        "SELECT count(*), sum(unexpected_count) FROM dq_results WHERE load_id = 2 AND NOT success"
        " AND table_name = 'referrals' AND severity = 'error'"
    ).fetchall()[0]
    assert (errors["checks_failed"], errors["failing_rows"]) == failing
    assert (
        errors["checks"]
        == con.execute(
            "SELECT count(*) FROM dq_results WHERE load_id = 2 AND table_name = 'referrals' AND severity = 'error'"
        ).fetchall()[0][0]
    )
    assert summary["table_name"].iloc[0] == "contacts" and summary["table_name"].iloc[-1] == "cross_table"
    assert (
        report.dq_summary(con, load_id=1)
        .set_index(["table_name", "severity"])
        .loc[("referrals", "error"), "failing_rows"]
        > errors["failing_rows"]
    )


def test_failing_checks_list_each_failure_with_its_stored_rows(con) -> None:
    failing = report.dq_failing_checks(con).set_index("check_id")
    assert SEX_MISSING in failing.index
    row = failing.loc[SEX_MISSING]
    assert (row["unexpected_count"], row["rows_stored"], row["dfe_code"], row["severity"]) == (2, 2, None, "error")
    assert row["title"] == "Sex recorded" and "M, F or U" in row["description"]
    assert "referrals.key_unique" not in failing.index  # passing checks are not listed


def test_failure_rows_are_the_correction_csv(con) -> None:
    rows = report.dq_failure_rows(con, check_id=SEX_MISSING)
    assert list(rows.columns[:6]) == ["child_id", "source_file", "sheet", "row_number", "value", "problem"]
    assert rows["child_id"].tolist() == ["kid-2", "kid-3"]
    assert rows["source_file"].eq("fixture_referrals.xlsx").all() and rows["value"].eq("missing").all()
    assert rows["problem"].eq("Sex missing: record M, F or U").all()
    csv = rows.to_csv(index=False)
    assert csv.splitlines()[0].startswith("child_id,source_file,sheet,row_number,value,problem")
    assert len(report.dq_failure_rows(con, check_id=SEX_MISSING, load_id=1)) == 3
    everything = report.dq_failure_rows(con)
    assert set(everything["check_id"]) == set(report.dq_failing_checks(con)["check_id"])


def test_report_functions_on_a_store_never_validated(tmp_path: Path) -> None:
    path = build_store(tmp_path / "store.duckdb", LOAD_2, validate=False)
    connection = open_read(path)
    try:
        assert report.dq_summary(connection).empty and report.dq_trend(connection).empty
        assert report.dq_failing_checks(connection).empty and report.dq_failure_rows(connection).empty
    finally:
        connection.close()


def test_data_docs_are_built_served_and_free_of_child_values(
    store: tuple[Path, Path, list[list[Path]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = store[1]
    assert (docs / "index.html").is_file()
    pages = list((docs / "validations").rglob("*.html"))
    assert {p.parts[-4] for p in pages} == {"contacts", "referrals", "assessments", "cin_episodes", "recordings"}
    text = "".join(p.read_text(encoding="utf-8") for p in pages)
    assert "referrals.sex_present" in text  # the check id is in the expectation's meta
    assert "kid-" not in text  # no child ids in a page anyone can open
    static = docs.parent / "static"
    monkeypatch.setattr(data_docs, "STATIC_DIR", static)
    monkeypatch.setattr(data_docs, "PUBLISHED_DIR", static / "data_docs")
    url = report.data_docs_url(str(store[0]))
    assert url == f"/app/static/data_docs/{data_docs.store_key(store[0])}/index.html"
    assert (static / url.removeprefix("/app/static/")).is_file()
    assert report.data_docs_url(str(docs.parent / "nothing_here.duckdb")) is None


def test_data_docs_folder_is_beside_the_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FRONTDOOR_DATA_DOCS", raising=False)
    assert data_docs.data_docs_dir(store="/x/demo.duckdb") == Path("/x/demo.duckdb.data_docs")
    assert data_docs.data_docs_dir() is None  # no store, no docs: never a shared folder
    assert data_docs.data_docs_dir("/x/y", store="/x/demo.duckdb") == Path("/x/y")
    monkeypatch.setenv("FRONTDOOR_DATA_DOCS", "off")
    assert data_docs.data_docs_dir(store="/x/demo.duckdb") is None


def test_data_docs_are_built_once_per_validation_unless_switched_off(
    store: tuple[Path, Path, list[list[Path]]],
) -> None:
    """The module's store: two loads validated with Data Docs switched off, then one validation with them on."""
    path, docs, built = store
    assert built == [[], [], [docs]] and docs == path.parent / "store.duckdb.data_docs"


def test_stored_failing_rows_are_bounded_but_counted_exactly(con) -> None:
    params = CheckParams.from_store(con, max_failure_rows=1)
    run = run_checks(con, params, check_ids=[SEX_MISSING, "cross_table.ethnicity_consistent"])
    results = run.results.set_index("check_id")
    assert results.loc[SEX_MISSING, "unexpected_count"] == 2
    assert (run.failures["check_id"] == SEX_MISSING).sum() == 1


@pytest.fixture(scope="module")
def cli_json(store: tuple[Path, Path, list[list[Path]]]) -> tuple[str, list[ValidationRun]]:
    """What `python -m expectations validate --format json` prints for the module's store, and the run it printed
    (the checks run once; the table-format test prints the same run)."""
    runs: list[ValidationRun] = []

    def recorded(*args: Any, **kwargs: Any) -> ValidationRun:
        runs.append(run_checks(*args, **kwargs))
        return runs[-1]

    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(printed):
        mp.setattr(runner, "run_checks", recorded)  # the CLI imports it from the runner when it runs
        assert main(["validate", "--store", str(store[0]), "--format", "json", "--no-docs"]) == 0
    return printed.getvalue(), runs


def test_cli_prints_each_expectation_as_json(cli_json: tuple[str, list[ValidationRun]]) -> None:
    printed = json.loads(cli_json[0])
    assert len(cli_json[1]) == 1  # the checks ran, on the whole store
    by_id = {r["check_id"]: r for r in printed}
    assert set(printed[0]) == {
        "table",
        "check_id",
        "expectation",
        "dfe_code",
        "severity",
        "success",
        "unexpected_count",
    }
    assert by_id[SEX_MISSING] == {
        "table": "referrals",
        "check_id": SEX_MISSING,
        "expectation": "expect_column_values_to_not_be_null",
        "dfe_code": None,
        "severity": "error",
        "success": False,
        "unexpected_count": 2,
    }
    assert by_id["cin_episodes.8820_no_overlap"]["expectation"] == "sql"


def test_cli_table_output_and_missing_store(
    store: tuple[Path, Path, list[list[Path]]],
    cli_json: tuple[str, list[ValidationRun]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The table format of the same validation: the checks' run is the one the JSON test printed (not run again)."""
    (run,) = cli_json[1]
    monkeypatch.setattr(runner, "run_checks", lambda *args, **kwargs: run)
    assert main(["validate", "--store", str(store[0]), "--no-docs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "table",
        "check_id",
        "expectation",
        "dfe_code",
        "severity",
        "success",
        "unexpected_count",
    ]
    assert len(lines) == 1 + len(json.loads(cli_json[0]))  # a line per check
    sex = next(line for line in lines if SEX_MISSING in line).split()
    assert sex[-3:] == ["error", "False", "2"] and "4180" not in sex  # the merged-store check carries no DfE code
    assert main(["validate", "--store", str(tmp_path / "none.duckdb"), "--no-docs"]) == 2


def test_cli_docs_prints_the_catalogue(capsys: pytest.CaptureFixture) -> None:
    assert main(["docs"]) == 0
    assert capsys.readouterr().out.startswith("# Data quality checks")


def test_unexpected_percent_is_of_rows_checked(con) -> None:
    row = pd.Series(
        con.execute(
            "SELECT element_count, unexpected_count, unexpected_percent FROM dq_results"
            " WHERE load_id = 2 AND check_id = ?",
            [SEX_MISSING],
        ).fetchall()[0],
        index=["checked", "failing", "percent"],
    )
    assert (row["checked"], row["failing"]) == (4, 2) and row["percent"] == pytest.approx(50.0)
