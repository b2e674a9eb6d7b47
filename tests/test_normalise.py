"""The shared normalisation SQL: dates, date-times, child ids and yes/no as councils write them."""

from __future__ import annotations

import random
import re
from datetime import date, datetime

import duckdb
import pyarrow as pa
import pytest

from ingest.normalise import (
    MISSING_TOKENS,
    PLAIN_ID,
    child_id_sql,
    clean_text_sql,
    heading_key,
    install_macros,
    is_quick_timestamp_sql,
    plain_id_sql,
    quick_timestamp_sql,
    timestamp_sql,
)


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    install_macros(connection)
    return connection


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-03-15", date(2024, 3, 15)),
        ("15/03/2024", date(2024, 3, 15)),  # DD/MM/YYYY, never MM/DD
        ("1/3/2024", date(2024, 3, 1)),
        ("45366", date(2024, 3, 15)),  # Excel serial
        ("45366.0", date(2024, 3, 15)),
        ("15.03.2024", date(2024, 3, 15)),
        ("15 Mar 2024", date(2024, 3, 15)),
        ("29/02/2024", date(2024, 2, 29)),  # leap day
        ("31/02/2024", None),  # no such day: not guessed
        (" #N/A ", None),
        ("garbage", None),
    ],
)
def test_dates(con: duckdb.DuckDBPyConnection, text: str, expected: date | None) -> None:
    assert con.execute("SELECT fd_date(?)", [text]).fetchone()[0] == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-05-03 09:15", datetime(2024, 5, 3, 9, 15)),
        ("2024-05-03T09:15:10", datetime(2024, 5, 3, 9, 15, 10)),
        ("2024-05-03 10:00 PM", datetime(2024, 5, 3, 22, 0)),  # a 12-hour clock, not a time zone
        ("03/05/2024 10:00", datetime(2024, 5, 3, 10, 0)),
        ("3/5/2024 9:05:30", datetime(2024, 5, 3, 9, 5, 30)),
        ("03/05/2024", datetime(2024, 5, 3)),
        ("03/05/2024 10:00:00:00", None),
        ("2024-05-03", datetime(2024, 5, 3)),
        ("2024-05-03 (BC)", None),  # trailing words are not read as a time zone or era
        ("2024-05-03 25:00", None),
    ],
)
def test_date_times(con: duckdb.DuckDBPyConnection, text: str, expected: datetime | None) -> None:
    assert con.execute("SELECT fd_timestamp(?)", [text]).fetchone()[0] == expected


def test_child_ids_and_booleans(con: duckdb.DuckDBPyConnection) -> None:
    ids = con.execute(
        "SELECT fd_child_id(x) FROM (VALUES ('1005'), ('1005.0'), (' 1005\u00a0'), ('001005')) t(x)"
    ).fetchall()
    assert [r[0] for r in ids] == ["1005", "1005", "1005", "001005"]  # leading zeros are part of the id
    flags = con.execute("SELECT fd_bool(x) FROM (VALUES ('a) Yes'), ('N'), ('b) No'), ('maybe')) t(x)").fetchall()
    assert [r[0] for r in flags] == [True, False, False, None]


def test_heading_key_matches_the_spellings_seen() -> None:
    assert heading_key("Date\u00a0of_referral ") == heading_key("DATE OF REFERRAL") == "date of referral"
    assert heading_key("LA children\u2019s social care support?") == "la childrens social care support"


# --- quick paths: raw text of an exact common shape is taken as it is ------------------------------


def _column_values(expressions: list[str], inputs: list[str | None]) -> list[list]:
    """Each SQL expression of x evaluated over the inputs, in order."""
    con = duckdb.connect()
    frame = pa.table({"i": pa.array(range(len(inputs)), pa.int32()), "x": pa.array(inputs, pa.string())})  # noqa: F841 - read by name below
    con.execute("CREATE TABLE t AS SELECT * FROM frame")
    return [[r[0] for r in con.execute(f"SELECT {e} FROM t ORDER BY i").fetchall()] for e in expressions]


def test_plain_ids_are_their_own_clean_text_and_child_id() -> None:
    assert not any(re.fullmatch(PLAIN_ID, token) for token in MISSING_TOKENS)  # a plain id is never 'missing'
    ids = [
        "1005",
        "0457",
        "CN-17",
        "R0",
        "A/12",
        "x_9",
        "1005.0",
        " 1005",
        "1005 ",
        "10 05",
        "1005\u00a0",
        "NA",
        "-",
        "#N/A",
        "ABC",
        "1\t2",
        "１２",
        "12#",
        None,
    ]
    plain, clean, child = _column_values(
        [plain_id_sql("x"), clean_text_sql("x"), child_id_sql(clean_text_sql("x"))], ids
    )
    assert [v for v, p in zip(ids, plain) if p] == ["1005", "0457", "CN-17", "R0", "A/12", "x_9"]
    assert all(c == v and d == v for v, p, c, d in zip(ids, plain, clean, child) if p)


def _near_misses(seed: int, count: int) -> list[str | None]:
    """Near-miss date-times: well-formed templates with up to three characters changed, added or removed."""
    rng = random.Random(seed)
    alphabet, templates = (
        "0123456789-/ :TPMZ.\u00a0",
        [
            "2024-05-03",
            "03/05/2024",
            "2024-05-03 10:00",
            "03/05/2024 10:00:00",
            "2024-05-03T10:00:00",
            "31/12/1999 23:59",
        ],
    )
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
        out.append("".join(chars) or None)
    return out


def test_quick_timestamps_equal_the_full_parser() -> None:
    awkward = [
        "2024-05-03",
        "2024-05-03 10:00",
        "2024-05-03T10:00",
        "2024-05-03 10:00:00",
        "03/05/2024",
        "03/05/2024 10:15",
        "03/05/2024 10:15:30",
        "31/02/2024",
        "2024-02-30 10:00",
        "2024-05-03 25:00",
        "03/05/2024 10:00 PM",
        "2024-05-03 10:00 PM",
        " 2024-05-03",
        "2024-05-03\u00a0",
        "0000-01-01",
        "9999-12-31 23:59",
        "+024-05-03",
        "2024-05-03 10:00:00.5",
        "45415",
        "#N/A",
        "",
        None,
    ]
    inputs = awkward + _near_misses(seed=20240503, count=20000)
    quick, expected, shaped = _column_values(
        [quick_timestamp_sql("x"), timestamp_sql(clean_text_sql("x")), is_quick_timestamp_sql("x")], inputs
    )
    assert [(v, q, e) for v, q, e, s in zip(inputs, quick, expected, shaped) if s and q != e][:5] == []
    assert sum(bool(s) for s in shaped) > 5000  # most near misses keep a quick shape: the quick path is exercised
    assert all(shaped[:10]) and not any(shaped[10:14])  # 31/02 and 25:00 keep the shape, parse to NULL
