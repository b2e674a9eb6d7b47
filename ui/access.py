"""Who is using the dashboard and what their role lets them see: OpenID Connect sign-in, roles from an ID-token claim or an e-mail allow-list, local mode, and the audit trail calls."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st
from streamlit.runtime import Runtime

from ui import audit, launch_check
from ui.access_config import AccessConfig, as_tuple, audit_path, audit_syslog, load_config

ACCESS_KEY = "frontdoor_access"
PAGE_KEY = "frontdoor_page"
PUBLISHABLE_KEY = "publishable_view"
SIGNED_IN_KEY = "frontdoor_signed_in"

CHILD_LISTS = "child_lists"  # child-level lists (re-referred children, overdue assessments...) and their downloads
FAILING_ROWS = "failing_rows"  # failing rows of the data-quality checks, with child id, file and row
AUDIT = "audit"  # the Audit page
GRANTS: dict[str, frozenset[str]] = {
    "leadership": frozenset(),
    "analyst": frozenset({CHILD_LISTS}),
    "data_quality": frozenset({FAILING_ROWS}),
    "admin": frozenset({CHILD_LISTS, FAILING_ROWS, AUDIT}),
}
_SIGNED_IN: set[tuple[str, str]] = set()
_SIGNED_IN_LOCK = threading.Lock()


@dataclass(frozen=True)
class Access:
    """The current user, their roles, and whether this is local single-user mode."""

    user: str
    roles: frozenset[str]
    local: bool = False

    def can(self, grant: str) -> bool:
        return any(grant in GRANTS.get(role, frozenset()) for role in self.roles)

    @property
    def label(self) -> str:
        return ", ".join(r.replace("_", " ") for r in sorted(self.roles)) or "no role"


NOBODY = Access(user="", roles=frozenset())


def roles_from_claims(claims: Mapping[str, Any], config: AccessConfig) -> frozenset[str]:
    """The roles an ID token gives: its role claim's values mapped through the config, plus the e-mail allow-list."""
    granted = {config.values[v] for v in as_tuple(claims.get(config.claim)) if v in config.values}
    email = str(claims.get("email") or "").lower()
    if email:
        granted.update(config.allow_list.get(email, ()))
    return frozenset(granted)


def auth_configured() -> bool:
    """Whether an [auth] section (OpenID Connect provider) is in the Streamlit secrets."""
    try:
        return "auth" in st.secrets
    except Exception:
        return False


def refusal(address: str | None) -> str | None:
    """The one-line reason not to serve (no sign-in configured and not bound to localhost), else None."""
    return launch_check.refusal(address, sign_in=auth_configured())


def current() -> Access:
    """The access the router resolved for this run (nobody, when a page runs without the router)."""
    found = st.session_state.get(ACCESS_KEY)
    return found if isinstance(found, Access) else NOBODY


def publishable_view() -> bool:
    """Whether small numbers are suppressed on this page (the sidebar toggle, or forced for leadership)."""
    return bool(st.session_state.get("frontdoor_publishable", False))


def threshold() -> int:
    return load_config().threshold


def record(
    event: str, *, what: str | None = None, rows: int | None = None, filters: dict[str, Any] | None = None
) -> None:
    """Append an audit entry for the current user (who, when, page, filters, row count; never child values)."""
    recorder(event, what=what, rows=rows, filters=filters)()


def recorder(
    event: str, *, what: str | None = None, rows: int | None = None, filters: dict[str, Any] | None = None
) -> Callable[[], None]:
    """An audit entry for the current user on this page, appended when called: who, page and where the trail goes
    are taken now (in the page's run), so it can be called outside one (a download's bytes are made after it)."""
    who, page, path, syslog = current(), st.session_state.get(PAGE_KEY), audit_path(), audit_syslog()

    def append() -> None:
        audit.append(
            path,
            event,
            user=who.user,
            roles=sorted(who.roles),
            page=page,
            what=what,
            filters=filters,
            rows=rows,
            syslog=syslog,
        )

    return append


def _provider_names() -> list[str | None]:
    section = st.secrets.get("auth", {})
    named: list[str | None] = [str(k) for k, v in section.items() if isinstance(v, Mapping)]
    return [None] if "client_id" in section or not named else named


def _sign_in_page() -> None:
    st.title("Front door — children's services")
    st.markdown(
        "This dashboard holds personal data about children. **Sign in with your council account** to "
        "continue; what you see depends on your role."
    )
    for provider in _provider_names():
        label = "Sign in" if provider is None else f"Sign in with {provider.replace('_', ' ').title()}"
        st.button(
            label,
            key=f"sign_in_{provider or 'default'}",
            type="primary",
            icon=":material/login:",
            on_click=st.login,
            args=() if provider is None else (provider,),
        )


def _no_role_page() -> None:
    who = _user_name()
    st.title("No access yet")
    st.warning(f"You are signed in as **{who}**, but your account has no role on this dashboard.")
    st.markdown(
        f"To ask for access, contact {load_config().ask}. Say which role you need: leadership, analyst, "
        "data quality or admin."
    )
    sign_out_button(main=True)


def _stop_serving(reason: str) -> None:
    """Under a real server (`streamlit run` without the launcher, `ui/launch.py`): the reason on stderr, and the server
    stopped as Ctrl-C or `systemctl stop` would stop it, so it fails at its first page instead of serving refusals."""
    print(reason, file=sys.stderr, flush=True)
    if Runtime.exists() and type(Runtime.instance()) is Runtime:  # AppTest's runtime is a stand-in: nothing to stop
        os.kill(os.getpid(), signal.SIGTERM)


def _refused_page(reason: str) -> None:
    st.error(reason)


def _user_name() -> str:
    user = st.user
    return str(user.get("email") or user.get("sub") or user.get("name") or "unknown")


def _only_page(page: Any, title: str, url: str) -> None:
    """Show one page and nothing else: no navigation to the others, no sidebar, no data."""
    st.navigation([st.Page(page, title=title, url_path=url)], position="hidden").run()
    st.stop()


def _note_sign_in(access: Access) -> None:
    """One audit entry per sign-in (ID token issue time), however many tabs or reruns see it."""
    if st.session_state.get(SIGNED_IN_KEY) == access.user:
        return
    issued = str(st.user.get("iat") or st.user.get("auth_time") or "")
    with _SIGNED_IN_LOCK:
        first = (access.user, issued) not in _SIGNED_IN
        _SIGNED_IN.add((access.user, issued))
    if first:
        record("sign_in")
    st.session_state[SIGNED_IN_KEY] = access.user


def gate() -> Access:
    """Resolve who may use this run; otherwise show the refusal, the sign-in page or the no-role page and stop."""
    st.session_state[ACCESS_KEY] = NOBODY
    if not auth_configured():
        reason = refusal(st.get_option("server.address"))
        if reason:
            _stop_serving(reason)
            _only_page(lambda: _refused_page(reason), "Refused", "refused")
        access = Access(user="local user", roles=frozenset({"admin"}), local=True)
        st.session_state[ACCESS_KEY] = access
        return access
    if not st.user.is_logged_in:
        _only_page(_sign_in_page, "Sign in", "sign-in")
    access = Access(user=_user_name(), roles=roles_from_claims(st.user.to_dict(), load_config()))
    st.session_state[ACCESS_KEY] = access
    _note_sign_in(access)
    if not access.roles:
        _only_page(_no_role_page, "No access", "no-access")
    return access


def _sign_out() -> None:
    record("sign_out")
    st.session_state.pop(SIGNED_IN_KEY, None)
    st.logout()


def sign_out_button(main: bool = False) -> None:
    (st if main else st.sidebar).button(
        "Sign out", key="sign_out_main" if main else "sign_out", icon=":material/logout:", on_click=_sign_out
    )


def sidebar(access: Access) -> None:
    """Who is signed in, the publishable-view toggle, and sign-out (or the local-mode note)."""
    forced = "leadership" in access.roles and load_config().leadership_publishable and len(access.roles) == 1
    with st.sidebar:
        chosen = st.toggle(
            "Publishable view",
            key=PUBLISHABLE_KEY,
            value=forced,
            disabled=forced,
            help=f"Counts from 1 to {threshold() - 1} shown as 'c', with secondary suppression, as "
            "the DfE publishes them: for figures that leave the service.",
        )
        st.session_state["frontdoor_publishable"] = forced or bool(chosen)
        if access.local:
            st.caption("Local mode: no sign-in; this computer only.")
        else:
            st.caption(f"Signed in as **{access.user}** ({access.label}).")
            sign_out_button()


def local_banner(access: Access) -> None:
    if access.local:
        st.info(
            "**Local mode** — no sign-in is configured, so this dashboard only answers on this computer "
            "(localhost) and everyone who can use this computer sees everything. Configure sign-in before "
            "serving it to others (README: Sign-in and roles).",
            icon=":material/computer:",
        )
