"""Who is using the dashboard and what their role lets them see: OpenID Connect sign-in, roles from an ID-token claim or an e-mail allow-list, local mode, and the audit trail calls."""

from __future__ import annotations

import os
import signal
import sys
import threading
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import streamlit as st
from streamlit.runtime import Runtime

from ui import audit

ROOT = Path(__file__).resolve().parent.parent
CONFIG_ENV = "FRONTDOOR_ACCESS_CONFIG"
DEFAULT_CONFIG = ROOT / "config" / "access.toml"
LOCAL_ADDRESSES = frozenset({"localhost", "127.0.0.1", "::1"})
ACCESS_KEY = "frontdoor_access"
PAGE_KEY = "frontdoor_page"
PUBLISHABLE_KEY = "publishable_view"
SIGNED_IN_KEY = "frontdoor_signed_in"

ROLES = ("leadership", "analyst", "data_quality", "admin")
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
class AccessConfig:
    """config/access.toml: the role claim and its values, the allow-list, whom to ask, disclosure and audit settings."""

    claim: str = "roles"
    values: Mapping[str, str] = field(default_factory=lambda: {r: r for r in ROLES})
    allow_list: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    ask: str = "the dashboard's administrator"
    threshold: int = 5
    leadership_publishable: bool = False
    audit_path: Path = ROOT / "data" / "audit" / "audit.jsonl"
    audit_syslog: audit.Syslog | None = None
    audit_facility: str = "authpriv"


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


def config_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def _as_tuple(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value) if isinstance(value, list | tuple) else ()


@lru_cache(maxsize=8)
def _parse_config(path: str, _mtime: float) -> AccessConfig:
    raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    roles, disclosure = raw.get("roles", {}), raw.get("disclosure", {})
    listed = roles.get("values", {r: r for r in ROLES})  # without a [roles.values] table, the role names themselves
    values = {str(k): str(v) for k, v in listed.items() if str(v) in ROLES}
    allow = {str(k).lower(): tuple(r for r in _as_tuple(v) if r in ROLES) for k, v in raw.get("allow_list", {}).items()}
    trail = raw.get("audit", {})
    audit_path = Path(trail.get("path", "data/audit/audit.jsonl"))
    try:
        facility = audit.check_facility(str(trail.get("syslog_facility", "authpriv")))
        syslog = audit.Syslog.parse(str(trail["syslog"]), facility) if trail.get("syslog") else None
    except ValueError as error:
        raise ValueError(f"{path}: [audit] {error}") from None
    return AccessConfig(
        claim=str(roles.get("claim", "roles")),
        values=values,
        allow_list=allow,
        ask=str(raw.get("access", {}).get("ask", AccessConfig.ask)),
        threshold=int(disclosure.get("threshold", 5)),
        leadership_publishable=bool(disclosure.get("leadership_publishable", False)),
        audit_path=audit_path if audit_path.is_absolute() else ROOT / audit_path,
        audit_syslog=syslog,
        audit_facility=facility,
    )


def load_config() -> AccessConfig:
    """The access settings (re-read when the file changes)."""
    path = config_path()
    return _parse_config(str(path), path.stat().st_mtime)


def roles_from_claims(claims: Mapping[str, Any], config: AccessConfig) -> frozenset[str]:
    """The roles an ID token gives: its role claim's values mapped through the config, plus the e-mail allow-list."""
    granted = {config.values[v] for v in _as_tuple(claims.get(config.claim)) if v in config.values}
    email = str(claims.get("email") or "").lower()
    if email:
        granted.update(config.allow_list.get(email, ()))
    return frozenset(granted)


def audit_path() -> Path:
    """Where the audit trail is written: FRONTDOOR_AUDIT_LOG, else [audit] path in the config."""
    env = os.environ.get(audit.AUDIT_ENV)
    return Path(env) if env else load_config().audit_path


def audit_syslog() -> audit.Syslog | None:
    """Where entries also go in the system log: FRONTDOOR_AUDIT_SYSLOG (an address), else [audit] syslog, else nowhere."""
    env = os.environ.get(audit.SYSLOG_ENV)
    if not env:
        return load_config().audit_syslog
    try:
        return audit.Syslog.parse(env, load_config().audit_facility)
    except ValueError as error:
        raise ValueError(f"{audit.SYSLOG_ENV}: {error}") from None


def auth_configured() -> bool:
    """Whether an [auth] section (OpenID Connect provider) is in the Streamlit secrets."""
    try:
        return "auth" in st.secrets
    except Exception:
        return False


def refusal(address: str | None) -> str | None:
    """The one-line reason not to serve (no sign-in configured and not bound to localhost), else None."""
    if auth_configured() or (address or "").strip("[]") in LOCAL_ADDRESSES:
        return None
    where = address or "every network interface (no --server.address)"
    return (
        f"Refusing to serve: no sign-in is configured ([auth] in .streamlit/secrets.toml) and the server is bound "
        f"to {where}, not localhost; configure sign-in or run with --server.address 127.0.0.1."
    )


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
    who = current()
    audit.append(
        audit_path(),
        event,
        user=who.user,
        roles=sorted(who.roles),
        page=st.session_state.get(PAGE_KEY),
        what=what,
        filters=filters,
        rows=rows,
        syslog=audit_syslog(),
    )


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
