"""Services built once per server process (``st.cache_resource``) and never mutated afterwards."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from playground import BackendStatus, Playground, Settings
from playground.embeddings import SentenceTransformerEmbedder, default_model_path


@st.cache_resource(show_spinner=False)
def _embedder(model_path: str) -> SentenceTransformerEmbedder:
    # Built lazily: the model itself loads on the first embedding, not here, so the first paint does not wait.
    return SentenceTransformerEmbedder(Path(model_path))


@st.cache_resource(show_spinner="Opening the data folder…")
def _playground(settings: Settings) -> Playground:
    from playground.privacy import hide_existing
    from playground.workshop import get_preset

    path = settings.embedding_model or str(default_model_path())
    pg = Playground(settings, embedder=_embedder(path))
    if settings.private_profiles and get_preset(pg)["private_profiles"]:
        hide_existing(pg.db)  # started private: what an earlier session left public is hidden (admin: delete/publish)
    return pg


def playground() -> Playground:
    """The Playground for the current settings (a different data folder gets a different instance)."""
    return _playground(Settings.from_env())


@st.cache_data(ttl=15, show_spinner=False)
def llm_status(pg_key: str, _pg: Playground | None = None) -> BackendStatus:
    assert _pg is not None
    return _pg.llm_status()


def model_status(pg: Playground) -> BackendStatus:
    """Reachable? which model? — cached for 15 s so pages stay fast when no model server runs."""
    return llm_status(f"{pg.settings.llm_backend}|{pg.backend.where}|{pg.preferred_model()}", pg)
