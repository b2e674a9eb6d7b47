"""The CIN census XML reader: every sample file, both schema styles, codes kept and flagged, rejects, safety."""

from __future__ import annotations

import json
import re
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

import ingest.readers.cin_census as cin
from ingest.readers.base import ExtractError, ReadResult, staged_columns
from ingest.readers.cin_census import ASSESSMENT_FACTORS, read_cin_census
from tests.shared_paths import SHARED as SHARED_DIR
from tests.storekit import fresh_connection, read_once

SHARED = SHARED_DIR
SAMPLES = SHARED / "samples" / "cin_census"
XSD_DIR = SHARED / "samples" / "schemas" / "cin_census_xsd"
ENTITIES = ("referrals", "cin_episodes", "assessments")

# file -> (outcome, rows staged per entity, why). Observed on the samples; a file that should be
# refused would say ('refused', reason substring, why).
SAMPLE_OUTCOMES: dict[str, tuple[str, object, str]] = {
    "BAR_cin_2022.xml": ("loads", (1, 1, 1), "2021-22 schema, GenderCurrent, dates back to 1966"),
    "CIN2rows.xml": ("loads", (1, 1, 1), "one episode with two identical ChildProtectionPlans (ignored)"),
    "CIN_Census_2021.xml": ("loads", (1, 1, 1), "birth date after the death date: loaded, checks report it"),
    "CIN_Census_2021_no_assessment_factors.xml": ("loads", (1, 1, 1), "assessment with a start date only"),
    "CIN_Census_2024.xml": ("loads", (2, 2, 2), "Sex style; Sex=1 kept and flagged; assessment ends before it starts"),
    "CIN_Census_2026.xml": ("loads", (2, 2, 2), "2026 elements (PreProceedingsandFGDM) ignored"),
    "CIN_header_issues_100.xml": ("loads", (1, 1, 1), "header ReferenceDate not 31 March: loaded"),
    "fake_CIN_data.xml": ("loads", (402, 402, 0), "332 children, 402 referrals, no assessments"),
}


def staged(con: duckdb.DuckDBPyConnection, entity: str) -> list[dict]:
    cur = con.execute(f"SELECT * FROM staged_{entity} ORDER BY sheet")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def rejects(con: duckdb.DuckDBPyConnection) -> list[dict]:
    cur = con.execute("SELECT * FROM staged_rejects ORDER BY entity, sheet")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def write_xml(tmp_path: Path, children: str, name: str = "census.xml", collection: str = "CIN") -> Path:
    path = tmp_path / name
    path.write_text(
        "<?xml version='1.0' encoding='utf-8'?>\n<Message><Header><CollectionDetails>"
        f"<Collection>{collection}</Collection><Year>2025</Year><ReferenceDate>2025-03-31</ReferenceDate>"
        "</CollectionDetails><Source><SourceLevel>L</SourceLevel><LEA>889</LEA></Source></Header>"
        f"<Children>{children}</Children></Message>",
        encoding="utf-8",
    )
    return path


Read = Callable[[str], tuple[duckdb.DuckDBPyConnection, ReadResult]]


@pytest.fixture(scope="module")
def read() -> Iterator[Read]:
    """Each sample file, read once per module into its own in-memory database (the tests only query it)."""
    with read_once(read_cin_census, SAMPLES) as staged:
        yield staged


def test_every_sample_file_is_listed() -> None:
    assert sorted(p.name for p in SAMPLES.glob("*.xml")) == sorted(SAMPLE_OUTCOMES)


@pytest.mark.parametrize(
    "name", sorted(SAMPLE_OUTCOMES), ids=lambda n: f"{n}: {SAMPLE_OUTCOMES[n][0]}, {SAMPLE_OUTCOMES[n][2]}"
)
def test_sample_file_loads_or_is_refused(read: Read, name: str) -> None:
    outcome, expected, why = SAMPLE_OUTCOMES[name]
    if outcome == "refused":
        with pytest.raises(ExtractError, match=str(expected)):
            read_cin_census(SAMPLES / name, fresh_connection())
        return
    con, result = read(name)
    counts = tuple(con.execute(f"SELECT count(*) FROM staged_{e}").fetchone()[0] for e in ENTITIES)
    assert counts == expected, why
    assert result.format == "cin_census" and result.entities == list(ENTITIES)
    assert result.rows_read == sum(counts) + con.execute("SELECT count(*) FROM staged_rejects").fetchone()[0]
    for entity in ENTITIES:  # the reader contract: exactly the canonical columns + provenance
        assert [d[0] for d in con.execute(f"SELECT * FROM staged_{entity} LIMIT 0").description] == staged_columns(
            entity
        )


def test_fake_census_has_332_children_402_referrals_no_assessments(read: Read) -> None:
    con, result = read("fake_CIN_data.xml")
    assert con.execute(
        "SELECT count(*), max(row_number), count(DISTINCT child_id) FROM staged_referrals"
    ).fetchone() == (402, 332, 332)
    assert con.execute("SELECT count(*) FROM staged_assessments").fetchone()[0] == 0
    header = result.notices[0]
    assert header.startswith("CIN census: Collection CIN, Year 2022, ReferenceDate 2022-07-21, LEA 975;")
    assert "332 children, 402 CINdetails, 0 assessments" in header and "GenderCurrent" in header
    assert not re.search(r"RND\d+", " ".join(result.notices))  # no child-level values in notices


def test_header_reference_date_off_31_march_is_noticed(read: Read) -> None:
    odd = read("CIN_header_issues_100.xml")[1].notices
    usual = read("CIN_Census_2021.xml")[1].notices
    assert "header ReferenceDate 2023-03-28 is not 31 March, the end of a census year" in odd
    assert not any("is not 31 March" in n for n in usual)


def test_assessment_ending_before_it_starts_is_kept(read: Read) -> None:
    con, _result = read("CIN_Census_2024.xml")
    first = staged(con, "assessments")[0]
    assert first["start_date"] == date(2028, 4, 28) and first["authorised_date"] == date(2020, 9, 19)
    assert first["referral_date"] == date(2022, 10, 6)  # the episode's CINreferralDate
    assert first["sheet"] == "Child[1]/CINdetails[1]/Assessments[1]" and first["row_number"] == 1
    assert first["factors"] == ["1C", "RB", "6B"] and "factors_invalid" in first["flags"]  # RB is no factor code


def test_sex_one_in_the_sex_element_stays_one_and_is_flagged(read: Read) -> None:
    con, _result = read("CIN_Census_2024.xml")
    rows = {r["child_id"]: r for r in staged(con, "referrals")}
    assert rows["DfEX0000001"]["sex"] == "1" and "sex_invalid" in rows["DfEX0000001"]["flags"]
    assert rows["child_fails_assessments"]["sex"] == "M" and rows["child_fails_assessments"]["flags"] == []


def test_gender_current_one_is_male_in_older_files(read: Read) -> None:
    con, _result = read("BAR_cin_2022.xml")
    [row] = staged(con, "cin_episodes")
    assert (row["sex"], row["ethnicity"], row["disabilities"], row["disabled"]) == ("M", "WBRI", ["HAND", "HEAR"], True)
    assert row["flags"] == []


GENDER_CURRENT_CHILDREN = """
<Child>
  <ChildIdentifiers><LAchildID> 1005.0 </LAchildID><PersonBirthDate>2015-02-01</PersonBirthDate>
    stray text<GenderCurrent>2</GenderCurrent></ChildIdentifiers>
  <ChildCharacteristics><Ethnicity>wbri</Ethnicity>
    <Disabilities><Disability>NONE</Disability></Disabilities></ChildCharacteristics>
  <CINdetails>
    <CINreferralDate>2024-04-02</CINreferralDate><ReferralSource>6</ReferralSource>
    <PrimaryNeedCode>N1</PrimaryNeedCode><CINclosureDate>2024-06-03</CINclosureDate>
    <ReasonForClosure>RC8</ReasonForClosure><ReferralNFA>1</ReferralNFA>
    <Assessments><AssessmentActualStartDate>2024-04-03</AssessmentActualStartDate>
      <AssessmentAuthorisationDate>2024-05-20</AssessmentAuthorisationDate>
      <FactorsIdentifiedAtAssessment><AssessmentFactors>2A</AssessmentFactors>
        <AssessmentFactors>24A</AssessmentFactors></FactorsIdentifiedAtAssessment></Assessments>
    <Assessments><AssessmentActualStartDate>2024-05-21</AssessmentActualStartDate></Assessments>
    <Section47><S47ActualStartDate>2024-04-05</S47ActualStartDate><ICPCnotRequired>true</ICPCnotRequired></Section47>
  </CINdetails>
  <CINdetails>
    <CINreferralDate>2025-01-10</CINreferralDate><ReferralSource>5D</ReferralSource>
    <PrimaryNeedCode>N12</PrimaryNeedCode><ReferralNFA>false</ReferralNFA>
  </CINdetails>
</Child>
<Child>
  <ChildIdentifiers><LAchildID>C2</LAchildID><ExpectedPersonBirthDate>2025-05-01</ExpectedPersonBirthDate>
    <GenderCurrent>0</GenderCurrent></ChildIdentifiers>
  <ChildCharacteristics><Ethnicity>NOBT</Ethnicity></ChildCharacteristics>
  <CINdetails><CINreferralDate>2025-02-01</CINreferralDate><ReferralSource>3B</ReferralSource>
    <ReferralNFA>0</ReferralNFA></CINdetails>
</Child>
<Child>
  <ChildIdentifiers><LAchildID>C3</LAchildID><GenderCurrent>9</GenderCurrent></ChildIdentifiers>
  <ChildCharacteristics><Ethnicity>XXXX</Ethnicity>
    <Disabilities><Disability>AUT</Disability><Disability>ZZZ</Disability></Disabilities></ChildCharacteristics>
  <CINdetails><CINreferralDate>2025-03-01</CINreferralDate><ReferralSource>11</ReferralSource>
    <CINclosureDate>2025-03-02</CINclosureDate><ReasonForClosure>RC10</ReasonForClosure>
    <ReferralNFA>maybe</ReferralNFA></CINdetails>
</Child>
"""


def test_gender_current_style_file(tmp_path: Path) -> None:
    con = fresh_connection()
    read_cin_census(write_xml(tmp_path, GENDER_CURRENT_CHILDREN), con)
    refs = staged(con, "referrals")
    assert [(r["child_id"], r["referral_date"], r["referral_source"], r["nfa"], r["sex"]) for r in refs] == [
        ("1005", date(2024, 4, 2), "6", True, "F"),  # '1005.0' is child 1005; GenderCurrent 2 is female
        ("1005", date(2025, 1, 10), "5D", False, "F"),
        ("C2", date(2025, 2, 1), "3B", False, "U"),  # GenderCurrent 0: not recorded / unborn
        ("C3", date(2025, 3, 1), "11", None, "U"),  # GenderCurrent 9: indeterminate
    ]
    assert [r["sheet"] for r in refs] == [
        "Child[1]/CINdetails[1]",
        "Child[1]/CINdetails[2]",
        "Child[2]/CINdetails[1]",
        "Child[3]/CINdetails[1]",
    ]
    assert [r["row_number"] for r in refs] == [1, 1, 2, 3]
    assert refs[0]["ethnicity"] == "WBRI" and refs[0]["team"] is None and refs[0]["worker"] is None
    assert set(refs[3]["flags"]) == {"referral_source_invalid", "nfa_unparsed", "ethnicity_invalid"}

    eps = staged(con, "cin_episodes")
    first, second, unborn, coded_badly = eps
    assert (first["start_date"], first["closure_date"], first["closure_reason"], first["primary_need"]) == (
        date(2024, 4, 2),
        date(2024, 6, 3),
        "RC8",
        "N1",
    )
    assert (first["disabilities"], first["disabled"]) == (["NONE"], False)
    assert second["primary_need"] == "N12" and "primary_need_invalid" in second["flags"]
    assert unborn["date_of_birth"] == date(2025, 5, 1) and "date_of_birth_expected" in unborn["flags"]
    assert (unborn["disabilities"], unborn["disabled"]) == (None, None)  # no Disabilities recorded
    assert coded_badly["ethnicity"] == "XXXX" and coded_badly["closure_reason"] == "RC10"
    assert coded_badly["disabilities"] == ["AUT", "ZZZ"] and coded_badly["disabled"] is True
    assert {"ethnicity_invalid", "closure_reason_invalid", "disabilities_invalid"} <= set(coded_badly["flags"])

    assessments = staged(con, "assessments")
    assert [
        (a["start_date"], a["authorised_date"], a["referral_date"], a["factors"], a["sheet"]) for a in assessments
    ] == [
        (date(2024, 4, 3), date(2024, 5, 20), date(2024, 4, 2), ["2A", "24A"], "Child[1]/CINdetails[1]/Assessments[1]"),
        (date(2024, 5, 21), None, date(2024, 4, 2), None, "Child[1]/CINdetails[1]/Assessments[2]"),  # still open
    ]
    assert all(a["disabled"] is False and a["flags"] == [] for a in assessments)
    assert con.execute("SELECT count(*) FROM staged_rejects").fetchone()[0] == 0


SEX_STYLE_CHILDREN = """
<Child><ChildIdentifiers><LAchildID>S1</LAchildID><PersonBirthDate>2010-01-01</PersonBirthDate><Sex>f</Sex>
  </ChildIdentifiers><ChildCharacteristics><Ethnicity>APKN</Ethnicity></ChildCharacteristics>
  <CINdetails><CINreferralDate>2025-04-02</CINreferralDate><ReferralSource>2A</ReferralSource>
  <ReferralNFA>true</ReferralNFA></CINdetails></Child>
<Child><ChildIdentifiers><LAchildID>S2</LAchildID><Sex>U</Sex></ChildIdentifiers>
  <ChildCharacteristics><Ethnicity>REFU</Ethnicity></ChildCharacteristics>
  <CINdetails><CINreferralDate>2025-04-03</CINreferralDate><ReferralSource>1A</ReferralSource>
  <ReferralNFA>0</ReferralNFA></CINdetails></Child>
<Child><ChildIdentifiers><LAchildID>S3</LAchildID><Sex>2</Sex></ChildIdentifiers>
  <ChildCharacteristics><Ethnicity>WBRI</Ethnicity></ChildCharacteristics>
  <CINdetails><CINreferralDate>2025-04-04</CINreferralDate><ReferralSource>1A</ReferralSource>
  <ReferralNFA>0</ReferralNFA></CINdetails></Child>
"""


def test_sex_style_file_from_2024_25(tmp_path: Path) -> None:
    con = fresh_connection()
    result = read_cin_census(write_xml(tmp_path, SEX_STYLE_CHILDREN), con)
    rows = staged(con, "referrals")
    assert [(r["child_id"], r["sex"], r["ethnicity"], r["nfa"]) for r in rows] == [
        ("S1", "F", "APKN", True),
        ("S2", "U", "REFU", False),
        ("S3", "2", "WBRI", False),
    ]
    assert rows[2]["flags"] == ["sex_invalid"]  # a GenderCurrent code in the Sex element is not guessed
    assert "sex coded as Sex" in result.notices[0]


def test_namespaced_and_indented_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "ns.xml"
    path.write_text(
        '\n\n  <Message xmlns="http://www.example.org/cin"><Header><CollectionDetails><Collection>CIN'
        "</Collection></CollectionDetails></Header><Children>" + SEX_STYLE_CHILDREN + "</Children></Message>",
        encoding="utf-8",
    )
    con = fresh_connection()
    read_cin_census(path, con)
    assert con.execute("SELECT list(child_id ORDER BY child_id) FROM staged_referrals").fetchone()[0] == [
        "S1",
        "S2",
        "S3",
    ]


REJECTED_CHILDREN = """
<Child><ChildIdentifiers><LAchildID>  </LAchildID><Sex>M</Sex></ChildIdentifiers>
  <ChildCharacteristics><Ethnicity>WBRI</Ethnicity></ChildCharacteristics>
  <CINdetails><CINreferralDate>2025-01-01</CINreferralDate><ReferralSource>6</ReferralSource><ReferralNFA>0</ReferralNFA>
    <Assessments><AssessmentActualStartDate>2025-01-02</AssessmentActualStartDate></Assessments></CINdetails></Child>
<Child><ChildIdentifiers><LAchildID>K2</LAchildID><Sex>F</Sex></ChildIdentifiers>
  <ChildCharacteristics><Ethnicity>WBRI</Ethnicity></ChildCharacteristics>
  <CINdetails><CINreferralDate>2025-02-30</CINreferralDate><ReferralSource>6</ReferralSource><ReferralNFA>0</ReferralNFA>
    <Assessments><AssessmentActualStartDate>2025-03-01</AssessmentActualStartDate></Assessments>
    <Assessments><AssessmentAuthorisationDate>2025-03-05</AssessmentAuthorisationDate></Assessments></CINdetails>
  <CINdetails><ReferralSource>6</ReferralSource><ReferralNFA>0</ReferralNFA></CINdetails></Child>
"""


def test_rows_without_child_id_or_key_date_are_rejected_with_raw_values(tmp_path: Path) -> None:
    con = fresh_connection()
    result = read_cin_census(write_xml(tmp_path, REJECTED_CHILDREN), con)
    got = [(r["entity"], r["sheet"], r["row_number"], r["reason"]) for r in rejects(con)]
    assert got == [
        ("assessments", "Child[1]/CINdetails[1]/Assessments[1]", 1, "no LAchildID"),
        ("assessments", "Child[2]/CINdetails[1]/Assessments[2]", 2, "no AssessmentActualStartDate"),
        ("cin_episodes", "Child[1]/CINdetails[1]", 1, "no LAchildID"),
        ("cin_episodes", "Child[2]/CINdetails[1]", 2, "CINreferralDate is not a date"),
        ("cin_episodes", "Child[2]/CINdetails[2]", 2, "no CINreferralDate"),
        ("referrals", "Child[1]/CINdetails[1]", 1, "no LAchildID"),
        ("referrals", "Child[2]/CINdetails[1]", 2, "CINreferralDate is not a date"),
        ("referrals", "Child[2]/CINdetails[2]", 2, "no CINreferralDate"),
    ]
    raw = json.loads([r for r in rejects(con) if r["reason"] == "CINreferralDate is not a date"][0]["raw"])
    assert raw["LAchildID"] == "K2" and raw["CINreferralDate"] == "2025-02-30" and raw["ReferralSource"] == "6"
    [kept] = staged(con, "assessments")  # the assessment of the episode with a bad date still loads
    assert (kept["child_id"], kept["start_date"], kept["referral_date"]) == ("K2", date(2025, 3, 1), None)
    assert "referral_date_unparsed" in kept["flags"]
    assert result.rows_read == 2 * 3 + 3  # three CINdetails (referral + episode each) and three Assessments
    assert "1 child(ren) without LAchildID" in " ".join(result.notices)


def test_assessment_factor_codes_are_the_xsd_union() -> None:
    found: set[str] = set()
    for xsd in XSD_DIR.glob("CIN_schema_*.xsd"):
        block = re.search(r'name="assessmentfactorstype">(.*?)</xs:simpleType>', xsd.read_text(encoding="utf-8"), re.S)
        found |= set(re.findall(r'value="([^"]+)"', block.group(1)))
    assert len(list(XSD_DIR.glob("CIN_schema_*.xsd"))) == 10 and found == set(ASSESSMENT_FACTORS)


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Message><Header><CollectionDetails><Collection>CIN</Collection></CollectionDetails></Header>
<Children><Child><ChildIdentifiers><LAchildID>&lol3;</LAchildID></ChildIdentifiers></Child></Children></Message>"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE m [<!ENTITY secret SYSTEM "file:///etc/hostname">]>
<Message><Children><Child><ChildIdentifiers><LAchildID>&secret;</LAchildID></ChildIdentifiers></Child></Children></Message>"""
PLAIN_DOCTYPE = """<?xml version="1.0"?><!DOCTYPE Message SYSTEM "http://example.org/cin.dtd"><Message/>"""


@pytest.mark.parametrize(
    "text", [BILLION_LAUGHS, EXTERNAL_ENTITY, PLAIN_DOCTYPE], ids=["billion-laughs", "external-entity", "external-dtd"]
)
def test_dtds_and_entities_are_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "evil.xml"
    path.write_text(text, encoding="utf-8")
    con = fresh_connection()
    with pytest.raises(ExtractError, match=r"^evil\.xml: XML with a DTD or entity declarations is refused$"):
        read_cin_census(path, con)
    assert not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'staged_%'").fetchone()[0]


def test_truncated_xml_is_refused_with_its_line(tmp_path: Path) -> None:
    text = (SAMPLES / "fake_CIN_data.xml").read_text(encoding="utf-8")
    path = tmp_path / "cut.xml"
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(ExtractError, match=r"^cut\.xml: XML is truncated or malformed \(line \d+\)$") as err:
        read_cin_census(path, fresh_connection())
    line = int(re.search(r"line (\d+)", str(err.value)).group(1))
    assert line >= text[: len(text) // 2].count("\n")  # the line where the file stops, not line 0


def test_other_xml_collections_are_refused(tmp_path: Path) -> None:
    path = write_xml(tmp_path, "", name="903.xml", collection="SSDA903")
    with pytest.raises(ExtractError, match="collection 'SSDA903' is not the CIN census"):
        read_cin_census(path, fresh_connection())


def _many_children(tmp_path: Path, n: int) -> Path:
    child = (
        "<Child><ChildIdentifiers><LAchildID>N{i}</LAchildID><PersonBirthDate>2012-05-05</PersonBirthDate>"
        "<GenderCurrent>1</GenderCurrent></ChildIdentifiers><ChildCharacteristics><Ethnicity>WBRI</Ethnicity>"
        "<Disabilities><Disability>NONE</Disability></Disabilities></ChildCharacteristics>"
        "<CINdetails><CINreferralDate>2024-06-01</CINreferralDate><ReferralSource>6</ReferralSource>"
        "<PrimaryNeedCode>N1</PrimaryNeedCode><ReferralNFA>0</ReferralNFA><Assessments>"
        "<AssessmentActualStartDate>2024-06-02</AssessmentActualStartDate>"
        "<AssessmentAuthorisationDate>2024-07-01</AssessmentAuthorisationDate></Assessments></CINdetails></Child>\n"
    )
    return write_xml(tmp_path, "".join(child.format(i=i) for i in range(n)), name="many.xml")


def test_batches_give_the_same_rows_as_one_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _many_children(tmp_path, 50)
    whole = fresh_connection()
    read_cin_census(path, whole)
    # batches of 20, 20 and 10: two boundaries the row numbers carry over and a last partial batch, as batches of 7
    # did (each batch staged costs ~20-35 ms of statements whatever its size, so eight cost more than three)
    monkeypatch.setattr(cin, "BATCH_CHILDREN", 20)
    batched = fresh_connection()
    read_cin_census(path, batched)
    for entity in ENTITIES:
        sql = f"SELECT * FROM staged_{entity} ORDER BY row_number, sheet"
        assert whole.execute(sql).fetchall() == batched.execute(sql).fetchall()
    assert batched.execute("SELECT count(*), max(row_number) FROM staged_assessments").fetchone() == (50, 50)


def test_streaming_keeps_memory_flat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _many_children(tmp_path, 1000)  # ~0.6 MB of XML; kept as a tree it costs over 2 MB of Python objects
    # Four batches of 250 children (ten of 100 before): the peak is ~0.35 MB (0.28 with 100, 0.92 with the whole
    # file as one batch), so the 1 MB bound still fails a reader that keeps the tree; each batch staged costs
    # ~35 ms under tracemalloc whatever its size.
    monkeypatch.setattr(cin, "BATCH_CHILDREN", 250)
    read_cin_census(SAMPLES / "CIN2rows.xml", fresh_connection())  # warm up: lazy imports are not the reader's memory
    con = fresh_connection()
    tracemalloc.start()
    try:
        read_cin_census(path, con)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert con.execute("SELECT count(*) FROM staged_referrals").fetchone()[0] == 1000
    assert peak < 1_000_000, f"peak {peak / 1e6:.1f} MB: children are not being released"


def test_reader_works_inside_the_pipeline_transaction(tmp_path: Path) -> None:
    from ingest.pipeline import load_files
    from store.connection import open_read

    [summary] = load_files([SAMPLES / "CIN_Census_2024.xml"], store=tmp_path / "s.duckdb", validate=False)
    assert summary.status == "loaded", summary.error
    assert summary.rows == {"referrals": 2, "cin_episodes": 2, "assessments": 2}
    with open_read(tmp_path / "s.duckdb") as con:
        assert con.execute("SELECT list(sex ORDER BY sex) FROM referrals").fetchone()[0] == ["1", "M"]
