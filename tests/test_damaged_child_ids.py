"""Child ids damaged by Excel, flagged by the CSV readers while staging: the same flags and count as the pipeline's own pass."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from ingest.load_checks import flag_damaged_child_ids
from ingest.normalise import DAMAGED_CHILD_ID_FLAG
from ingest.readers.annex_a import read_annex_a
from ingest.readers.base import ReadResult
from ingest.readers.recordings import read_recordings

LIST_1 = "Child Unique ID,Gender,Ethnicity,Date of Birth,Age of Child (Years),Date of Contact,Contact Source"
RECORDINGS = "Record ID,Child Unique ID,Record Type,Event Date,Entered At,Worker,Team,Child Views Recorded"
DAMAGED = ["\uff1d1005", "1.2E+5", '"1,005"', "\uff11\uff10\uff10\uff15", "'1005", "=1005"]
PLAIN = ["1005", " 1005", "1005\u200b", "1005.0", "1E5", "CN-17", "a b"]


def _list_1(ids: list[str]) -> str:
    rows = [
        f"{child},M,WBRI,01/02/2015,9,05/01/2024,{'Martians' if i % 3 == 0 else '6'}" for i, child in enumerate(ids)
    ]
    rows += ["=1009,M,WBRI,01/02/2015,9,not a date,6", ",F,WBRI,,,06/01/2024,6"]  # rejects
    return "\n".join([LIST_1, *rows, ""])


def _recordings(ids: list[str]) -> str:
    types = ["Case Note", "Séance"]  # the second is not a known type: flagged before the child id
    rows = [
        f"R{i},{child},{types[i % 2]},2024-05-03,2024-05-07 09:15,Ann,Team A,{'Maybe' if i % 3 == 0 else 'Yes'}"
        for i, child in enumerate(ids)
    ]
    rows += ["R90,=1009,Case Note,never,2024-05-07 09:15,Ann,Team A,No"]  # a reject
    return "\n".join([RECORDINGS, *rows, ""])


def _as_the_pipeline_flags(con: duckdb.DuckDBPyConnection, result: ReadResult) -> tuple[list[tuple], list[str]]:
    """The staged rows' flags and the notice when the flag is taken off and the pipeline's own pass puts it back."""
    for entity in result.entities:
        con.execute(f"UPDATE staged_{entity} SET flags = list_filter(flags, lambda f: f <> '{DAMAGED_CHILD_ID_FLAG}')")
    notices = flag_damaged_child_ids(con, replace(result, damaged_child_ids=None))
    return _flags(con, result), notices


def _flags(con: duckdb.DuckDBPyConnection, result: ReadResult) -> list[tuple]:
    return [
        row
        for entity in result.entities
        for row in con.execute(
            f"SELECT row_number, child_id, flags FROM staged_{entity} ORDER BY row_number"
        ).fetchall()
    ]


@pytest.mark.parametrize(
    ("reader", "text"),
    [(read_annex_a, _list_1), (read_recordings, _recordings)],
    ids=["annex_a_csv", "recordings"],
)
def test_a_reader_flags_damaged_child_ids_as_the_pipeline_would(
    tmp_path: Path, reader: Callable[[Path, duckdb.DuckDBPyConnection], ReadResult], text: Callable[[list[str]], str]
) -> None:
    path = tmp_path / "extract.csv"
    path.write_text(text(PLAIN + DAMAGED + PLAIN), encoding="utf-8")
    con = duckdb.connect()
    result = reader(path, con)
    flagged, notices = _flags(con, result), flag_damaged_child_ids(con, result)
    assert result.damaged_child_ids == len(DAMAGED)
    assert [row[1] for row in flagged if DAMAGED_CHILD_ID_FLAG in row[2]] == [c.strip('"') for c in DAMAGED]
    assert all(row[2][-1] == DAMAGED_CHILD_ID_FLAG for row in flagged if DAMAGED_CHILD_ID_FLAG in row[2])
    assert any(len(row[2]) == 2 for row in flagged if DAMAGED_CHILD_ID_FLAG in row[2])  # after the reader's own flag
    assert (flagged, notices) == _as_the_pipeline_flags(con, result)
    assert notices == [
        f"6 row(s) with a child id that looks changed by Excel (1.2E+5, 1,005, ='1005', full-width digits):"
        f" kept as written and flagged {DAMAGED_CHILD_ID_FLAG}"
    ]
    assert not any(DAMAGED_CHILD_ID_FLAG in notice for notice in result.notices)  # only the pipeline's notice


def test_plain_child_ids_are_never_flagged(tmp_path: Path) -> None:
    path = tmp_path / "list_1.csv"
    path.write_text(_list_1(PLAIN * 3), encoding="utf-8")
    con = duckdb.connect()
    result = read_annex_a(path, con)
    assert result.damaged_child_ids == 0 and flag_damaged_child_ids(con, result) == []
    assert (_flags(con, result), []) == _as_the_pipeline_flags(con, result)
