"""Return readiness: DfE findings stored per load and file by the loader, summarised per file, shown on the page."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from expectations.dfe_cin import readiness
from ingest.pipeline import load_files
from tests.dfe_cin_kit import assessment as a
from tests.dfe_cin_kit import census, child, cin, write
from tests.shared_paths import SAMPLES

APP = Path(__file__).resolve().parent.parent / "dashboard.py"
CLEAN = census(child(cin("2022-06-01", inner=a("2022-06-02", "2022-06-20"))))
# K1: 8820, the second referral falls within the first, still open and not NFA; 8816, that open episode is not the
# latest; 8670Q, its assessment open since 2022-06-02. K2: 8805, a closure without a reason.
FAULTY = census(
    child(cin("2022-05-01", inner=a("2022-06-02")), cin("2022-07-01", "2022-08-01", "RC1"), la_child_id="K1"),
    child(cin("2022-06-01", "2022-09-01"), la_child_id="K2"),
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("readiness")
    faulty, clean = write(folder, FAULTY, "faulty_cin.xml"), write(folder, CLEAN, "clean_cin.xml")
    path = folder / "store.duckdb"
    summaries = load_files(
        [faulty, SAMPLES / "annex_a" / "liia_Annex_A_2024_Jan.xlsx", clean], store=path, validate=False
    )
    assert [s.status for s in summaries] == ["loaded", "loaded", "loaded"], [s.error for s in summaries]
    return path


def _con(path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=True)


def test_findings_are_stored_per_load_and_file(store: Path) -> None:
    con = _con(store)
    files = readiness.return_files(con).set_index("source_file")
    assert set(files.index) == {"faulty_cin.xml", "clean_cin.xml"}
    faulty = files.loc["faulty_cin.xml"]
    rows = readiness.return_rows(con, int(faulty["load_id"]))
    assert sorted(zip(rows.rule_code, rows.la_child_id, rows.element_path)) == [
        ("8670Q", "K1", "Child[1]/CINdetails[1]/Assessments[1]"),
        ("8805", "K2", "Child[2]/CINdetails[1]"),
        ("8816", "K1", "Child[1]/CINdetails[1]"),
        ("8820", "K1", "Child[1]/CINdetails[2]"),
    ]
    assert (int(faulty["errors"]), int(faulty["queries"]), bool(faulty["ready"])) == (3, 1, False)
    assert list(rows.columns) == list(readiness.RETURN_ROW_COLUMNS)
    from ui.downloads import readable_frame  # the CSV the officer works down

    assert list(readable_frame(rows).columns) == [
        "LAchildID",
        "DfE rule",
        "Rule type",
        "DfE message",
        "Element path",
        "Values",
        "Source file",
        "Row number",
    ]
    assert set(rows.source_file) == {"faulty_cin.xml"} and set(rows.row_number) == {1, 2}
    clean = files.loc["clean_cin.xml"]
    assert (int(clean["errors"]), int(clean["queries"]), bool(clean["ready"])) == (0, 0, True)
    assert readiness.return_rows(con, int(clean["load_id"])).empty
    assert files.loc["faulty_cin.xml", "census_year"] == "2022-23"
    by_rule = readiness.rule_counts(con, int(faulty["load_id"]))
    assert list(by_rule.rule_code) == ["8805", "8816", "8820", "8670Q"]  # errors first, then by findings and code
    # only CIN census files are checked: the Annex A file loaded between them has no run and no findings
    assert con.execute("SELECT count(*) FROM dfe_findings WHERE source_file NOT LIKE '%cin.xml'").fetchall()[0][0] == 0


def test_trend_is_by_load_date_and_file_name(store: Path) -> None:
    trend = readiness.readiness_trend(_con(store))
    assert list(trend.columns) == ["loaded_on", "source_file", "file", "rule_type", "findings"]
    assert [f.split(" ", 1)[1] for f in trend.file[::2]] == ["faulty_cin.xml", "clean_cin.xml"]
    assert list(trend.findings) == [3, 1, 0, 0]


def test_page_shows_readiness_per_file_with_the_rows_in_the_sensitive_list(
    monkeypatch: pytest.MonkeyPatch, store: Path
) -> None:
    monkeypatch.setenv("FRONTDOOR_STORE", str(store))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("pages/data_quality_page.py").run()
    assert not at.exception and not at.error
    files = readiness.return_files(_con(store)).set_index("source_file")
    box = at.selectbox(key="dq_return_file")
    box.set_value(int(files.loc["faulty_cin.xml", "load_id"])).run()
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Errors that would block the return"] == "3" and tiles["Queries to correct or explain"] == "1"
    at.session_state["dq_return_rows_open"] = True  # open the sensitive list's expander
    at.run()
    shown = next(d.value for d in at.dataframe if "element_path" in d.value.columns)
    assert list(shown.columns) == list(readiness.RETURN_ROW_COLUMNS) and len(shown) == 4
    assert any("personal data" in b.label for b in at.download_button)
    at.selectbox(key="dq_return_file").set_value(int(files.loc["clean_cin.xml", "load_id"])).run()
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Errors that would block the return"] == "0"
    assert any("nothing blocks the return" in s.value for s in at.success)


def test_a_store_from_before_has_no_cin_files_to_show() -> None:
    assert list(readiness.return_files(duckdb.connect()).columns) == list(readiness.FILE_COLUMNS)


def test_trend_charts_label_loads_by_date_and_file_in_load_order(store: Path) -> None:
    import pandas as pd

    from ui.charts import dq_trend_chart, readiness_trend_chart

    fig = readiness_trend_chart(readiness.readiness_trend(_con(store)))
    errors = next(t for t in fig.data if t.name == "errors")
    assert [x.split(" ", 1)[1] for x in errors.x] == ["faulty_cin.xml", "clean_cin.xml"] and list(errors.y) == [3, 0]
    assert "0 errors in the latest file" in fig.layout.title.text
    assert {t.name for t in fig.data} <= {"errors", "queries"}
    assert fig.layout.margin.t >= 36 + 22  # room for the title's line above the legend (they overlapped)
    # a later load whose label sorts first still comes last
    loads = pd.DataFrame(
        {
            "load_id": [1, 2],
            "load": ["2026-12-02 z.xml", "2026-12-02 a.xml"],
            "severity": ["error", "error"],
            "failed": [5, 1],
        }
    )
    fig = dq_trend_chart(loads, x="load")
    assert list(fig.data[0].x) == ["2026-12-02 z.xml", "2026-12-02 a.xml"] and "down from 5" in fig.layout.title.text
    assert fig.layout.margin.t >= 36 + 22
