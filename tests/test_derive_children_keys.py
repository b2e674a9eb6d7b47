"""A publish works out the children whose rows were only added to from their kept latest keys (`children_keys`) and
their new rows alone, the rest from their whole histories; `children` and `children_keys` equal a full rebuild."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from store import derive
from store.connection import open_read
from store.derive import build_derived
from tests.storekit import build_store
from tests.test_derive_lookups import _second_load

D = date
AS_OF = D(2024, 6, 30)


def _contact(child_id: str, day: date, source: str = "1A", **values: object) -> dict:
    return {"child_id": child_id, "contact_date": day, "contact_source": source, **values}


def _referral(child_id: str, day: date, **values: object) -> dict:
    return {"child_id": child_id, "referral_date": day, **values}


FIRST = {
    "contacts": [
        _contact("ADD", D(2024, 1, 10), sex="F", ethnicity="WBRI", date_of_birth=D(2015, 1, 1)),
        _contact("EARLY", D(2024, 3, 1), sex="F", ethnicity="WBRI"),
        _contact("TIE", D(2024, 4, 1), sex="F", ethnicity="WBRI"),
        _contact("TIER", D(2024, 2, 1), ethnicity="APKN"),
        _contact("REFU", D(2024, 2, 1), ethnicity="REFU"),
        _contact("GONE", D(2024, 1, 5), sex="M", ethnicity="WIRI"),
    ],
    "referrals": [
        _referral("GONE", D(2024, 5, 1), sex="F", ethnicity="WBRI"),  # the winner, replaced by the second load
        _referral("SAME", D(2024, 5, 2), sex="F", ethnicity="WBRI"),  # sent again as it was
    ],
    "assessments": [{"child_id": "ADD", "start_date": D(2024, 2, 1), "disabled": False}],
    "recordings": [{"record_id": "r1", "child_id": "REC", "event_date": D(2024, 2, 1)}],
}
SECOND = {
    "contacts": [
        _contact("ADD", D(2024, 6, 1), sex="M", ethnicity="BCRB"),  # a later row: the new winner
        _contact("EARLY", D(2024, 2, 1), sex="M", ethnicity="BAFR"),  # an earlier row: the kept winner stays
        # one day and one extract as the kept winner (its as-of date): the tie is settled by the value's hash
        _contact("TIE", D(2024, 4, 1), "2B", sex="M", ethnicity="BAFR", as_of=AS_OF),
        _contact("TIE", D(2024, 4, 1), "3C", sex="X", ethnicity="CHNE", as_of=AS_OF),
        _contact("TIER", D(2024, 3, 1), ethnicity="REFU"),  # later, but not known: the known code stays
        _contact("REFU", D(2024, 3, 1), ethnicity="NOBT"),  # later and non-missing: no known code anywhere
        _contact("NEW", D(2024, 6, 2), sex="F", ethnicity="WBRI", date_of_birth=D(2016, 2, 2)),  # new to the store
        _contact("REC", D(2024, 1, 2), sex="M"),  # recordings alone until now
    ],
    "referrals": [
        _referral("GONE", D(2024, 5, 1), sex="F", ethnicity=""),  # the winner's ethnicity blanked: WIRI again
        _referral("SAME", D(2024, 5, 2), sex="F", ethnicity="WBRI"),
    ],
    "assessments": [{"child_id": "ADD", "start_date": D(2024, 6, 3), "disabled": True}],
}
THIRD = {
    "contacts": [
        _contact("TIER", D(2024, 4, 1), ethnicity="WBRI"),  # a later known code
        _contact("REFU", D(2024, 1, 1), ethnicity="BAFR"),  # an earlier known code: known beats not known
        _contact("TIE", D(2024, 4, 1), "4D", sex="Z", ethnicity="WBRI"),  # the same day, a later extract
        _contact("NEW", D(2024, 6, 1), sex="M", ethnicity="AIND"),  # earlier: NEW keeps F, WBRI
    ],
}


def _table(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


def _rebuilt(path: Path, to: Path) -> dict[str, list[tuple]]:
    shutil.copyfile(path.resolve(), to)
    con = duckdb.connect(str(to))
    build_derived(con)
    tables = {t: _table(con, t) for t in ("children", "children_keys")}
    con.close()
    return tables


def test_children_only_added_to_combine_kept_keys_with_new_rows_as_a_full_rebuild_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    added: list[list[str]] = []
    spy_on = derive._added_children

    def spy(con: duckdb.DuckDBPyConnection, *args: object) -> derive.Scope | None:
        scope = spy_on(con, *args)  # type: ignore[arg-type]
        if scope is not None:
            added.append(sorted(r[0] for r in con.execute(f"SELECT child_id FROM {scope.table}").fetchall()))
        return scope

    monkeypatch.setattr(derive, "_added_children", spy)
    monkeypatch.setattr(derive, "FULL_REBUILD_SHARE", 2.0)  # a tiny store: force the incremental path
    path = build_store(tmp_path / "store.duckdb", FIRST, as_of=AS_OF)
    for number, rows in ((2, SECOND), (3, THIRD)):
        _second_load(path, rows, as_of=D(2024, 6 + number, 1))
        con = open_read(path)
        published = {t: _table(con, t) for t in ("children", "children_keys")}
        con.close()
        assert _rebuilt(path, tmp_path / f"rebuilt{number}.duckdb") == published
    assert added == [
        ["ADD", "EARLY", "NEW", "REC", "REFU", "SAME", "TIE", "TIER"],  # GONE's winner was replaced: whole
        ["NEW", "REFU", "TIE", "TIER"],
    ]
    con = open_read(path)
    rows = {r[0]: r[1:] for r in con.execute("SELECT child_id, sex, ethnicity, disabled FROM children").fetchall()}
    assert rows["ADD"] == ("M", "BCRB", True)
    assert rows["EARLY"][:2] == ("F", "WBRI")
    assert rows["GONE"][:2] == ("F", "WIRI")  # the replaced winner's blank leaves the earlier code
    assert rows["TIER"][1] == "WBRI" and rows["REFU"][1] == "BAFR" and rows["NEW"][:2] == ("F", "WBRI")
    assert rows["TIE"][0] == "Z"
    assert rows["REC"][0] == "M"


def test_a_tie_with_the_kept_winner_is_settled_as_a_full_rebuild_settles_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows of one day and one extract against the kept winner, whichever side the hash favours."""
    monkeypatch.setattr(derive, "FULL_REBUILD_SHARE", 2.0)
    codes = ("WBRI", "WIRI", "BAFR", "BCRB", "APKN", "CHNE", "MOTH", "AIND")
    first = {"contacts": [_contact(f"C{i}", D(2024, 4, 1), sex="F", ethnicity=c) for i, c in enumerate(codes)]}
    second = {
        "contacts": [
            _contact(f"C{i}", D(2024, 4, 1), "2B", sex="M", ethnicity=codes[-1 - i], as_of=AS_OF)
            for i in range(len(codes))
        ]
    }
    path = build_store(tmp_path / "store.duckdb", first, as_of=AS_OF)
    _second_load(path, second, as_of=D(2024, 8, 1))
    con = open_read(path)
    published = {t: _table(con, t) for t in ("children", "children_keys")}
    con.close()
    assert _rebuilt(path, tmp_path / "rebuilt.duckdb") == published
    kept = {r[0]: r[2] == codes[int(r[0][1:])] for r in published["children"]}
    assert set(kept.values()) == {True, False}  # the hash settles some ties for the kept winner, some for the new
