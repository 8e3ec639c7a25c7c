"""Services built once per server process (``st.cache_resource``) and never mutated afterwards."""

from __future__ import annotations

import time
from pathlib import Path

import streamlit as st

from playground import BackendStatus, Playground, Settings
from playground.models.embeddings import SentenceTransformerEmbedder, default_model_path
from playground.models.llm import backend_status

FAILURE_TTL_S = 5.0  # one browser reuses a failed listing this long (several widgets ask within one page run)


@st.cache_resource(show_spinner=False)
def _embedder(model_path: str) -> SentenceTransformerEmbedder:
    # Built lazily: the model itself loads on the first embedding, not here, so the first paint does not wait.
    return SentenceTransformerEmbedder(Path(model_path))


@st.cache_resource(show_spinner="Opening the data folder…")
def _playground(settings: Settings) -> Playground:
    path = settings.embedding_model or str(default_model_path())
    pg = Playground(settings, embedder=_embedder(path))
    if settings.private_profiles and pg.workshop.get_preset()["private_profiles"]:
        pg.people.hide_existing()  # started private: what an earlier session left public is hidden (admin: delete/publish)
    return pg


def playground() -> Playground:
    """The Playground for the current settings (a different data folder gets a different instance)."""
    return _playground(Settings.from_env())


class _NotReady(Exception):
    """Carries a failed listing out of the shared cache: Streamlit does not cache a function that raises."""

    def __init__(self, status: BackendStatus) -> None:
        super().__init__(status.problem)
        self.status = status


@st.cache_data(ttl=15, show_spinner=False)
def llm_status(pg_key: str, _pg: Playground | None = None) -> BackendStatus:
    """The model listing, shared by every browser for 15 s, but only when it succeeded."""
    assert _pg is not None
    status = backend_status(_pg.models, _pg.models.preferred_model())
    if status.state != "ready":
        raise _NotReady(status)
    return status


def model_status(pg: Playground) -> BackendStatus:
    """Ready, busy, slow, down or no model? A good listing is shared for 15 s, so pages stay fast; a failure is
    kept only by this browser for a few seconds and never served to anyone else. "Busy" is read fresh each time."""
    key = f"{pg.settings.llm_backend}|{pg.models.where}|{pg.models.preferred_model()}"
    mine = st.session_state.get("_model_status_failure")
    if mine and mine[0] == key and time.monotonic() - mine[1] < FAILURE_TTL_S:
        status = mine[2]
    else:
        try:
            status = llm_status(key, pg)
            st.session_state.pop("_model_status_failure", None)
        except _NotReady as e:
            status = e.status
            st.session_state["_model_status_failure"] = (key, time.monotonic(), status)
    return pg.models.with_queue(status)
