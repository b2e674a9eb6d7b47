"""Audit (admins only): who signed in, viewed child-level lists and downloaded child rows, read from the append-only trail."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui import access, access_config, audit
from ui.components import page_header, section

SHOWN = 1000


def trail() -> None:
    path = access_config.audit_path()
    st.caption(
        f"Trail: `{path}` (JSON lines, appended only; set by `[audit] path` in config/access.toml or "
        f"`{audit.AUDIT_ENV}`)."
    )
    check = audit.verify(path)
    if check.intact:
        st.success(f"{check.entries:,} entries; the hash chain is intact (no entry changed, removed or inserted).")
    else:
        st.error(
            f"The hash chain breaks at line {check.first_broken_line:,} of {check.entries:,}: the trail was "
            "changed outside the dashboard from that line on."
        )
    entries = audit.read(path)
    if not entries:
        st.info("Nothing recorded yet.")
        return
    frame = pd.DataFrame(entries[::-1][:SHOWN])
    frame["filters"] = frame["filters"].map(lambda f: ", ".join(f"{k} {v}" for k, v in (f or {}).items() if v))
    frame["roles"] = frame["roles"].map(lambda r: ", ".join(r or []))
    columns = [c for c in ("at", "event", "user", "roles", "page", "what", "filters", "rows") if c in frame]
    st.dataframe(
        frame[columns],
        hide_index=True,
        key="audit_table",
        column_config={
            "at": "When (UTC)",
            "event": "Event",
            "user": "Who",
            "roles": "Roles",
            "page": "Page",
            "what": "List",
            "filters": "Filters",
            "rows": "Rows",
        },
    )
    if len(entries) > SHOWN:
        st.caption(f"The latest {SHOWN:,} of {len(entries):,} entries.")


def render() -> None:
    page_header("Audit", "Who signed in, opened a child-level list or downloaded child rows, and when?")
    if not access.current().can(access.AUDIT):
        return  # reached without the router: show nothing
    with section("Audit trail"):
        trail()


render()
