"""The fast SQL twins used by the recording reader give the same values as ingest.normalise on awkward input."""

from __future__ import annotations

import random

import duckdb
import pyarrow as pa
import pytest

from ingest.normalise import bool_sql, child_id_sql, clean_text_sql, date_sql, timestamp_sql
from ingest.readers.fast_normalise import (
    fast_child_id_sql,
    missing_to_null_sql,
    raw_bool_sql,
    raw_date_sql,
    raw_present_sql,
    raw_timestamp_sql,
    squeeze_sql,
)

TEXTS = [None, "", " ", "\u00a0", "Ann Smith", "  Ann   Smith ", "Ann\tSmith", "Ann\u00a0\u00a0Smith", "Ann\nSmith",
         "#N/A", " n/a ", "NULL", "none recorded", "None", "-", "nan", "NaT", "#VALUE!", "NA", "A", "x y", " Ann", "Ann ",
         "\tAnn", "Ann\r\n", "Ann\u000bSmith", "Ann\u2003Smith", "#n/a ", "N/A x", "xNULL", "--", "\u00a0#N/A"]
DATES = ["2024-05-03", "2024-5-3", "2024-05-03 10:00", "2024-05-03T10:00:00", "03/05/2024", "3/5/2024", "03/05/2024 10:15",
         "03-05-2024", "03.05.2024", "3/5/24", "3 May 2024", "45415", "45415.5", "31/02/2024", "2024-02-30", "2024-13-01",
         "13/13/2024", "-024-05-03", "+024-05-03", "20240503", "03/05/20245", "03/05/2024x", "0000-01-01",
         "9999-12-31", "2024-05-03Z", "2024/05/03", "yesterday", "1", "99999999", ""]
TIMESTAMPS = DATES + ["2024-05-03 10:00:00", "2024-05-03 10:00:00.123", "2024-05-03T10:00:00Z", "2024-05-03 10:00:00+01:00",
                      "03/05/2024 10:15:30", "03/05/2024 25:00", "2024-05-03 25:00:00", "03/05/2024 10:00 AM",
                      "03/05/2024 10:00:00.5", "03/05/2024 10:00 PM", "2024-05-03 10:00 PM", "03/05/2024 10:00 (BC)",
                      "03/05/2024 10:00:00 PM", "2024-05-03T10:00", "2024-05-03 1a:00", "03/05/2024T10:00"]
IDS = ["1005", "1005.0", "1005.00", "0457", "1005.5", "A.1", "1.0.0", "10.", ".0"]


def values(expr_a: str, expr_b: str, inputs: list[str | None]) -> tuple[list, list]:
    con = duckdb.connect()
    frame = pa.table({"i": pa.array(range(len(inputs)), pa.int32()), "x": pa.array(inputs, pa.string())})
    con.execute("CREATE TABLE t AS SELECT * FROM frame")
    a = [r[0] for r in con.execute(f"SELECT {expr_a} FROM t ORDER BY i").fetchall()]
    b = [r[0] for r in con.execute(f"SELECT {expr_b} FROM t ORDER BY i").fetchall()]
    return a, b


def test_squeeze_then_missing_equals_clean_text() -> None:
    fast, slow = values(missing_to_null_sql(squeeze_sql("x")), clean_text_sql("x"), TEXTS)
    assert fast == slow
    assert fast[5] == "Ann Smith" and fast[9] is None and fast[13] == "None"  # 'None' is not a missing token


def test_fast_child_id_equals_child_id() -> None:
    fast, slow = values(fast_child_id_sql("x"), child_id_sql("x"), IDS)
    assert fast == slow and fast[:4] == ["1005", "1005", "1005", "0457"]


def _padded(inputs: list[str | None]) -> list[str | None]:
    """Each value as written, and again with the whitespace real files carry around it."""
    return inputs + [None if v is None else f" {v}\u00a0" for v in inputs] + [None if v is None else f"\t{v} " for v in inputs]


@pytest.mark.parametrize("kind", ["date", "timestamp"])
def test_raw_dates_equal_the_full_parsers_on_clean_text(kind: str) -> None:
    fast_sql, slow_sql, inputs = ((raw_date_sql, date_sql, DATES) if kind == "date"
                                  else (raw_timestamp_sql, timestamp_sql, TIMESTAMPS))
    raw = _padded(inputs + ["#N/A", "  "])
    fast, slow = values(fast_sql("x"), slow_sql(clean_text_sql("x")), raw)
    assert [(v, f, s) for v, f, s in zip(raw, fast, slow) if f != s] == []
    assert fast[0] is not None and fast[13] is None  # 2024-05-03 parses, 31/02/2024 does not


def test_raw_booleans_and_presence_equal_the_full_expressions() -> None:
    raw = _padded(["Yes", "no", "Y", "n", "TRUE", "false", "1", "0", "a) Yes", "b) No", "maybe", "", "#N/A", None, "t", "F"])
    fast, slow = values(raw_bool_sql("x"), bool_sql(clean_text_sql("x")), raw)
    assert fast == slow and fast[:2] == [True, False] and fast[10] is None
    present, expected = values(raw_present_sql("x"), f"{clean_text_sql('x')} IS NOT NULL", raw)
    assert present == expected and present[10] is True and present[12] is False


def _mutations(seed: int, count: int) -> list[str | None]:
    """Near-miss dates and times: well-formed templates with up to three characters changed, added or removed."""
    rng = random.Random(seed)
    alphabet, templates = "0123456789-/ :TPMZ.", ["2024-05-03", "03/05/2024", "2024-05-03 10:00", "03/05/2024 10:00:00",
                                                  "2024-05-03T10:00:00", "31/12/1999 23:59"]
    out: list[str | None] = []
    for _ in range(count):
        chars = list(rng.choice(templates))
        for _ in range(rng.randint(0, 3)):
            op = rng.random()
            if op < 0.4 and chars:
                chars[rng.randrange(len(chars))] = rng.choice(alphabet)
            elif op < 0.7:
                chars.insert(rng.randrange(len(chars) + 1), rng.choice(alphabet))
            elif chars:
                del chars[rng.randrange(len(chars))]
        out.append("".join(chars).strip() or None)
    return out


@pytest.mark.parametrize("kind", ["date", "timestamp"])
def test_fast_dates_equal_the_full_parsers_on_near_misses(kind: str) -> None:
    fast_sql, slow_sql = (raw_date_sql, date_sql) if kind == "date" else (raw_timestamp_sql, timestamp_sql)
    inputs = _mutations(seed=20240503, count=20000)
    fast, slow = values(fast_sql("x"), slow_sql(clean_text_sql("x")), inputs)
    assert [(v, f, s) for v, f, s in zip(inputs, fast, slow) if f != s][:5] == []
    assert sum(f is not None for f in fast) > 5000  # most near misses are still dates: the fast path is exercised
