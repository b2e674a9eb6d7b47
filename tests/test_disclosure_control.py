"""Disclosure control (metrics/privacy.py) on hand-made tables, cell by cell: primary 'c' for counts 1-4, secondary
suppression so no total gives a hidden cell away, and rates withheld with their counts."""

from __future__ import annotations

import pandas as pd

from metrics.privacy import publishable, suppress_small_counts, suppress_table

C = "c"


def rows(frame: pd.DataFrame) -> list[list[object]]:
    return [[None if pd.isna(v) else v for v in row] for row in frame.itertuples(index=False)]


def test_a_lone_small_numerator_takes_the_smallest_other_count_with_it() -> None:
    frame = pd.DataFrame(
        {
            "team": ["A", "B", "C", "D"],
            "numerator": [3, 0, 10, 6],
            "denominator": [20, 8, 40, 12],
            "rate": [15.0, 0.0, 25.0, 50.0],
        }
    )
    assert rows(publishable(frame)) == [
        ["A", C, 20, C],  # 3 is 1-4: primary
        ["B", 0, 8, 0.0],  # zero is shown, and a zero cannot protect a hidden cell
        ["C", 10, 40, 25.0],
        ["D", C, 12, C],  # secondary: the overall numerator (19) minus 10 would give A's 3 away; 6 is the smallest
    ]
    assert frame["numerator"].tolist() == [3, 0, 10, 6]  # the input is untouched


def test_two_small_cells_in_a_column_need_no_partner_but_a_lone_small_denominator_does() -> None:
    frame = pd.DataFrame(
        {"team": ["A", "B", "C"], "numerator": [2, 1, 7], "denominator": [4, 30, 9], "rate": [50.0, 3.3, 77.8]}
    )
    assert rows(publishable(frame)) == [
        ["A", C, C, C],  # both counts are 1-4
        ["B", C, 30, C],  # numerator 1: primary; its rate goes with it
        ["C", 7, C, C],  # denominator: A's 4 is alone in its column, so 9 (the smallest other) is withheld
    ]


def test_numeric_version_for_charts_blanks_the_same_cells() -> None:
    frame = pd.DataFrame(
        {
            "team": ["A", "B", "C", "D"],
            "numerator": [3, 0, 10, 6],
            "denominator": [20, 8, 40, 12],
            "rate": [15.0, 0.0, 25.0, 50.0],
        }
    )
    assert rows(suppress_small_counts(frame)) == [
        ["A", None, 20, None],
        ["B", 0, 8, 0.0],
        ["C", 10, 40, 25.0],
        ["D", None, 12, None],
    ]


def test_threshold_is_a_setting() -> None:
    frame = pd.DataFrame({"month": ["Jan", "Feb", "Mar"], "count": [8, 12, 5]})
    # 8 and 5 are below 10: two hidden cells protect each other, so 12 stays
    assert rows(publishable(frame, threshold=10)) == [["Jan", C], ["Feb", 12], ["Mar", C]]
    assert rows(publishable(frame, threshold=5)) == [["Jan", 8], ["Feb", 12], ["Mar", 5]]  # 5 is not below 5


def test_two_way_table_with_totals_primary_and_secondary_cell_by_cell() -> None:
    table = pd.DataFrame(
        {"T1": [20, 4, 0, 24], "T2": [15, 10, 6, 31], "T3": [3, 12, 8, 23], "Total": [38, 26, 14, 78]},
        index=["White", "Asian", "Black", "Total"],
    )
    out = suppress_table(table)
    expected = {
        # row: [T1, T2, T3, Total]
        "White": [C, 15, C, 38],  # T3 3 primary; T1 20 hidden so column T1's total cannot give Asian's 4 away
        "Asian": [C, C, 12, 26],  # T1 4 primary; T2 10 partners it in the row
        "Black": [0, C, C, 14],  # T3 8 partners White's 3 in column T3; T2 6 then partners it in the row
        "Total": [24, 31, 23, 78],  # totals of 5 or more stay
    }
    for row, cells in expected.items():
        for column, cell in zip(["T1", "T2", "T3", "Total"], cells):
            assert out.loc[row, column] == cell, (row, column, out.loc[row, column])
    # every row and column now has no hidden cell or at least two
    hidden = out.loc[["White", "Asian", "Black"], ["T1", "T2", "T3"]] == C
    assert set(hidden.sum(axis=0)) <= {0, 2, 3} and set(hidden.sum(axis=1)) <= {0, 2, 3}


def test_a_small_total_is_itself_withheld() -> None:
    table = pd.DataFrame({"T1": [3, 0, 3], "T2": [0, 0, 0], "Total": [3, 0, 3]}, index=["White", "Asian", "Total"])
    out = suppress_table(table)
    assert out.loc["White", "T1"] == C and out.loc["White", "Total"] == C and out.loc["Total", "T1"] == C
    assert out.loc["Total", "Total"] == C
    assert out.loc["Asian", "Total"] == 0 and out.loc["White", "T2"] == 0
