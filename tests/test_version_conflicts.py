"""A child's records that disagree are found across every version and source, not only in the surviving rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from expectations.model import CheckParams
from expectations.runner import run_checks
from metrics.ethnicity import count_ethnicity_inconsistent_children, ethnicity_inconsistent_children
from store.connection import open_read
from tests.storekit import build_store

D = date
CHECK = "cross_table.ethnicity_consistent"


def _referral(child: str, ethnicity: str | None, day: int = 5, sex: str = "F", born: date = D(2015, 1, 1)) -> dict:
    return dict(
        child_id=child,
        referral_date=D(2024, 5, day),
        referral_source="6",
        sex=sex,
        ethnicity=ethnicity,
        date_of_birth=born,
        team="East",
    )


# Extract of June: O is WBRI, K is APKN, M is NOBT. Extract of September (same referrals, later as-of):
# O is now WIRI (the June value is overwritten in the current rows), K is still APKN, M is now MWBC.
# S is F in June and M in September; B born 1 Jan 2015 in June, 10 Jan 2015 in September; N is U then F.
JUNE = {
    "referrals": [
        _referral("O", "WBRI"),
        _referral("K", "APKN", 6),
        _referral("M", "NOBT", 7),
        _referral("S", "WBRI", 8),
        _referral("B", "WBRI", 9),
        _referral("N", "WBRI", 10, sex="U"),
    ]
}
SEPTEMBER = {
    "referrals": [
        _referral("O", "WIRI"),
        _referral("K", "APKN", 6),
        _referral("M", "MWBC", 7),
        _referral("S", "WBRI", 8, sex="M"),
        _referral("B", "WBRI", 9, born=D(2015, 1, 10)),
        _referral("N", "WBRI", 10),
    ]
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("conflicts") / "store.duckdb"
    build_store(path, JUNE, as_of=D(2024, 6, 30))
    return build_store(path, SEPTEMBER, as_of=D(2024, 9, 30))


@pytest.fixture()
def con(store: Path) -> duckdb.DuckDBPyConnection:
    connection = open_read(store)
    yield connection
    connection.close()


def test_the_current_rows_agree_so_only_the_versions_show_the_conflict(con: duckdb.DuckDBPyConnection) -> None:
    current = con.execute("SELECT child_id, ethnicity FROM referrals ORDER BY child_id").fetchall()
    assert current[:3] == [("B", "WBRI"), ("K", "APKN"), ("M", "MWBC")]  # one row per child: nothing to compare
    assert ("O", "WIRI") in current
    assert con.execute("SELECT count(*) FROM referrals_versions").fetchone()[0] == 12


def test_ethnicity_page_counts_a_child_whose_extracts_disagree(con: duckdb.DuckDBPyConnection) -> None:
    # O: WBRI in June, WIRI in September -> counted; K: APKN both times -> not; M: NOBT then MWBC is a gap
    # filled, not a contradiction -> not
    assert count_ethnicity_inconsistent_children(con) == 1
    listed = ethnicity_inconsistent_children(con)
    assert listed["child_id"].tolist() == ["O"]
    assert list(listed["ethnicities_recorded"].iloc[0]) == ["WBRI", "WIRI"]


def test_consistency_check_fails_on_each_version_that_disagrees(con: duckdb.DuckDBPyConnection) -> None:
    run = run_checks(con, CheckParams.from_store(con), check_ids=[CHECK])
    result = run.results.set_index("check_id").loc[CHECK]
    assert not result["success"]
    assert result["unexpected_count"] == 2  # O's June row and O's September row
    failures = run.failures[run.failures["check_id"] == CHECK]
    assert set(failures["child_id"]) == {"O"}
    assert sorted(failures["value"]) == [
        "WBRI (the child is recorded as WIRI elsewhere)",
        "WIRI (the child is recorded as WBRI elsewhere)",
    ]


@pytest.mark.parametrize(
    ("check_id", "child", "values"),
    [
        (
            "cross_table.sex_consistent",
            "S",
            ["F (the child is recorded as M elsewhere)", "M (the child is recorded as F elsewhere)"],
        ),
        (
            "cross_table.date_of_birth_consistent",
            "B",
            [
                "2015-01-01 (the child is recorded as 2015-01-10 elsewhere)",
                "2015-01-10 (the child is recorded as 2015-01-01 elsewhere)",
            ],
        ),
    ],
)
def test_sex_and_birth_date_conflicts_across_extracts_are_found(
    con: duckdb.DuckDBPyConnection, check_id: str, child: str, values: list[str]
) -> None:
    run = run_checks(con, CheckParams.from_store(con), check_ids=[check_id])
    assert run.results.set_index("check_id").loc[check_id, "unexpected_count"] == 2  # N's U then F is no conflict
    failures = run.failures[run.failures["check_id"] == check_id]
    assert set(failures["child_id"]) == {child}
    assert sorted(failures["value"]) == values
