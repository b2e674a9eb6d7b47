"""Field-level merge across source formats: each field from the newest file whose format carries it, in any load order."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from itertools import permutations
from pathlib import Path

import duckdb
import pytest

from ingest.merge import rebuild_canonical
from ingest.pipeline import load_files
from ingest.readers.annex_a import LISTS
from store.schema import ENTITIES, SOURCE_FIELDS, carried_columns
from tests.test_annex_a_workbooks import LIST_3, LIST_4, write_xlsx
from tests.test_cin_census_reader import write_xml

D = dt.date
MERGED = ("referrals", "assessments", "cin_episodes")


def _child(cid: str, dob: str = "2015-02-01", eth: str = "WBRI") -> list[object]:
    return [cid, "F", eth, dt.date.fromisoformat(dob), 9]


def _annex_a_august(folder: Path) -> Path:
    """Annex A, as-of 31 Aug 2024: two assessments, both with the child seen, a team and a worker."""
    return write_xlsx(
        folder / "annex_a_2024-08-31.xlsx",
        {
            "List 3": [
                LIST_3,
                _child("C1") + [D(2024, 4, 28), "Police", "No", 0, "MASH", "Worker One"],
                _child("C2") + [D(2024, 5, 2), "Schools", "No", 1, "Assess 1", "Worker Two"],
            ],
            "List 4": [
                LIST_4,
                _child("C1") + ["No", D(2024, 5, 1), "Yes", D(2024, 6, 20), "Yes", "MASH", "Worker One"],
                _child("C2") + ["No", D(2024, 5, 3), "Yes", D(2024, 6, 2), "No", "Assess 1", "Worker Two"],
            ],
        },
    )


CENSUS_CHILDREN = """
<Child><ChildIdentifiers><LAchildID>C1</LAchildID><PersonBirthDate>2015-02-01</PersonBirthDate><Sex>F</Sex>
  </ChildIdentifiers><ChildCharacteristics><Ethnicity>WBRI</Ethnicity></ChildCharacteristics>
  <CINdetails><CINreferralDate>2024-04-28</CINreferralDate><ReferralSource>5A</ReferralSource>
    <PrimaryNeedCode>N1</PrimaryNeedCode><ReferralNFA>0</ReferralNFA>
    <Assessments><AssessmentActualStartDate>2024-05-01</AssessmentActualStartDate>
      <AssessmentAuthorisationDate>2024-06-21</AssessmentAuthorisationDate>
      <FactorsIdentifiedAtAssessment><AssessmentFactors>2A</AssessmentFactors></FactorsIdentifiedAtAssessment>
    </Assessments></CINdetails></Child>
<Child><ChildIdentifiers><LAchildID>C2</LAchildID><PersonBirthDate>2015-02-01</PersonBirthDate><Sex>F</Sex>
  </ChildIdentifiers><ChildCharacteristics><Ethnicity>WBRI</Ethnicity></ChildCharacteristics>
  <CINdetails><CINreferralDate>2024-05-02</CINreferralDate><ReferralSource>2A</ReferralSource>
    <PrimaryNeedCode>N1</PrimaryNeedCode><ReferralNFA>0</ReferralNFA>
    <Assessments><AssessmentActualStartDate>2024-05-03</AssessmentActualStartDate>
      <AssessmentAuthorisationDate>2024-06-03</AssessmentAuthorisationDate>
      <FactorsIdentifiedAtAssessment><AssessmentFactors>3A</AssessmentFactors></FactorsIdentifiedAtAssessment>
    </Assessments></CINdetails></Child>
"""


def _census(folder: Path) -> Path:
    """CIN census 2024-25 (ReferenceDate 31 Mar 2025): the same assessments, no child seen, team or worker."""
    return write_xml(folder, CENSUS_CHILDREN, name="cin_census_2024-25.xml")


def _annex_a_april(folder: Path) -> Path:
    """Annex A, as-of 30 Apr 2025: C1's assessment again, child seen left blank and a new team (C2 out of range)."""
    return write_xlsx(
        folder / "annex_a_2025-04-30.xlsx",
        {
            "List 3": [LIST_3, _child("C1") + [D(2024, 4, 28), "Police", "No", 0, "Assess 2", "Worker Three"]],
            "List 4": [
                LIST_4,
                _child("C1") + ["No", D(2024, 5, 1), None, D(2024, 6, 20), "Yes", "Assess 2", "Worker Three"],
            ],
        },
    )


AS_OF = {
    "annex_a_2024-08-31.xlsx": D(2024, 8, 31),
    "cin_census_2024-25.xml": D(2025, 3, 31),
    "annex_a_2025-04-30.xlsx": D(2025, 4, 30),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("field_merge")
    return {"august": _annex_a_august(folder), "census": _census(folder), "april": _annex_a_april(folder)}


Loaded = Callable[..., Path]


@pytest.fixture(scope="module")
def loaded(files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    """The store after loading the named files in that order, each in its own publish, built once per module.

    An order starts from a copy of the store of the order one file shorter (a plain DuckDB file given as the store
    becomes its first version), so the six orders of three files take 15 loads, not 18 plus the other tests' own.
    Tests read these stores; a test that changes one works on its own copy (`_copy`)."""
    root = tmp_path_factory.mktemp("orders")
    built: dict[tuple[str, ...], Path] = {}

    def store(*order: str) -> Path:
        if order not in built:
            path = root / f"{'-'.join(order)}.duckdb"
            if len(order) > 1:
                shutil.copyfile(store(*order[:-1]).resolve(), path)
            built[order] = _load(path, [files[order[-1]]])
        return built[order]

    return store


def _copy(store: Path, to: Path) -> Path:
    """A store of its own holding what `store` holds now (as a plain file: its next load makes it a version)."""
    shutil.copyfile(store.resolve(), to)
    return to


def _load(store: Path, paths: list[Path]) -> Path:
    """Each file in its own publish (the incremental merge), with its as-of fixed whatever the order."""
    for path in paths:
        summaries = load_files([path], store=store, as_of=AS_OF[path.name], validate=False)
        assert [s.status for s in summaries] == ["loaded"], [s.error for s in summaries]
    return store


def _canonical(store: Path) -> dict[str, list[tuple]]:
    """Every merged table's rows without load ids, with each field's supplying file instead of its load id."""
    con = duckdb.connect(str(store.resolve()), read_only=True)
    try:
        out = {}
        for name in MERGED:
            e = ENTITIES[name]
            cols = ", ".join(e.column_names + ["source_file", "sheet", "row_number", "as_of", "flags"])
            keys = ", ".join(e.natural_key)
            out[name] = con.execute(
                f"SELECT {cols}, (SELECT list(l.source_file || ':' || f.key ORDER BY f.key)"
                f"  FROM (SELECT unnest(map_entries(t.field_loads)) AS f) JOIN loads l ON l.load_id = f.value)"
                f" FROM {name} t ORDER BY {keys}"
            ).fetchall()
        return out
    finally:
        con.close()


def _assessment(store: Path, child: str) -> dict[str, object]:
    con = duckdb.connect(str(store.resolve()), read_only=True)
    try:
        cur = con.execute("SELECT * FROM assessments WHERE child_id = ?", [child])
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r)) for r in cur.fetchall()]
        assert len(rows) == 1, rows
        return rows[0]
    finally:
        con.close()


def test_census_later_does_not_blank_annex_a_child_seen(loaded: Loaded) -> None:
    """The issue's case: the CIN census (later as-of) carries no child seen, team or worker; Annex A's stay."""
    store = loaded("august", "census")
    c2 = _assessment(store, "C2")
    assert c2["child_seen"] is True and c2["requires_support"] is False  # Annex A's values survive
    assert (c2["team"], c2["worker"]) == ("Assess 1", "Worker Two")
    assert c2["authorised_date"] == D(2024, 6, 3)  # both carry it: the census, newer, wins (Annex A said 2 Jun)
    assert (c2["factors"], c2["referral_date"]) == (["3A"], D(2024, 5, 2))  # only the census carries these
    assert c2["source_file"] == "cin_census_2024-25.xml"  # the row is the newest version's
    con = duckdb.connect(str(store.resolve()), read_only=True)
    seen = con.execute("SELECT child_seen FROM assessment_facts WHERE child_id = 'C2'").fetchall()
    supplier = con.execute(
        "SELECT l.source_file FROM assessments a JOIN loads l ON l.load_id = a.field_loads['child_seen']"
        " WHERE a.child_id = 'C2'"
    ).fetchall()
    con.close()
    assert seen == [(True,)], "the metrics' fact table must see Annex A's child seen"
    assert supplier == [("annex_a_2024-08-31.xlsx",)], "field_loads names the file that supplied child seen"


def test_annex_a_then_census_equals_census_then_annex_a(loaded: Loaded) -> None:
    forward = _canonical(loaded("august", "census"))
    backward = _canonical(loaded("census", "august"))
    assert forward == backward
    team = [r for r in forward["referrals"] if r[0] == "C1"][0][ENTITIES["referrals"].column_names.index("team")]
    assert team == "MASH"
    seen = ENTITIES["assessments"].column_names.index("child_seen")
    assert {r[0]: r[seen] for r in forward["assessments"]} == {"C1": True, "C2": True}


def test_a_file_that_carries_a_field_and_leaves_it_blank_blanks_it(loaded: Loaded) -> None:
    store = loaded("august", "census", "april")
    c1 = _assessment(store, "C1")
    assert c1["child_seen"] is None  # the newest Annex A left it blank: a real "not recorded"
    assert (c1["team"], c1["authorised_date"]) == ("Assess 2", D(2024, 6, 20))  # the newest carrier of each
    assert (c1["factors"], c1["referral_date"]) == (["2A"], D(2024, 4, 28))  # the older census still supplies these
    assert dict(c1["field_loads"]).keys() == {"factors", "referral_date"}


def test_three_overlapping_files_in_every_order_give_identical_rows(loaded: Loaded) -> None:
    results = [_canonical(loaded(*order)) for order in permutations(["august", "census", "april"])]
    assert all(r == results[0] for r in results[1:])
    assert sum(len(rows) for rows in results[0].values()) == 6  # 2 referrals, 2 assessments, 2 census episodes


def test_incremental_merge_equals_a_rebuild_with_field_loads(loaded: Loaded, tmp_path: Path) -> None:
    copy = _copy(loaded("april", "august", "census"), tmp_path / "copy.duckdb")
    con = duckdb.connect(str(copy))
    before = {n: con.execute(f"SELECT * FROM {n} ORDER BY ALL").fetchall() for n in MERGED}
    rebuild_canonical(con)
    after = {n: con.execute(f"SELECT * FROM {n} ORDER BY ALL").fetchall() for n in MERGED}
    con.close()
    assert before == after


def test_declared_fields_match_what_the_readers_fill() -> None:
    """SOURCE_FIELDS for Annex A is what its lists have headings for; the census leaves the rest NULL."""
    for alist in LISTS.values():
        assert set(carried_columns("annex_a", alist.entity)) == {f.column for f in alist.fields}, alist.label
    assert "child_seen" not in SOURCE_FIELDS["cin_census"]["assessments"]
    assert carried_columns("fixture", "assessments") == ENTITIES["assessments"].column_names


def test_record_sources_name_the_file_of_each_field(loaded: Loaded) -> None:
    """The drill-down's lookup: C2's assessment is the census row with Annex A's child seen, team and worker."""
    from metrics.provenance import record_sources
    from store.connection import open_read

    con = open_read(loaded("august", "census"))
    sources = record_sources(con, "assessments", ("C2",))
    con.close()
    by_file = dict(zip(sources["source_file"], sources["fields"]))
    assert by_file == {
        "annex_a_2024-08-31.xlsx": "age_years, child_seen, requires_support, team, worker",
        "cin_census_2024-25.xml": "authorised_date, date_of_birth, disabled, ethnicity, factors, referral_date, sex",
    }
    assert set(sources["format"]) == {"annex_a", "cin_census"}


def test_a_store_merged_by_an_older_build_is_re_merged_on_its_next_load(
    loaded: Loaded, files: dict[str, Path], tmp_path: Path
) -> None:
    """Rows without field_loads (the column added to an old store) were merged row-wise: the next load fixes them."""
    store = _copy(loaded("august", "census"), tmp_path / "store.duckdb")
    con = duckdb.connect(str(store.resolve()))
    con.execute("UPDATE assessments SET child_seen = NULL, team = NULL, field_loads = NULL")  # as the old merge left it
    con.execute("UPDATE assessment_facts SET child_seen = NULL")
    con.execute("CHECKPOINT")
    con.close()
    _load(store, [files["april"]])  # touches C1 only
    c2 = _assessment(store, "C2")
    assert (c2["child_seen"], c2["team"]) == (True, "Assess 1")
    con = duckdb.connect(str(store.resolve()), read_only=True)
    assert con.execute("SELECT child_seen FROM assessment_facts WHERE child_id = 'C2'").fetchall() == [(True,)]
    con.close()


def test_a_census_sent_again_counts_its_rows_unchanged(loaded: Loaded, files: dict[str, Path], tmp_path: Path) -> None:
    """Unchanged compares the fields the census carries: Annex A's team on the current row is not a change."""
    store = _copy(loaded("august", "census"), tmp_path / "store.duckdb")
    again = tmp_path / "cin_census_2024-25_again.xml"
    again.write_bytes(files["census"].read_bytes() + b"\n<!-- sent again -->\n")
    [summary] = load_files([again], store=store, validate=False)
    assert summary.status == "loaded"
    assert summary.unchanged == sum(summary.rows.values()) == 6


def test_the_merge_notes_the_children_of_every_version_of_the_keys_it_touches(loaded: Loaded, tmp_path: Path) -> None:
    """The derived rows are rebuilt for the children the merge notes: for keys that hold the child id, the new
    versions' children are those of every version of the keys (so the contested keys are not noted twice)."""
    from ingest.merge import CHANGES, merge_loads

    con = duckdb.connect(str(_copy(loaded("august", "census", "april"), tmp_path / "copy.duckdb")))
    loads = [r[0] for r in con.execute("SELECT load_id FROM loads ORDER BY load_id").fetchall()]
    counts = merge_loads(con, loads[-1:])  # the last load's keys are current already: each is contested
    assert sum(counts.replaced.values()) + sum(counts.unchanged.values()) > 0
    checked = 0
    for name in MERGED:
        e = ENTITIES[name]
        match = " AND ".join(f"v.{k} IS NOT DISTINCT FROM k.{k}" for k in e.natural_key)
        want = con.execute(  # the children of every version, of any load, of a key the last load carries
            f"SELECT DISTINCT v.child_id FROM {e.versions_table} v"
            f" SEMI JOIN (SELECT * FROM {e.versions_table} WHERE load_id = {loads[-1]}) k ON {match}"
        ).fetchall()
        noted = con.execute(f"SELECT DISTINCT child_id FROM {CHANGES} WHERE entity = ?", [name]).fetchall()
        assert set(want) <= set(noted), name
        checked += len(want)
    assert checked > 0
    con.close()


def test_a_merge_that_notes_no_changes_writes_the_same_rows_and_counts(loaded: Loaded, tmp_path: Path) -> None:
    """A publish that rebuilds every derived table (a new store) merges without noting what changed: the current
    rows and the counts are those of a merge that notes them, and the table of changes is left empty."""
    from ingest.merge import CHANGES, merge_loads

    results = []
    for note in (True, False):
        con = duckdb.connect(str(_copy(loaded("august", "census", "april"), tmp_path / f"note_{note}.duckdb")))
        loads = [r[0] for r in con.execute("SELECT load_id FROM loads ORDER BY load_id").fetchall()]
        counts = merge_loads(con, loads[1:], note_changes=note)  # the census's and April's keys: some contested
        noted = con.execute(f"SELECT count(*) FROM {CHANGES}").fetchall()[0][0]
        current = {e: con.execute(f"SELECT * FROM {e} ORDER BY ALL").fetchall() for e in MERGED}
        results.append((counts, noted, current))
        con.close()
    (counts, noted, current), (counts_quiet, noted_quiet, current_quiet) = results
    assert sum(counts.replaced.values()) + sum(counts.unchanged.values()) > 0  # contested keys were re-ranked
    assert counts_quiet == counts
    assert current_quiet == current and all(current.values())
    assert noted > 0 and noted_quiet == 0


def test_keys_with_a_blank_part_are_merged_like_the_others(tmp_path: Path) -> None:
    """A contact without a source (a NULL in its natural key) is one key across files: the later file's row wins,
    as for keys without a NULL (the merge matches the two kinds of key apart), and the incremental merge equals a
    rebuild."""
    header = "Child Unique ID,Gender,Ethnicity,Date of Birth,Age of Child (Years),Date of Contact,Contact Source"
    store = tmp_path / "store.duckdb"
    first, second = tmp_path / "annex_a_list_1_may.csv", tmp_path / "annex_a_list_1_june.csv"
    first.write_text(f"{header}\nC1,F,WBRI,01/02/2015,9,01/05/2024,\nC2,M,WBRI,01/02/2015,9,02/05/2024,3A\n")
    second.write_text(f"{header}\nC1,F,APKN,01/02/2015,9,01/05/2024,\nC2,M,APKN,01/02/2015,9,02/05/2024,3A\n")
    for path, as_of in ((first, D(2024, 5, 31)), (second, D(2024, 6, 30))):
        [summary] = load_files([path], store=store, as_of=as_of, validate=False)
        assert summary.status == "loaded", summary.error
    assert summary.replaced == 2
    con = duckdb.connect(str(store.resolve()))
    rows = con.execute("SELECT child_id, contact_source, ethnicity, load_id FROM contacts ORDER BY child_id").fetchall()
    assert rows == [("C1", None, "APKN", 2), ("C2", "3A", "APKN", 2)]
    before = con.execute("SELECT * FROM contacts ORDER BY ALL").fetchall()
    rebuild_canonical(con, ["contacts"])
    assert con.execute("SELECT * FROM contacts ORDER BY ALL").fetchall() == before
    con.close()
