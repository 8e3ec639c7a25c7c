"""Fixtures shared by the integration tests, and the vector-store backends they run on.

A module that sets ``VECTOR_BACKENDS = ("local", "server")`` runs each of its tests that use a Playground (``pg``,
``settings`` or ``cli``) twice: on the embedded store under the data folder, and on a real ``chroma run`` server
started once per session on a free loopback port (marked ``server``: ``pytest -m server`` runs only those). Each
test's data folder gets its own database on that server, as a real deployment's would."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from tests.conftest import ROOT, closed_port, fake_embedder_wanted

SERVER_START_TIMEOUT = 120.0


@dataclass(frozen=True)
class ChromaServer:
    host: str
    port: int
    path: Path  # the server's own data folder (its chroma.sqlite3 and index folders)
    log: Path

    def env(self) -> dict[str, str]:
        return {"PLAYGROUND_CHROMA_HOST": self.host, "PLAYGROUND_CHROMA_PORT": str(self.port)}


def chroma_executable() -> Path:
    """The ``chroma`` command that ships with chromadb, next to this interpreter."""
    exe = Path(sys.executable).parent / "chroma"
    if not exe.exists():
        pytest.fail(f"No `chroma` command next to {sys.executable}; it ships with chromadb (pip install chromadb).")
    return exe


def heartbeat(host: str, port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/api/v2/heartbeat", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory) -> Iterator[ChromaServer]:
    """A real ``chroma run --path DIR --host 127.0.0.1 --port P`` for the session, stopped at the end."""
    root = tmp_path_factory.mktemp("chroma-server")
    server = ChromaServer("127.0.0.1", closed_port(), root / "data", root / "server.log")
    with server.log.open("wb") as log:
        proc = subprocess.Popen([str(chroma_executable()), "run", "--path", str(server.path), "--host", server.host,
                                 "--port", str(server.port)], stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not heartbeat(server.host, server.port):
            if proc.poll() is not None or time.monotonic() > deadline:
                why = f"exited with {proc.returncode}" if proc.poll() is not None else \
                    f"did not answer GET /api/v2/heartbeat within {SERVER_START_TIMEOUT:.0f} s"
                pytest.fail(f"`chroma run` on port {server.port} {why}. Its output:\n"
                            f"{server.log.read_text(errors='replace')[-4000:]}")
            time.sleep(0.2)  # polling interval while waiting for the heartbeat
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


def pytest_generate_tests(metafunc) -> None:
    backends = getattr(metafunc.module, "VECTOR_BACKENDS", None)
    if backends and "vector_backend" in metafunc.fixturenames:
        metafunc.parametrize("vector_backend", [pytest.param(b, marks=[pytest.mark.server] if b == "server" else [])
                                                for b in backends], indirect=True)


@pytest.fixture
def vector_backend(request) -> str:
    """``local`` (embedded Chroma under the data folder) or ``server`` (the session's ``chroma run``)."""
    return getattr(request, "param", "local")


@pytest.fixture
def server_env(vector_backend, request) -> dict[str, str]:
    """The environment that points a Playground at this test's backend (empty for the embedded store)."""
    return request.getfixturevalue("chroma_server").env() if vector_backend == "server" else {}


@pytest.fixture
def settings(settings, server_env):
    if not server_env:
        return settings
    return dataclasses.replace(settings, chroma_host=server_env["PLAYGROUND_CHROMA_HOST"],
                               chroma_port=int(server_env["PLAYGROUND_CHROMA_PORT"]))


@pytest.fixture
def cli(tmp_path, server_env, request):
    """Run ``python -m playground …`` in a fresh data folder with no model server (Ollama on a closed port);
    ``ok=False`` returns a failing run instead of asserting success. Marked ``fake_embedder``: the child embeds
    with the fake too."""
    env = {**os.environ, "PLAYGROUND_DATA_DIR": str(tmp_path / "data"), "PLAYGROUND_LLM_BACKEND": "ollama",
           "PLAYGROUND_OLLAMA_HOST": f"http://127.0.0.1:{closed_port()}", **server_env}

    entry = "tests.support.fake_embedder" if fake_embedder_wanted(request) else "playground"

    def run(*args: str, ok: bool = True):
        p = subprocess.run([sys.executable, "-m", entry, *args], capture_output=True, text=True, env=env,
                           cwd=ROOT, timeout=180)
        if ok:
            assert p.returncode == 0, p.stderr
        return p

    return run
