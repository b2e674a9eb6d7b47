"""The synthetic council's files: every workbook variant written, windows that overlap, determinism, the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from synthetic import annex_a, readback
from synthetic.__main__ import main
from synthetic.build import simulate
from synthetic.params import Params

PARAMS = readback.small_params()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return readback.generated(PARAMS, readback.shared_root(tmp_path_factory.getbasetemp()))


@pytest.fixture(scope="module")
def truth(folder: Path) -> dict:
    return json.loads((folder / "truth.json").read_text())


def _cells(path: Path) -> dict[str, list[list[object]]]:
    wb = CalamineWorkbook.from_path(str(path))
    return {name: wb.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in wb.sheet_names}


def _all_cells(folder: Path) -> list[object]:
    values: list[object] = []
    for path in sorted(folder.glob("annex_a_*.xls*")):
        for rows in _cells(path).values():
            values.extend(v for row in rows for v in row)
    return values


def test_every_annex_a_variant_is_written(folder: Path, truth: dict) -> None:
    styles = {f["style"]["name"] for f in truth["files"] if f["format"] == "annex_a"}
    assert styles == {s.name for s in annex_a.XLSX_STYLES} | {"legacy_xls", "per_list_csv"}
    assert len(list(folder.glob("annex_a_*.xls"))) == 1
    assert len(list(folder.glob("annex_a_*_list_*.csv"))) == 4
    sheets = {s for p in folder.glob("annex_a_*.xls*") for s in CalamineWorkbook.from_path(str(p)).sheet_names}
    assert {"List 3", "List_3", "Referrals", "Front_Sheet", "List_2"} <= sheets

    cells = _all_cells(folder)
    text = {v for v in cells if isinstance(v, str)}
    assert {
        "List 1: Contacts",
        "Age",
        "Age of Child (Years)",
        "Date of referral",
        "#N/A",
    } <= text  # title row, headings
    assert any(
        v.endswith(" ") and v.strip() in {"Child Unique ID", "Date of Birth", "Gender"} for v in text
    )  # trailing
    assert any("children’s" in v for v in text) and any("children's" in v for v in text)  # curly and straight
    assert {"a) WBRI", "WBRI", "b) Female", "F", "Female", "a) Yes", "yes", "q) 6: Police", "Police"} <= text
    assert any("\xa0" in v for v in text)  # non-breaking space inside a worker's name
    assert any(len(v) == 10 and v[2] == "/" and v[5] == "/" for v in text)  # DD/MM/YYYY text dates
    assert any(isinstance(v, dt.date) for v in cells)  # real dates
    assert any(isinstance(v, float) and 30000 < v < 50000 for v in cells)  # Excel serial numbers (and numeric ids)
    assert any(isinstance(v, str) and v.startswith("C") and v[1:].isdigit() for v in cells)  # text child ids
    assert any(isinstance(v, float) and v >= 1_000_000 for v in cells)  # numeric child ids


def test_formula_dates_carry_cached_values(folder: Path, truth: dict) -> None:
    import openpyxl

    entry = next(f for f in truth["files"] if f["style"]["name"] == "formula_dates")
    path = folder / entry["files"][0]
    ws = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    formulas = [
        c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=DATE(")
    ]
    assert formulas
    cached = _cells(path)["List_1"]
    assert isinstance(cached[1][5], dt.date | dt.datetime)  # the cached value is what a reader sees


def test_recording_csv_variants(folder: Path, truth: dict) -> None:
    entries = [f for f in truth["files"] if f["format"] == "case_recording"]
    assert {e["style"]["name"] for e in entries} == {
        "standard",
        "uk_dates_excel",
        "heading_variants",
        "no_views_float_ids",
    }
    heads = {e["style"]["name"]: (folder / e["files"][0]).read_bytes().split(b"\n")[0] for e in entries}
    assert heads["standard"].startswith(b"Record ID,Child Unique ID,Record Type,Event Date,Entered At")
    assert heads["heading_variants"].startswith(b"RECORD_ID,child unique id ,Record type,event_date")
    assert heads["uk_dates_excel"].startswith("\ufeff".encode()) and heads["uk_dates_excel"].endswith(b"\r")
    assert b"Child Views" not in heads["no_views_float_ids"]


def test_monthly_extracts_overlap_six_month_windows(folder: Path) -> None:
    l3 = readback.read_annex_a(folder)[3].dropna(subset=["child_id", "referral_date"])
    dates = sorted(l3["as_of"].unique())
    assert len(dates) == 12
    for as_of, rows in l3.groupby("as_of"):
        start = as_of - pd.DateOffset(months=6) + pd.Timedelta(days=1)
        assert rows["referral_date"].between(start, as_of).all()
    keys = {d: set(zip(g["child_id"], g["referral_date"])) for d, g in l3.groupby("as_of")}
    for earlier, later in zip(dates, dates[1:]):
        shared = keys[earlier] & keys[later]
        assert len(shared) > 0.6 * len(keys[later])  # five of the six months are in both


def test_recording_extracts_overlap_and_fill_in_write_ups(folder: Path) -> None:
    recs = readback.read_recordings(folder)
    files = sorted(recs["file"].unique())
    for earlier, later in zip(files, files[1:]):
        a, b = recs.loc[recs["file"] == earlier], recs.loc[recs["file"] == later]
        shared = set(a["record_id"]) & set(b["record_id"])
        assert shared
    both = recs.loc[recs.duplicated("record_id", keep=False)].sort_values(["record_id", "file"])
    filled_later = both.groupby("record_id")["entered_at"].agg(lambda s: pd.isna(s.iloc[0]) and pd.notna(s.iloc[-1]))
    assert filled_later.any()  # blank (not yet written up) in one extract, entered in the next


def test_census_files_follow_the_schema_of_their_year(folder: Path, truth: dict) -> None:
    import xml.etree.ElementTree as ET

    entries = [f for f in truth["files"] if f["format"] == "cin_census"]
    assert [e["files"][0] for e in entries] == ["cin_census_2024-25.xml"]
    root = ET.parse(folder / "cin_census_2024-25.xml").getroot()
    assert root.find("Header/CollectionDetails/ReferenceDate").text == "2025-03-31"
    assert root.find(".//Sex") is not None and root.find(".//GenderCurrent") is None
    order = [c.tag for c in root.find("Children/Child")]
    assert order[:2] == ["ChildIdentifiers", "ChildCharacteristics"] and set(order[2:]) == {"CINdetails"}


def test_gender_current_before_2024_25(tmp_path: Path) -> None:
    from synthetic.cin_census import CensusYear, census_years

    years = census_years(pd.Timestamp("2021-10-01"), pd.Timestamp("2025-09-30"))
    assert [y.label for y in years] == ["2022-23", "2023-24", "2024-25"]
    assert [y.uses_sex for y in years] == [False, False, True]
    assert CensusYear(2024).start == pd.Timestamp("2023-04-01")


def test_same_seed_gives_the_same_files(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The command line, run again with the same parameters, writes the same files."""
    again = tmp_path / "again"
    code = main(
        [
            "extracts",
            "--children",
            str(PARAMS.children),
            "--years",
            str(PARAMS.years),
            "--seed",
            str(PARAMS.seed),
            "--end",
            PARAMS.end.isoformat(),
            "--out",
            str(again),
            "--jobs",
            "1",
        ]
    )
    assert code == 0 and "wrote" in capsys.readouterr().out
    names = sorted(p.name for p in folder.iterdir() if p.suffix != ".lock")
    assert names == sorted(p.name for p in again.iterdir())
    for name in names:
        if name.endswith((".csv", ".xml", ".json")):
            assert (folder / name).read_bytes() == (again / name).read_bytes(), name
        else:
            assert _cells(folder / name) == _cells(again / name), name


def test_another_seed_gives_another_council() -> None:
    a = simulate(Params(children=200, years=1, seed=1)).truth.episodes
    b = simulate(Params(children=200, years=1, seed=2)).truth.episodes
    assert not a[["child_id", "referral_date"]].equals(b[["child_id", "referral_date"]])


def test_command_line_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import synthetic.build

    seen: dict = {}

    def fake_extracts(params: Params, out: Path, jobs: int = 1) -> dict:
        seen.update(params=params, out=out, jobs=jobs)
        rate = {"rate": 1.0, "median_wd": 2.0}
        return {
            "files": [],
            "rates": {
                k: rate
                for k in ("re_referral_rate", "assessment_within_45wd", "ethnicity_not_known", "recording_delay")
            },
        }

    monkeypatch.setattr(synthetic.build, "extracts", fake_extracts)
    assert (
        main(
            [
                "extracts",
                "--children",
                "60",
                "--years",
                "2",
                "--seed",
                "3",
                "--out",
                str(tmp_path),
                "--end",
                "2024-06-15",
                "--la-code",
                "201",
                "--jobs",
                "1",
            ]
        )
        == 0
    )
    assert seen["params"] == Params(children=60, years=2, seed=3, end=dt.date(2024, 6, 15), la_code="201")
    assert main(["extracts", "--children", "10", "--out", str(tmp_path)]) == 2  # too few children
    with pytest.raises(SystemExit):
        main(["extracts", "--end", "30/09/2025", "--out", str(tmp_path)])


def test_an_end_date_that_is_not_a_month_end_is_itself_an_extract_date() -> None:
    from synthetic.build import annex_a_dates

    dates = annex_a_dates(Params(children=60, years=1, end=dt.date(2024, 6, 15)))
    assert dates[0] == pd.Timestamp("2023-06-30") and dates[-1] == pd.Timestamp("2024-06-15")
    assert len(dates) == 13


SCHEMAS = Path(__file__).resolve().parents[2] / "shared" / "samples" / "schemas" / "cin_census_xsd"


def _xsd_sequences(path: Path) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Each named complex type's element sequence, and the type of each element name."""
    import xml.etree.ElementTree as ET

    xs = "{http://www.w3.org/2001/XMLSchema}"
    root = ET.parse(path).getroot()
    sequences = {}
    for ctype in root.iter(f"{xs}complexType"):
        if ctype.get("name"):
            seq = ctype.find(f"{xs}sequence")
            sequences[ctype.get("name")] = (
                [e.get("name") for e in seq.findall(f"{xs}element")] if seq is not None else []
            )
    types = {e.get("name"): e.get("type") for e in root.iter(f"{xs}element") if e.get("type") in sequences}
    return sequences, types


def test_census_elements_follow_the_xsd_order(folder: Path) -> None:
    """Every element's children are elements the year's DfE schema allows there, in its order."""
    import xml.etree.ElementTree as ET

    sequences, types = _xsd_sequences(SCHEMAS / "CIN_schema_2025.xsd")
    root = ET.parse(folder / "cin_census_2024-25.xml").getroot()
    checked = 0
    for element in root.iter():
        if element.tag not in types:
            continue
        allowed = sequences[types[element.tag]]
        positions = [allowed.index(child.tag) for child in element]  # ValueError: an element the schema does not allow
        assert positions == sorted(positions), element.tag
        checked += 1
    assert checked > 100
