"""`store.connection.one_commit` nests: the outer block commits the whole; a failure anywhere rolls back the whole."""

from __future__ import annotations

import duckdb
import pytest

from store.connection import one_commit


def _rows(con: duckdb.DuckDBPyConnection) -> list[int]:
    return [r[0] for r in con.execute("SELECT x FROM t ORDER BY x").fetchall()]


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (x INTEGER)")
    return con


def test_an_inner_step_commits_with_the_outer_one(con: duckdb.DuckDBPyConnection) -> None:
    with one_commit(con):
        con.execute("INSERT INTO t VALUES (1)")
        with one_commit(con):
            con.execute("INSERT INTO t VALUES (2)")
        other = con.cursor()  # another connection sees nothing until the outer block commits
        assert other.execute("SELECT count(*) FROM t").fetchone() == (0,)
    assert _rows(con) == [1, 2]


def test_a_failing_inner_step_leaves_nothing_and_raises_its_own_error(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(duckdb.CatalogException), one_commit(con):
        con.execute("INSERT INTO t VALUES (1)")
        try:
            with one_commit(con):
                con.execute("INSERT INTO t VALUES (2)")
                con.execute("SELECT * FROM no_such_table")
        finally:
            con.execute("SELECT 1")  # a step's clean-up after its failure runs (outside the failed transaction)
    assert _rows(con) == []
    with one_commit(con):  # and the connection is usable again
        con.execute("INSERT INTO t VALUES (3)")
    assert _rows(con) == [3]
