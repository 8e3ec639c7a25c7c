"""Fixtures shared by the integration tests."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, closed_port


@pytest.fixture
def cli(tmp_path):
    """Run ``python -m playground …`` in a fresh data folder with no model server (Ollama on a closed port);
    ``ok=False`` returns a failing run instead of asserting success."""
    env = {**os.environ, "PLAYGROUND_DATA_DIR": str(tmp_path / "data"), "PLAYGROUND_LLM_BACKEND": "ollama",
           "PLAYGROUND_OLLAMA_HOST": f"http://127.0.0.1:{closed_port()}"}

    def run(*args: str, ok: bool = True):
        p = subprocess.run([sys.executable, "-m", "playground", *args], capture_output=True, text=True, env=env,
                           cwd=ROOT, timeout=180)
        if ok:
            assert p.returncode == 0, p.stderr
        return p

    return run
