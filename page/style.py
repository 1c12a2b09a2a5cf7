"""The page's style sheet (page/style.css), read once per process and sent with every run."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import streamlit as st

STYLE_SHEET = Path(__file__).with_name("style.css")


@cache
def _css() -> str:
    return STYLE_SHEET.read_text(encoding="utf-8")


def apply_style() -> None:
    st.markdown(f"<style>\n{_css()}</style>", unsafe_allow_html=True)
