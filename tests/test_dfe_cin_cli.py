"""`python -m expectations.dfe_cin`: DfE's rules on CIN files before loading, counts on screen, rows only in the CSV."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from expectations.dfe_cin.__main__ import main
from tests.dfe_cin_kit import assessment as a
from tests.dfe_cin_kit import census, child, cin, write
from tests.shared_paths import SAMPLES


def test_counts_on_screen_rows_in_the_csv(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "findings.csv"
    assert main([str(SAMPLES / "cin_census" / "CIN2rows.xml"), "--csv", str(out)]) == 1  # errors block the return
    printed = capsys.readouterr().out
    assert "CIN2rows.xml: census 2022-23; 5 error(s) that would block the return, 1 query(ies)" in printed
    assert "DfEX0000001" not in printed  # no child-level value on screen
    rows = pd.read_csv(out)
    assert set(rows.la_child_id.dropna()) == {"DfEX0000001"} and "8670Q" in set(rows.rule_code)


def test_a_clean_file_exits_0_and_a_non_cin_file_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    clean = write(tmp_path, census(child(cin("2022-06-01", inner=a("2022-06-02", "2022-06-20")))))
    assert main([str(clean)]) == 0
    assert "0 error(s)" in capsys.readouterr().out
    assert main([str(SAMPLES / "annex_a" / "liia_Annex_A_2024_Jan.xlsx")]) == 2
    assert capsys.readouterr().err.strip() == "liia_Annex_A_2024_Jan.xlsx: not a CIN census XML (looks like annex a)"
