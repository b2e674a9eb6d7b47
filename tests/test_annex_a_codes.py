"""The code synonym table and the SQL that maps councils' spellings to DfE codes (ingest.codes_map)."""

from __future__ import annotations

import csv

import duckdb
import pytest

from ingest.codes_map import (
    BOOLEAN_CODES,
    BOOLEAN_DOMAINS,
    CODE_DOMAINS,
    SYNONYMS_CSV,
    code_key_sql,
    create_code_map,
    install_code_synonyms,
    synonym_conflicts,
)


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    install_code_synonyms(connection)
    return connection


def code_of(con: duckdb.DuckDBPyConnection, domain: str, value: str) -> str | None:
    con.execute("CREATE OR REPLACE TEMP TABLE probe AS SELECT ?::VARCHAR AS value", [value])
    create_code_map(con, "SELECT value FROM probe", domain, "probe_map")
    return con.execute("SELECT code FROM probe_map").fetchone()[0]


def test_no_key_is_claimed_by_two_codes(con):
    assert synonym_conflicts(con) == []


def test_every_synonym_maps_to_a_code_of_its_domain():
    with open(SYNONYMS_CSV, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) > 500
    for row in rows:
        allowed = CODE_DOMAINS.get(row["domain"]) or (BOOLEAN_CODES if row["domain"] in BOOLEAN_DOMAINS else set())
        assert row["code"] in allowed, row
        assert row["origin"] in {"ofsted-2019", "liia-legacy", "liia-schema", "dfe", "project"}, row


def test_provenance_note_sits_beside_the_table():
    note = SYNONYMS_CSV.with_suffix(".md").read_text(encoding="utf-8")
    assert "SocialFinanceDigitalLabs/liia-tools" in note and "MIT" in note


@pytest.mark.parametrize(
    "text, key",
    [
        ("a) WBRI", "wbri"),
        ("zz) T4: Temporary", "t4 temporary"),
        ("b. No", "no"),
        ("q) 6: Police", "6 police"),
        ("Children’s disability", "childrens disability"),
        ("N1 - Abuse or Neglect", "n1 abuse or neglect"),
        ("A&E", "a&e"),
        ("  White  -  British ", "white british"),
    ],
)
def test_code_key(text: str, key: str):
    assert duckdb.connect().execute(f"SELECT {code_key_sql('?')}", [text]).fetchone()[0] == key


@pytest.mark.parametrize(
    "domain, value, code",
    [
        # ethnicity: prefixed, bare, label, spacing, lower case, code first, liia spellings
        ("ethnicity", "a) WBRI", "WBRI"),
        ("ethnicity", "WBRI", "WBRI"),
        ("ethnicity", "White British", "WBRI"),
        ("ethnicity", "White - British", "WBRI"),
        ("ethnicity", "wbri", "WBRI"),
        ("ethnicity", "s) NOBT", "NOBT"),
        ("ethnicity", "Refused", "REFU"),
        ("ethnicity", "Bangladeshi [ABAN]", "ABAN"),
        ("ethnicity", "Pakistani", "APKN"),
        ("ethnicity", "MWBC - White and Black Caribbean", "MWBC"),
        # sex -> M / F / U
        ("sex", "b) Female", "F"),
        ("sex", "F", "F"),
        ("sex", "Female", "F"),
        ("sex", "a) Male", "M"),
        ("sex", "1", "M"),
        ("sex", "c) Not stated/recorded", "U"),
        ("sex", "Unborn", "U"),
        ("sex", "d) Neither", "U"),
        # referral / contact source -> 1A ... 10
        ("referral_source", "q) 6: Police", "6"),
        ("referral_source", "Police", "6"),
        ("referral_source", "6", "6"),
        ("referral_source", "POLICE", "6"),
        ("referral_source", "j) 3D: Health services", "3D"),
        ("referral_source", "e) 2A: Schools", "2A"),
        ("referral_source", "School", "2A"),
        ("referral_source", "u) 10: Unknown", "10"),
        ("referral_source", "a) 1A: Individual", "1A"),
        ("referral_source", "Other legal agency", "7"),
        # primary need, closure reason
        ("primary_need", "N1 - Abuse or Neglect", "N1"),
        ("primary_need", "N2 - Child’s disability", "N2"),
        ("primary_need", "Abuse or neglect", "N1"),
        ("primary_need", "N0", "N0"),
        ("closure_reason", "RC8 - Case closed after assessment, no further action", "RC8"),
        ("closure_reason", "RC1", "RC1"),
        ("closure_reason", "Died", "RC2"),
        # yes / no
        ("yes_no", "a) Yes", "TRUE"),
        ("yes_no", "yes", "TRUE"),
        ("yes_no", "Y", "TRUE"),
        ("yes_no", "b) No", "FALSE"),
        ("yes_no", "c) Unknown", "UNKNOWN"),
        ("nfa", "No further action", "TRUE"),
        ("nfa", "a) Yes", "TRUE"),
        ("disability", "NONE", "FALSE"),
        ("disability", "AUT", "TRUE"),
        ("disability", "b) No", "FALSE"),
        ("child_seen", "Seen alone", "TRUE"),
        ("child_seen", "Not seen", "FALSE"),
    ],
)
def test_spellings_map_to_dfe_codes(con, domain: str, value: str, code: str):
    assert code_of(con, domain, value) == code


@pytest.mark.parametrize(
    "domain, value",
    [
        ("referral_source", "Health"),  # 3A-3F: which one is not said
        ("referral_source", "a) Individual"),  # the Ofsted *group* label: 1A-1D
        ("ethnicity", "a) White"),  # group label: five codes
        ("ethnicity", "Martian"),
        ("primary_need", "PSRMEM - Support with memory and cognition"),
        ("sex", "Transgender"),
        ("yes_no", "CS Assessment Updated"),
        ("referral_source", "7 - Police"),  # its code and its words disagree
    ],
)
def test_values_that_do_not_name_one_code_stay_unmapped(con, domain: str, value: str):
    assert code_of(con, domain, value) is None


def test_code_map_is_built_on_distinct_values(con):
    con.execute(
        "CREATE TEMP TABLE many AS SELECT (['a) WBRI', 'WBRI', 'Martian', NULL])[1 + i % 4] AS value FROM range(1000) t(i)"
    )
    create_code_map(con, "SELECT value FROM many", "ethnicity", "eth_map")
    assert sorted(con.execute("SELECT value, code FROM eth_map").fetchall(), key=str) == [
        ("Martian", None),
        ("WBRI", "WBRI"),
        ("a) WBRI", "WBRI"),
    ]


def test_unknown_domain_is_refused(con):
    with pytest.raises(ValueError, match="unknown code domain"):
        create_code_map(con, "SELECT 'x' AS value", "religion", "m")
