"""Incomplete periods: recent months not yet due are provisional and take no part in SPC limits or signals."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd
import pytest
from storekit import build_store

from metrics.provisional import mark_provisional, provisional_from
from metrics.spc import spc_limits
from store.connection import open_read

AS_OF = date(2025, 3, 31)  # a Monday


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    path = tmp_path_factory.mktemp("provisional") / "store.duckdb"
    build_store(path, {"referrals": [dict(child_id="1", referral_date=date(2024, 1, 5))]}, as_of=AS_OF)
    return open_read(path)


def test_recording_months_are_provisional_until_the_target_has_elapsed(con: duckdb.DuckDBPyConnection) -> None:
    # 5 working days before Mon 31 Mar 2025 is Mon 24 Mar: events after it are not yet due.
    assert provisional_from(con, "recording_timeliness", target_wd=5) == date(2025, 3, 25)
    # 45 working days before 31 Mar 2025 is Mon 27 Jan 2025 (no bank holiday between).
    assert provisional_from(con, "assessment_timeliness") == date(2025, 1, 28)
    assert provisional_from(con, "re_referral_after_closure", within_months=12) == date(2024, 4, 1)
    assert provisional_from(con, "re_referral_rate") is None


def test_provisional_months_are_out_of_the_spc_limits() -> None:
    months = pd.date_range("2024-04-01", periods=12, freq="MS").date
    # Eleven steady months at 80%, and a last month not yet due that dips to 20%.
    frame = pd.DataFrame({"month": months, "numerator": [80] * 11 + [20], "denominator": [100] * 12})
    frame["rate"] = 100.0 * frame["numerator"] / frame["denominator"]
    old = spc_limits(frame)
    assert old["signal"].iloc[-1] == "below"  # scored as a fall: the bug
    marked = mark_provisional(frame, date(2025, 3, 25))
    assert marked["provisional"].tolist() == [False] * 11 + [True]
    new = spc_limits(marked)
    assert new["centre"].iloc[0] == pytest.approx(80.0)  # the dip does not pull the centre line down
    assert new["signal"].isna().all()
