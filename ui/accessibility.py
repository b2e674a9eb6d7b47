"""Accessibility fixes the theme cannot make: 24x24 px targets for Streamlit's small controls and a visible keyboard focus (WCAG 2.2 AA)."""

from __future__ import annotations

import streamlit as st

# Selectors are Streamlit's data-testid attributes (stable across releases, unlike its generated class names).
# - help "?" buttons beside labels and tile titles: 16 px icons, given a 24x24 px target (2.5.8 Target Size),
#   its extra 4 px a side taken back by a negative margin so that tile titles keep their room;
# - the day / month / year fields of a date input: 18x20 px each, widened to 24x24 px;
# - keyboard focus: a 3 px outline in the theme's blue on every focused control (2.4.7 Focus Visible,
#   2.4.13 Focus Appearance), where Streamlit's own focus ring is faint or absent;
# - inline code in captions and text (a file path, a command): Streamlit draws it green, #6d9c8f on the caption
#   background (3:1). In text a dark green keeps the look at 9:1; a caption is drawn at 60% opacity, so its code
#   takes the text colour, which the fading brings to 5.2:1 like the rest of the caption (1.4.3 Contrast).
STYLE = """<style>
[data-testid="stTooltipHoverTarget"] button { min-width: 24px; min-height: 24px; margin: -4px;
    display: inline-flex; align-items: center; justify-content: center; }
[data-testid="stDateInputField"] [role="spinbutton"] { min-width: 24px; min-height: 24px;
    display: inline-flex; align-items: center; justify-content: center; }
:focus-visible { outline: 3px solid #0072B2 !important; outline-offset: 2px; }
[data-testid="stMarkdownContainer"] code { color: #0B5345 !important; }
[data-testid="stCaptionContainer"] code { color: #0B0C0C !important; }
</style>"""


def accessibility_styles() -> None:
    """Add the styles to the page (once per run, from the router, so every page has them)."""
    st.html(STYLE)
