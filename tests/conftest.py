"""Shared test set-up: fresh Streamlit caches for every test, the dashboard in local mode on localhost with its audit trail in a temporary folder, and the `browser` marker."""

from __future__ import annotations

import pytest
import streamlit as st


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: starts `streamlit run` and drives headless Chromium (runs in CI)")


@pytest.fixture(autouse=True)
def _fresh_streamlit_caches():
    """Streamlit caches outlive an AppTest run in one process: start and end every test with them empty."""
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture(autouse=True)
def _local_dashboard(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    """AppTests run the dashboard as `make run` does (local mode, bound to 127.0.0.1); audit entries go to a temporary file."""
    from streamlit import config

    monkeypatch.setenv("FRONTDOOR_AUDIT_LOG", str(tmp_path_factory.mktemp("audit") / "audit.jsonl"))
    before = config.get_option("server.address")
    config.set_option("server.address", "127.0.0.1")
    yield
    config.set_option("server.address", before)
