"""The month's floor benchmark: the writes it makes, its commits, and the leaner layout's writes."""

from __future__ import annotations

import duckdb

from benchmarks.bench_month_floor import Write, commits, group_of, leaner, stage


def test_the_floor_deletes_inserts_and_updates_about_as_many_rows_as_the_month() -> None:
    con = duckdb.connect()
    # 100 children with 1 to 4 rows each (250 rows): a child's rows are found by its id, as the month finds them
    con.execute(
        "CREATE TABLE children AS SELECT CAST(i AS VARCHAR) AS child_id, DATE '2020-01-01' AS first_seen,"
        " DATE '2020-01-01' AS last_seen FROM range(100) t(i), range(4) r(j) WHERE j <= i % 4"
    )
    written = {what: con.execute(sql).fetchall()[0][0] for what, sql in stage(con, Write("children", 60, 80, 30))}
    assert list(written) == ["update", "delete", "insert"]  # in the month's order
    assert 60 - 4 < written["delete"] <= 60  # whole children, as many as hold at most 60 rows (a child has <= 4)
    assert 80 - 4 < written["insert"] <= 80
    assert 30 - 4 < written["update"] <= 30
    assert con.execute("SELECT count(*) FROM children").fetchall() == [(250 - written["delete"] + written["insert"],)]


def test_rows_only_inserted_are_a_sample_of_the_table_and_a_whole_table_is_rewritten_whole() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE contacts_versions AS SELECT CAST(i % 7 AS VARCHAR) AS child_id FROM range(50) t(i)")
    con.execute("CREATE TABLE summary_staff AS SELECT 'team' AS team FROM range(3)")
    statements = stage(con, Write("contacts_versions", inserted=20)) + stage(con, Write("summary_staff", whole=True))
    assert [con.execute(sql).fetchall()[0][0] for _, sql in statements] == [20, 3]
    assert con.execute("SELECT count(*) FROM contacts_versions").fetchall() == [(70,)]


def test_the_month_commits_after_each_file_then_after_each_group_or_once_in_a_leaner_layout() -> None:
    tables = ["contacts_versions", "referrals_versions", "contacts", "referrals", "contact_facts", "dq_failures"]
    groups = [group_of(t) for t in tables]
    assert commits(groups, lean=False) == [True, True, False, True, True, True]
    assert commits(groups, lean=True) == [True, True, False, False, False, True]


def test_a_leaner_layout_writes_each_event_and_each_child_once() -> None:
    month = [
        Write("contacts_versions", inserted=170),
        Write("referrals", deleted=50, inserted=100),  # the merge writes more referrals than the facts step
        Write("referral_facts", deleted=9, inserted=59),
        Write("contacts", inserted=169),
        Write("contact_facts", deleted=560, inserted=730),
        Write("children", deleted=245, inserted=245, updated=242),
        Write("children_keys", deleted=245, inserted=246),
        Write("dq_child_attributes", inserted=44, updated=245),
        Write("dq_failing_units", deleted=8, inserted=33, updated=726),
    ]
    assert leaner(month) == [
        Write("contacts_versions", inserted=170),
        Write("dq_failing_units", deleted=8, inserted=33, updated=726),
        Write("contact_facts", deleted=560, inserted=730),
        Write("referral_facts", deleted=50, inserted=100),
        Write("children", deleted=245, inserted=246),
    ]
