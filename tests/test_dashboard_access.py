"""AppTest of sign-in and roles without a server: what each role sees on every page, the no-role and sign-in pages,
local mode (banner on localhost, refusal elsewhere), the audit trail of child-level views, the publishable view."""

from __future__ import annotations

import itertools
import json
import re
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from apptest_kit import assert_downloads_made, open_on
from streamlit import config
from streamlit.testing.v1 import AppTest
from test_dashboard_fixture import PERIOD, fixture_rows

from ui import audit

APP = Path(__file__).resolve().parent.parent / "dashboard.py"
QUERY = {"from": PERIOD[0].isoformat(), "to": PERIOD[1].isoformat()}
PAGES = {
    "overview": "pages/overview_page.py",
    "re_referrals": "pages/re_referrals_page.py",
    "timeliness": "pages/timeliness_page.py",
    "ethnicity": "pages/ethnicity_page.py",
    "front_door": "pages/front_door_page.py",
    "data_quality": "pages/data_quality_page.py",
    "downloads": "pages/downloads_page.py",
    "definitions": "pages/definitions_page.py",
    "about": "pages/about_data_page.py",
}
# Pages with a child-level list, and the expander key of each list.
CHILD_LISTS = {
    "re_referrals": ["rr_children_open"],
    "timeliness": ["tl_overdue_open", "tl_backlog_open"],
    "ethnicity": ["eth_inconsistent_open"],
}
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "test-secret",
    "client_id": "frontdoor",
    "client_secret": "x",
    "server_metadata_url": "http://127.0.0.1:9/.well-known",
}
CHILD_ID = re.compile(r"\bC\d{2}\b")
ISSUED = itertools.count(1_700_000_000)  # each signed_in() is a new sign-in (its ID token's issue time)


@pytest.fixture(scope="module")
def store(checked_dashboard_store: Path) -> Path:
    return checked_dashboard_store  # built once for the run with its checks (conftest.py), only read


@pytest.fixture()
def audit_log(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    path = tmp_path / "audit.jsonl"
    monkeypatch.setenv("FRONTDOOR_AUDIT_LOG", str(path))
    return path


def signed_in(roles: list[str] | None, *, email: str = "jo@council.example") -> dict[str, Any]:
    user: dict[str, Any] = {"is_logged_in": True, "email": email, "sub": email.split("@")[0], "iat": next(ISSUED)}
    if roles is not None:
        user["roles"] = roles
    return user


def open_as(
    monkeypatch: pytest.MonkeyPatch,
    store: Path,
    user: dict[str, Any] | None,
    page: str = "overview",
    auth: bool = True,
    state: dict[str, Any] | None = None,
) -> AppTest:
    """The dashboard on `page`, with sign-in configured (unless `auth` is False), `user` as st.user, and `state` in
    the session before the first run (as a toggle or expander the user set: its first run draws the page with it)."""
    monkeypatch.setenv("FRONTDOOR_STORE", str(store))
    at = AppTest.from_file(str(APP), default_timeout=90)
    if auth:
        at.secrets["auth"] = AUTH
    if user is not None:
        at.user = user
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.query_params.update(QUERY)
    open_on(at, PAGES[page])  # as a browser opening the page's URL
    assert not at.exception, [e.value for e in at.exception]
    return at


def everything_shown(at: AppTest) -> str:
    """Every text, label, option and table cell the run sent to the browser."""
    parts: list[str] = []
    for kind in ("markdown", "caption", "info", "warning", "success", "error", "title", "header", "subheader"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [e.label for e in at.expander] + [b.label for b in at.download_button] + [b.label for b in at.button]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    for box in at.selectbox:
        parts += [str(o) for o in box.options]
    for frame in at.dataframe:
        parts.append(frame.value.to_csv())
    return "\n".join(parts)


def child_ids() -> set[str]:
    return {str(row["child_id"]) for rows in fixture_rows().values() for row in rows if "child_id" in row}


def sensitive(at: AppTest) -> list[str]:
    """The child-level lists on the page (the field-provenance expander beside a list is counted apart)."""
    return [e.label for e in at.expander if "Sensitive" in e.label and "where each value" not in e.label]


def test_the_fixture_ids_match_the_pattern_the_scan_looks_for() -> None:
    assert child_ids() and all(CHILD_ID.fullmatch(c) for c in child_ids())


@pytest.mark.parametrize("page", list(PAGES))
def test_leadership_sees_every_aggregate_page_and_no_child_identifier(
    monkeypatch: pytest.MonkeyPatch, store: Path, audit_log: Path, page: str
) -> None:
    forged = dict.fromkeys(CHILD_LISTS.get(page, []), True)  # even a forged "open" state draws nothing
    at = open_as(monkeypatch, store, signed_in(["leadership"]), page, state=forged)
    assert at.title and not at.title[0].value.startswith(("Sign in", "No access"))
    assert all(at.session_state[key] is True for key in forged)  # the run saw the lists "open"
    shown = everything_shown(at)
    assert not CHILD_ID.search(shown), CHILD_ID.findall(shown)[:5]
    assert not sensitive(at)
    assert not any("personal data" in b.label for b in at.download_button)
    assert not any("child_id" in f.value.columns for f in at.dataframe)
    assert "Child-level lists" not in shown
    if page == "data_quality":
        assert "dq_check" not in [s.key for s in at.selectbox]


@pytest.mark.parametrize("page", ["re_referrals", "timeliness"])
def test_analyst_opens_child_lists_and_each_opening_is_audited(
    monkeypatch: pytest.MonkeyPatch, store: Path, audit_log: Path, page: str
) -> None:
    at = open_as(monkeypatch, store, signed_in(["analyst"], email="ana@council.example"), page)
    assert len(sensitive(at)) == len(CHILD_LISTS[page])
    entries = [json.loads(line) for line in audit_log.read_text().splitlines()]
    assert [e["event"] for e in entries] == ["sign_in"]
    key = CHILD_LISTS[page][0]
    at.session_state[key] = True
    at.run()
    at.run()  # a rerun of the open list is the same view
    assert any("child_id" in f.value.columns for f in at.dataframe)
    views = [json.loads(line) for line in audit_log.read_text().splitlines()][1:]
    assert len(views) == 1
    view = views[0]
    assert view["event"] == "view_list" and view["user"] == "ana@council.example" and view["roles"] == ["analyst"]
    assert view["filters"]["from"] == QUERY["from"] and view["rows"] >= 0 and view["page"]
    assert not CHILD_ID.search(audit_log.read_text())  # never a child value in the trail
    at.session_state[key] = False
    at.run()
    at.session_state[key] = True
    at.run()
    assert len(audit_log.read_text().splitlines()) == 3  # opened again: a second view


def test_each_audit_entry_also_reaches_the_system_log_without_child_values(
    monkeypatch: pytest.MonkeyPatch, store: Path, audit_log: Path
) -> None:
    """FRONTDOOR_AUDIT_SYSLOG: the sign-in and the opening of a list arrive at a syslog listener as they are in the file."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.settimeout(10)
        monkeypatch.setenv("FRONTDOOR_AUDIT_SYSLOG", f"udp://127.0.0.1:{listener.getsockname()[1]}")
        at = open_as(monkeypatch, store, signed_in(["analyst"], email="ana@council.example"), "re_referrals")
        at.session_state[CHILD_LISTS["re_referrals"][0]] = True
        at.run()
        received = [listener.recv(65536).decode() for _ in range(2)]
    lines = audit_log.read_bytes().splitlines()
    sent = [json.loads(message.split(": ", 1)[1].rstrip("\0")) for message in received]
    assert [(e["event"], e["user"]) for e in sent] == [
        ("sign_in", "ana@council.example"),
        ("view_list", "ana@council.example"),
    ]
    assert [e.pop("sha256") for e in sent] == [audit.line_hash(line) for line in lines]
    assert sent == [json.loads(line) for line in lines]
    assert not any(CHILD_ID.search(message) for message in received)  # never a child value in the system log


def test_a_list_whose_opening_cannot_reach_the_system_log_is_not_shown(
    monkeypatch: pytest.MonkeyPatch, store: Path, audit_log: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    at = open_as(monkeypatch, store, signed_in(["analyst"]), "re_referrals")
    monkeypatch.setenv("FRONTDOOR_AUDIT_SYSLOG", str(tmp_path / "no-such-log"))  # the system log goes away
    at.session_state[CHILD_LISTS["re_referrals"][0]] = True
    at.run()
    assert at.exception  # the page says it failed (details redacted on screen); the server's log says why
    assert [type(r.exc_info[1]) for r in caplog.records if r.exc_info] == [FileNotFoundError]
    assert not any("child_id" in f.value.columns for f in at.dataframe)
    assert not CHILD_ID.search(everything_shown(at))


def test_analyst_has_child_level_downloads_but_no_failing_rows(
    monkeypatch: pytest.MonkeyPatch, store: Path, audit_log: Path
) -> None:
    at = open_as(monkeypatch, store, signed_in(["analyst"]), "downloads")
    assert "Child-level lists" in [s.value for s in at.subheader]
    at = open_as(monkeypatch, store, signed_in(["analyst"]), "data_quality")
    assert "dq_check" not in [s.key for s in at.selectbox]
    assert not any("personal data" in b.label for b in at.download_button)


def test_data_quality_role_sees_failing_rows_but_no_child_lists(
    monkeypatch: pytest.MonkeyPatch, store: Path, audit_log: Path
) -> None:
    at = open_as(monkeypatch, store, signed_in(["data_quality"]), "data_quality")
    assert "dq_check" in [s.key for s in at.selectbox]
    assert any("personal data" in b.label for b in at.download_button)
    at.session_state["dq_rows_open"] = True
    at.run()
    assert list(at.dataframe[-1].value.columns)[:4] == ["child_id", "source_file", "sheet", "row_number"]
    assert [json.loads(line)["event"] for line in audit_log.read_text().splitlines()] == ["sign_in", "view_list"]
    at = open_as(monkeypatch, store, signed_in(["data_quality"]), "re_referrals")
    assert not sensitive(at)
    at = open_as(monkeypatch, store, signed_in(["data_quality"]), "downloads")
    assert "Child-level lists" not in [s.value for s in at.subheader]


def test_only_admin_has_the_audit_page(monkeypatch: pytest.MonkeyPatch, store: Path, audit_log: Path) -> None:
    at = open_as(monkeypatch, store, signed_in(["admin"], email="admin@council.example"))
    at.switch_page("pages/audit_page.py").run()
    assert at.title[0].value == "Audit"
    assert any("hash chain is intact" in s.value for s in at.success)
    assert "admin@council.example" in at.dataframe[0].value["user"].tolist()
    for role in ("leadership", "analyst", "data_quality"):
        at = open_as(monkeypatch, store, signed_in([role]), "definitions")  # any page: the navigation is the router's
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page("pages/audit_page.py")  # not in this role's navigation: no URL reaches it


def test_audit_page_says_when_the_trail_was_changed(
    monkeypatch: pytest.MonkeyPatch, store: Path, audit_log: Path
) -> None:
    at = open_as(monkeypatch, store, signed_in(["admin"]), "definitions")  # two sign-ins: two lines in the trail
    at = open_as(monkeypatch, store, signed_in(["admin"], email="other@council.example"), "definitions")
    lines = audit_log.read_text().splitlines()
    audit_log.write_text("\n".join([lines[0].replace("jo@", "someone@")] + lines[1:]) + "\n")
    at.switch_page("pages/audit_page.py").run()
    assert any("breaks at line 1" in e.value for e in at.error)  # the changed line (its hash is in the heads file)


def test_a_user_without_a_role_sees_only_whom_to_ask(
    monkeypatch: pytest.MonkeyPatch, store: Path, audit_log: Path
) -> None:
    at = open_as(monkeypatch, store, signed_in(["some-other-app-role"]))
    assert [t.value for t in at.title] == ["No access yet"]
    assert "performance team" in everything_shown(at)
    assert not at.metric and not at.dataframe and not at.sidebar.selectbox


def test_roles_can_come_from_a_groups_claim_or_an_allow_list(
    monkeypatch: pytest.MonkeyPatch, store: Path, audit_log: Path, tmp_path: Path
) -> None:
    settings = tmp_path / "access.toml"
    settings.write_text(
        '[roles]\nclaim = "groups"\n[roles.values]\n"CSC-Analysts" = "analyst"\n'
        '[allow_list]\n"dq@council.example" = "data_quality"\n'
    )
    monkeypatch.setenv("FRONTDOOR_ACCESS_CONFIG", str(settings))
    at = open_as(monkeypatch, store, {**signed_in(None), "groups": ["CSC-Analysts"]}, "re_referrals")
    assert sensitive(at)
    at = open_as(monkeypatch, store, signed_in(["analyst"]))  # "roles" is not the claim any more
    assert [t.value for t in at.title] == ["No access yet"]
    at = open_as(monkeypatch, store, signed_in(None, email="DQ@council.example"), "data_quality")
    assert "dq_check" in [s.key for s in at.selectbox]


def test_signed_out_users_see_only_the_sign_in_page(
    monkeypatch: pytest.MonkeyPatch, store: Path, audit_log: Path
) -> None:
    at = open_as(monkeypatch, store, {"is_logged_in": False})
    assert [t.value for t in at.title] == ["Front door — children's services"]
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.metric and not at.dataframe and not at.sidebar.selectbox


def test_local_mode_banner_on_localhost_and_refusal_elsewhere(
    monkeypatch: pytest.MonkeyPatch, store: Path, audit_log: Path
) -> None:
    for page in PAGES:
        at = open_as(monkeypatch, store, None, page, auth=False)
        assert any("Local mode" in i.value for i in at.info), page
    config.set_option("server.address", "0.0.0.0")
    at = open_as(monkeypatch, store, None, auth=False)
    assert [e.value for e in at.error] == [
        "Refusing to serve: no sign-in is configured ([auth] in .streamlit/secrets.toml) and the server is bound to "
        "0.0.0.0, not localhost; configure sign-in or run with --server.address 127.0.0.1."
    ]
    assert not at.title and not at.metric and not at.dataframe and not at.sidebar.selectbox


def test_publishable_view_withholds_small_numbers(
    monkeypatch: pytest.MonkeyPatch, store: Path, audit_log: Path
) -> None:
    at = open_as(monkeypatch, store, signed_in(["leadership"]), "re_referrals")
    tile = next(m for m in at.metric if m.label.startswith("Re-referrals within 12 months"))
    assert tile.value == "30.0%"  # 3 of 10
    at.toggle(key="publishable_view").set_value(True).run()
    tile = next(m for m in at.metric if m.label.startswith("Re-referrals within 12 months"))
    assert tile.value == "c"  # 3 re-referrals: withheld with their rate


def test_leadership_can_be_held_to_the_publishable_view(
    monkeypatch: pytest.MonkeyPatch, store: Path, audit_log: Path, tmp_path: Path
) -> None:
    settings = tmp_path / "access.toml"
    settings.write_text("[disclosure]\nthreshold = 5\nleadership_publishable = true\n")
    monkeypatch.setenv("FRONTDOOR_ACCESS_CONFIG", str(settings))
    at = open_as(monkeypatch, store, signed_in(["leadership"]), "re_referrals")
    assert at.toggle(key="publishable_view").value is True and at.toggle(key="publishable_view").disabled
    assert next(m for m in at.metric if m.label.startswith("Re-referrals within 12 months")).value == "c"


def test_a_download_for_sharing_never_holds_a_count_from_1_to_4(
    monkeypatch: pytest.MonkeyPatch, store: Path, audit_log: Path
) -> None:
    from metrics.privacy import COUNT_COLUMNS

    at = open_as(monkeypatch, store, signed_in(["analyst"]), "downloads")
    at.checkbox(key="dl_suppress").check().run()
    checked = 0
    for measure in at.selectbox(key="dl_measure").options:
        for by in at.selectbox(key="dl_by").options:
            at.selectbox(key="dl_measure").set_value(measure)
            at.selectbox(key="dl_by").set_value(by).run()
            if not at.dataframe:  # contact conversion has no team or worker breakdown (a notice, not a table)
                continue
            if not at.checkbox(key="dl_suppress").value:  # dropped with the widget when a run did not draw it
                at.checkbox(key="dl_suppress").check().run()
            frame = at.dataframe[0].value
            for column in (c for c in COUNT_COLUMNS if c in frame.columns):
                numbers = [int(v) for v in frame[column] if v is not None and not pd.isna(v) and v != "c"]
                assert not [v for v in numbers if 1 <= v <= 4], (measure, by, column)
                checked += 1
    assert checked >= 40


@pytest.mark.parametrize("page", list(PAGES))
def test_publishable_view_of_every_page_shows_no_count_from_1_to_4(
    monkeypatch: pytest.MonkeyPatch,
    store: Path,
    audit_log: Path,
    page: str,
    deferred_downloads: dict[str, Callable[[], Any]],
) -> None:
    from metrics.privacy import COUNT_COLUMNS

    at = open_as(monkeypatch, store, signed_in(["leadership"]), page, state={"publishable_view": True})
    assert at.toggle(key="publishable_view").value is True  # the page was drawn with the toggle on
    assert not at.exception and not at.error, [e.value for e in at.error]
    for tile in at.metric:
        assert not re.fullmatch(r"[1-4]", str(tile.value)), (page, tile.label, tile.value)
    for caption in at.caption:  # "21.5% (3 of 10)" under a tile
        assert not re.search(r"\((?:[1-4]) of ", caption.value), (page, caption.value)
    for element in at.dataframe:
        frame = element.value  # made from the sent bytes at each read: read once
        for column in (c for c in COUNT_COLUMNS if c in frame.columns):
            numbers = [int(float(v)) for v in frame[column] if re.fullmatch(r"\d+(\.0+)?", str(v))]
            assert not [v for v in numbers if 1 <= v <= 4], (page, column)
    assert_downloads_made(at, deferred_downloads)  # each CSV (made on click) is made in the publishable view too


@pytest.mark.parametrize("page", [*PAGES.values(), "pages/audit_page.py"])
def test_a_page_file_run_without_the_router_shows_nothing(
    monkeypatch: pytest.MonkeyPatch, store: Path, audit_log: Path, page: str
) -> None:
    """Streamlit can run a file of pages/ directly (v1 multipage, a server's first session): no sign-in, no data."""
    monkeypatch.setenv("FRONTDOOR_STORE", str(store))
    at = AppTest.from_file(str(APP.parent / page), default_timeout=60)
    at.query_params.update(QUERY)
    at.run()
    assert not at.exception
    assert [i.value for i in at.info] == ["Open the dashboard from its home page and sign in to see this page."]
    assert not at.metric and not at.dataframe and not at.download_button and not at.caption
