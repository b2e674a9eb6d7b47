"""Shared test set-up: fresh Streamlit caches for every test, and the `browser` marker for tests that drive Chromium."""

from __future__ import annotations

import pytest
import streamlit as st


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: starts `streamlit run` and drives headless Chromium (runs in CI)")
    config.addinivalue_line("markers", "slow: builds the whole demo store through the loaders (about 1.5 minutes)")


@pytest.fixture(autouse=True)
def _fresh_streamlit_caches():
    """Streamlit caches outlive an AppTest run in one process: start and end every test with them empty."""
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()
