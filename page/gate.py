"""Who may read the page: nobody beyond this machine unless a password is set, and with one set,
only a browser session that has typed it (compared in constant time, remembered for the session).

The same rule as the API's token (archivist.access): an archive holds sources' words.
"""

from __future__ import annotations

import streamlit as st

from archivist import config
from archivist.access import is_loopback, secret_matches

SESSION_KEY = "page_unlocked"


def listening_address() -> str:
    """The address Streamlit serves on; unset means every interface."""
    return str(st.get_option("server.address") or "0.0.0.0")


def admit() -> None:
    """Stop the script unless this session may see the archive; draws the password form if needed."""
    password = config.page_password()
    if password is None:
        if not is_loopback(listening_address()):
            st.error(f"This page is served on {listening_address()} without a password, so anyone who can "
                     "reach it could read the whole archive. Set ARCHIVIST_PAGE_PASSWORD, or serve it on "
                     "127.0.0.1 (`--server.address 127.0.0.1`).")
            st.stop()
        return
    if st.session_state.get(SESSION_KEY):
        return
    with st.form("password-form"):
        typed = st.text_input("Password", type="password", key="password",
                              help="Set by whoever runs this page (ARCHIVIST_PAGE_PASSWORD).")
        sent = st.form_submit_button("Open the archive", type="primary")
    if sent:
        if secret_matches(typed, password):
            st.session_state[SESSION_KEY] = True
            st.session_state.pop("password", None)
            st.rerun()
        st.error("That password is not right; ask whoever runs this page for it.")
    st.stop()
