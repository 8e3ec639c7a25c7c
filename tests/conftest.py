"""Shared fixtures. Tiers: unit (no services), integration (real Chroma, real embeddings, a real llama.cpp engine),
app (Streamlit AppTest from the entry point), e2e (streamlit run + Debian's Chromium through Playwright)."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any, Iterator

import pytest

ROOT = Path(__file__).resolve().parent.parent
FEDERALIST = ROOT / "playground" / "data" / "federalist" / "federalist.jsonl"
OUTPUT = ROOT / "test-output"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def federalist() -> list[dict[str, Any]]:
    if not FEDERALIST.exists():
        pytest.fail(f"The Federalist corpus is missing at {FEDERALIST}; it ships in the repository.")
    return [json.loads(line) for line in FEDERALIST.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def real_embedder():
    """One real all-MiniLM-L6-v2 embedder for the whole run (loading it is the slow part)."""
    from playground.models.embeddings import SentenceTransformerEmbedder, default_model_path

    return SentenceTransformerEmbedder(default_model_path())


def fake_embedder_wanted(request) -> bool:
    """Marked ``fake_embedder`` (the test or its module) and not ``real_embedder`` (the test itself)."""
    node = request.node
    return node.get_closest_marker("fake_embedder") is not None and node.get_closest_marker("real_embedder") is None


@pytest.fixture
def embedder(request):
    """The real embedder, or for a test marked ``fake_embedder`` the hashed bag-of-words one
    (tests/support/fake_embedder.py): only for tests whose assertions do not depend on how good embeddings are. In
    a module marked ``fake_embedder``, a test marked ``real_embedder`` keeps the real one."""
    if fake_embedder_wanted(request):
        from tests.support.fake_embedder import FakeEmbedder

        return FakeEmbedder()
    return request.getfixturevalue("real_embedder")


@pytest.fixture
def settings(tmp_path: Path):
    from playground import Settings

    env = {"PLAYGROUND_DATA_DIR": str(tmp_path / "data"), "PLAYGROUND_LLM_BACKEND": "openai",
           "PLAYGROUND_OPENAI_BASE_URL": f"http://127.0.0.1:{closed_port()}/v1", "PLAYGROUND_MODEL": ""}
    return Settings.from_env(env)


@pytest.fixture
def pg(settings, embedder):
    """A Playground on a fresh data folder, real Chroma and embeddings, and no model server (a closed port)."""
    from playground import Playground

    return Playground(settings, embedder=embedder)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    from tests.support.tiny_gguf import write_tiny_model

    return write_tiny_model(tmp_path_factory.mktemp("model") / "tiny.gguf")


@pytest.fixture(scope="session")
def llama_base_url(tiny_model: Path) -> Iterator[str]:
    """A real llama.cpp server (xllamacpp) serving the generated tiny model, OpenAI protocol."""
    from tests.support.engine import llama_server

    with llama_server(tiny_model, alias="tiny") as url:
        yield url


@pytest.fixture
def llm_env(tmp_path: Path, llama_base_url: str) -> dict[str, str]:
    """Environment for a Playground (or the app) chatting with the real tiny llama.cpp engine."""
    return {"PLAYGROUND_DATA_DIR": str(tmp_path / "data"), "PLAYGROUND_LLM_BACKEND": "openai",
            "PLAYGROUND_OPENAI_BASE_URL": llama_base_url, "PLAYGROUND_MODEL": "tiny", "PLAYGROUND_MAX_TOKENS": "24"}


@pytest.fixture
def no_llm_env(tmp_path: Path) -> dict[str, str]:
    """Environment for a Playground (or the app) whose model server is down (a closed loopback port)."""
    return {"PLAYGROUND_DATA_DIR": str(tmp_path / "data"), "PLAYGROUND_LLM_BACKEND": "openai",
            "PLAYGROUND_OPENAI_BASE_URL": f"http://127.0.0.1:{closed_port()}/v1", "PLAYGROUND_MODEL": ""}


@pytest.fixture
def set_env(monkeypatch):
    """Apply an environment dict (e.g. ``llm_env``) for the app under test."""

    def apply(env: dict[str, str]) -> None:
        for k, v in env.items():
            monkeypatch.setenv(k, v)

    return apply
