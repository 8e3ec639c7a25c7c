"""A real inference engine for tests: llama.cpp's OpenAI-compatible server (the `llama-cpp-python[server]` package)
serving the tiny model from ``tiny_gguf``, on a free loopback port."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Iterator

_RUNNING: dict[str, subprocess.Popen] = {}


def kill(url: str) -> None:
    """SIGKILL the server behind ``url`` at once, as a crash would (for fault tests)."""
    proc = _RUNNING[url]
    proc.kill()
    proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def llama_server(model_path: Path, alias: str = "tiny", timeout: float = 90.0) -> Iterator[str]:
    """Start the server, wait until it lists its model, yield its base URL (ending in /v1), then stop it."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="llama-server-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path), "--model_alias", alias,
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "8192", "--n_threads", "1", "--verbose", "False"],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the llama.cpp server exited ({proc.returncode}):\n"
                                   f"{Path(log.name).read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the llama.cpp server did not start in {timeout:.0f} s:\n"
                                   f"{Path(log.name).read_text()[-3000:]}")
            time.sleep(0.2)
        _RUNNING[url] = proc
        yield url
    finally:
        _RUNNING.pop(url, None)
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        os.unlink(log.name)
