"""Every public Annex A sample in /work/shared/samples/annex_a either loads (with the row counts seen) or is refused, and why."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import duckdb
import pytest

from ingest.readers.annex_a import annex_a_list_for_headings, annex_a_sheet_lists, annex_a_workbook_lists, read_annex_a
from ingest.readers.base import ExtractError, ReadResult
from tests.shared_paths import SAMPLES as SHARED_SAMPLES
from tests.storekit import read_once

SAMPLES = SHARED_SAMPLES / "annex_a"
ENTITIES = ("contacts", "referrals", "assessments", "cin_episodes")

# file -> (staged rows per entity, rejects) or the reason it is refused.
EXPECTED: dict[str, tuple[dict[str, int], int] | str] = {
    # Ofsted 2019 template as a legacy .xls: one contact (List_1 has a title row above the headings); lists 3/4/6
    # hold headings only; lists 2, 5, 7-11 are skipped.
    "cscdp_example_A_legacy.xls": ({"contacts": 1, "referrals": 0, "assessments": 0, "cin_episodes": 0}, 0),
    # The same template saved as .xlsx.
    "cscdp_example_B.xlsx": ({"contacts": 1, "referrals": 0, "assessments": 0, "cin_episodes": 0}, 0),
    # Event sequences with blank attributes: every row has a child id and a key date, so all load.
    "cscdp_journeys_example.xlsx": ({"contacts": 13, "referrals": 11, "assessments": 5, "cin_episodes": 2}, 0),
    # The journeys tool's *output* (sheets 'Child journeys' and 'Legend'): not an Annex A workbook at all.
    "cscdp_journeys_expected_output.xlsx": "not an Annex A workbook: no List 1/3/4/6 sheets found (sheets: Child journeys, Legend)",
    # liia 2024 sample: 'List 1' sheet names, 'Age' heading, prefixed codes, nbsp in worker names.
    "liia_Annex_A_2024_Jan.xlsx": ({"contacts": 5, "referrals": 6, "assessments": 5, "cin_episodes": 5}, 0),
    # The Ofsted template with five made-up referrals using bare codes ('F', 'WBRI', 'School', 'yes').
    "ofsted_template_aug2019_sample.xlsx": ({"contacts": 0, "referrals": 5, "assessments": 0, "cin_episodes": 0}, 0),
}


Read = Callable[[str], tuple[duckdb.DuckDBPyConnection, ReadResult]]


@pytest.fixture(scope="module")
def read() -> Iterator[Read]:
    """Each sample that loads, read once per module into its own in-memory database (the tests only query it)."""
    with read_once(read_annex_a, SAMPLES) as staged:
        yield staged


def test_every_sample_has_an_expectation():
    assert sorted(p.name for p in SAMPLES.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_loads_or_is_refused(read: Read, name: str):
    expected = EXPECTED[name]
    if isinstance(expected, str):
        with pytest.raises(ExtractError) as refused:
            read_annex_a(SAMPLES / name, duckdb.connect())
        assert str(refused.value) == f"{name}: {expected}"
        return
    counts, rejects = expected
    con, result = read(name)
    assert result.format == "annex_a"
    assert sorted(result.entities) == sorted(e for e in ENTITIES if e in counts)
    assert {e: con.execute(f"SELECT count(*) FROM staged_{e}").fetchone()[0] for e in result.entities} == counts
    assert con.execute("SELECT count(*) FROM staged_rejects").fetchone()[0] == rejects
    assert result.rows_read == sum(counts.values()) + rejects


@pytest.mark.parametrize("name", ["cscdp_example_A_legacy.xls", "cscdp_example_B.xlsx", "liia_Annex_A_2024_Jan.xlsx"])
def test_template_lists_that_are_not_loaded_are_skipped_with_a_notice(read: Read, name: str):
    _con, result = read(name)
    skipped = sorted(int(n.split()[1]) for n in result.notices if "skipped: not used by the dashboard" in n)
    assert skipped == [2, 5, 7, 8, 9, 10, 11]


def test_liia_sample_values_are_normalised(read: Read):
    con, _result = read("liia_Annex_A_2024_Jan.xlsx")
    contact = con.execute(
        "SELECT sex, ethnicity, contact_source, sheet, row_number FROM staged_contacts WHERE child_id = '9212044'"
    ).fetchone()
    assert contact == ("F", "WBRI", "6", "List 1", 2)  # 'Female', 'a) WBRI', 'q) 6: Police'
    referral = con.execute(
        "SELECT referral_source, nfa, referrals_last_12m, worker FROM staged_referrals WHERE child_id = '4653765'"
    ).fetchone()
    assert referral == ("3D", False, 2, "Mathilde Cutsforth")  # 'j) 3D: Health services'; nbsp in the name
    unmapped_need = con.execute(
        "SELECT primary_need, flags FROM staged_cin_episodes WHERE child_id = '12598894'"
    ).fetchone()
    assert unmapped_need == ("PSRMEM - Support with memory and cognition", ["primary_need_unmapped"])
    assert con.execute("SELECT primary_need FROM staged_cin_episodes WHERE child_id = '8140425'").fetchone() == ("N1",)
    # 'CS Assessment Updated' is not a yes/no answer: NULL and flagged, the row still loads.
    assert con.execute(
        "SELECT count(*) FROM staged_assessments WHERE requires_support IS NULL"
        " AND list_contains(flags, 'requires_support_unmapped') AND child_seen"
    ).fetchone() == (5,)


def test_ofsted_template_sample_bare_codes(read: Read):
    con, _result = read("ofsted_template_aug2019_sample.xlsx")
    rows = con.execute(
        "SELECT child_id, sex, ethnicity, referral_source, nfa, referrals_last_12m, flags"
        " FROM staged_referrals ORDER BY row_number"
    ).fetchall()
    assert rows[0] == ("1", "F", "WBRI", "2A", True, 1, [])  # 'School', 'yes'
    # 'Health' could be any of 3A-3F: kept as written and flagged, never guessed.
    assert rows[1] == ("2", "F", "OOTH", "Health", False, 2, ["referral_source_unmapped"])
    assert rows[3][5] is None  # blank count


def test_template_headings_identify_every_list():
    """The header row of each List_n sheet of the Ofsted template identifies list n (used by the CSV detector)."""
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_path(str(SAMPLES / "ofsted_template_aug2019_sample.xlsx"))
    for number in range(1, 12):
        headings = [str(c) for c in book.get_sheet_by_name(f"List_{number}").to_python()[1]]
        assert annex_a_list_for_headings(headings) == number, number
    assert annex_a_list_for_headings(["Child Unique ID", "Gender", "Ethnicity"]) is None


def test_workbook_lists_for_the_detector():
    assert annex_a_workbook_lists(SAMPLES / "liia_Annex_A_2024_Jan.xlsx") == {f"List {n}": n for n in range(1, 12)}
    assert annex_a_workbook_lists(SAMPLES / "cscdp_journeys_expected_output.xlsx") == {}
    assert annex_a_sheet_lists(["Front_Sheet", "Guidance", "List_3", "Referrals", "Legend"]) == {
        "List_3": 3,
        "Referrals": 3,
    }
