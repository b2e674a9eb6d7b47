"""The access settings, read without Streamlit (the launcher checks them before Streamlit loads): config/access.toml or FRONTDOOR_ACCESS_CONFIG, and where the audit trail goes."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ui import audit

ROOT = Path(__file__).resolve().parent.parent
CONFIG_ENV = "FRONTDOOR_ACCESS_CONFIG"
DEFAULT_CONFIG = ROOT / "config" / "access.toml"
ROLES = ("leadership", "analyst", "data_quality", "admin")


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


def config_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def as_tuple(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value) if isinstance(value, list | tuple) else ()


@lru_cache(maxsize=8)
def _parse_config(path: str, _mtime: float) -> AccessConfig:
    raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    roles, disclosure = raw.get("roles", {}), raw.get("disclosure", {})
    listed = roles.get("values", {r: r for r in ROLES})  # without a [roles.values] table, the role names themselves
    values = {str(k): str(v) for k, v in listed.items() if str(v) in ROLES}
    allow = {str(k).lower(): tuple(r for r in as_tuple(v) if r in ROLES) for k, v in raw.get("allow_list", {}).items()}
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
