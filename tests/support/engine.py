"""A real inference engine for tests: llama.cpp's own OpenAI-compatible server (the prebuilt `xllamacpp` package, run
in a child process by ``python -m tests.support.engine --serve``) serving the tiny model from ``tiny_gguf`` on a free
loopback port, with no downloaded weights.

    with llama_server(write_tiny_model(tmp / "tiny.gguf")) as base_url:   # "http://127.0.0.1:PORT/v1"
        openai.OpenAI(base_url=base_url, api_key="x").chat.completions.create(model="tiny", ...)

Notes on this server (llama.cpp's, through xllamacpp):
- a streamed answer carries token counts when asked (``stream_options={"include_usage": True}``);
- the tiny model never emits end-of-sequence, so always send ``max_tokens``;
- ``slots`` requests run at once (continuous batching); further ones wait in the server's queue, none is cut off;
- ``/v1/models`` lists the alias given here.

Run ``python -m tests.support.engine`` from the repository root for a self-check that streams a few answers.
"""

from __future__ import annotations

import contextlib
import importlib.util
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


def llama_cpp_available() -> bool:
    """Whether llama.cpp's server can run here (the ``xllamacpp`` package)."""
    try:
        return importlib.util.find_spec("xllamacpp") is not None
    except (ImportError, ValueError):
        return False


def _serve(model: str, alias: str, port: int, n_ctx: int, n_threads: int, slots: int) -> None:
    """The child process: llama.cpp's HTTP server on 127.0.0.1:port until killed."""
    import signal
    import threading

    import xllamacpp

    p = xllamacpp.CommonParams()
    p.model.path = model
    p.model_alias = {alias}
    p.n_ctx = n_ctx * slots
    p.n_parallel = slots
    p.cpuparams.n_threads = n_threads
    p.cpuparams_batch.n_threads = n_threads
    p.hostnames = ["127.0.0.1"]
    p.port = port
    p.warmup = False
    server = xllamacpp.Server(p)
    print(f"listening at {server.listening_address}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()


def free_port() -> int:
    """A loopback TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def kill(url: str) -> None:
    """SIGKILL the server behind ``url`` at once, as a crash would (for fault tests)."""
    proc = _RUNNING[url]
    proc.kill()
    proc.wait()


def stop(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """Terminate a server process, killing it if it has not exited within ``grace`` seconds."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _tail(log: Path, n: int = 3000) -> str:
    try:
        return log.read_text(errors="replace")[-n:]
    except OSError:
        return ""


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/models", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def llama_server(model_path: Path, alias: str = "tiny", timeout: float = 90.0, n_ctx: int = 8192,
                 n_threads: int = 1, slots: int = 1) -> Iterator[str]:
    """Start the server, wait until ``GET /v1/models`` answers, yield its base URL (ending in /v1), then stop it.

    The server's output goes to a temporary log file (quoted in the error if it fails to start, deleted after).
    ``n_ctx`` is large because the app's prompt budget is counted with another tokenizer and this model's
    vocabulary splits unknown words into characters.
    """
    if not Path(model_path).is_file():
        raise FileNotFoundError(f"no model file at {model_path}")
    fd, log_name = tempfile.mkstemp(prefix="llama-server-", suffix=".log")
    os.close(fd)
    log_path = Path(log_name)
    proc: subprocess.Popen | None = None
    url = ""
    try:
        for attempt in range(3):  # another process may take the free port before the server binds it
            port = free_port()
            url = f"http://127.0.0.1:{port}/v1"
            with open(log_path, "ab") as log:  # the child keeps its own handle
                proc = subprocess.Popen(
                    [sys.executable, "-m", "tests.support.engine", "--serve", str(model_path), alias, str(port),
                     str(n_ctx), str(n_threads), str(slots)],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    cwd=str(Path(__file__).resolve().parents[2]), env={**os.environ, "PYTHONUNBUFFERED": "1"})
            deadline = time.monotonic() + timeout
            while proc.poll() is None and not _answers(url):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the llama.cpp server did not answer on {url} within {timeout:.0f} s; "
                                       f"its log:\n{_tail(log_path)}")
                time.sleep(0.1)
            if proc.poll() is None:
                break
            log_text = _tail(log_path)
            if "address already in use" in log_text.lower() and attempt < 2:
                continue
            raise RuntimeError(f"the llama.cpp server exited with code {proc.returncode} before answering; "
                               f"its log:\n{log_text}")
        _RUNNING[url] = proc
        yield url
    finally:
        _RUNNING.pop(url, None)
        if proc is not None:
            stop(proc)
        with contextlib.suppress(OSError):
            log_path.unlink()


def _selfcheck() -> int:
    """Write the model, start the server, stream answers through the openai client (and LangChain if present)."""
    from openai import OpenAI

    from tests.support.tiny_gguf import write_tiny_model

    prompts = ["Hello!", "Write a short story about a river.", "What is 2 + 2?", "Summarise this paper.",
               "Reply in a formal tone.", "Café, naïve, 日本語 and emoji 🙂: say something.", "List three ideas.",
               "Who are you?", "Translate 'good morning' to French.", "Draft an email to my team.",
               "Explain attention in one sentence.", "\n\n   "]
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        model = write_tiny_model(Path(tmp) / "tiny.gguf")
        t1 = time.perf_counter()
        print(f"model written in {t1 - t0:.2f} s ({model.stat().st_size / 1e6:.2f} MB)")
        with llama_server(model, alias="tiny") as url:
            print(f"server answering at {url} after {time.perf_counter() - t1:.2f} s")
            client = OpenAI(base_url=url, api_key="x")
            for i, prompt in enumerate(prompts):
                max_tokens = 20 + (i * 7) % 21
                kwargs = {"stream_options": {"include_usage": True}} if i % 2 == 0 else {}
                start = time.perf_counter()
                first = None
                pieces: list[str] = []
                usage = None
                for chunk in client.chat.completions.create(
                        model="tiny", messages=[{"role": "system", "content": "Be brief."},
                                                {"role": "user", "content": prompt}],
                        max_tokens=max_tokens, stream=True, **kwargs):
                    usage = usage or getattr(chunk, "usage", None)
                    for choice in chunk.choices:
                        if choice.delta.content:
                            first = first or time.perf_counter() - start
                            pieces.append(choice.delta.content)
                text = "".join(pieces)
                ok = bool(text.strip()) and "\ufffd" not in text and text.encode("utf-8").decode("utf-8") == text
                failures += not ok
                print(f"[{'ok' if ok else 'FAIL'}] max_tokens={max_tokens} ttft={(first or 0) * 1000:.0f} ms "
                      f"total={(time.perf_counter() - start) * 1000:.0f} ms "
                      f"include_usage={'include_usage' in str(kwargs)} usage={usage}\n    {text!r}")
            full = client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "Hi"}],
                                                  max_tokens=8)
            print(f"non-streamed usage: {full.usage}")
            try:
                from langchain_openai import ChatOpenAI
            except ImportError:
                print("langchain_openai is not installed here: LangChain check skipped")
            else:
                # ChatOpenAI sends max_tokens as `max_completion_tokens`; the classic field is sent too.
                chat = ChatOpenAI(base_url=url, api_key="x", model="tiny", streaming=True, stream_usage=True,
                                  max_tokens=24, extra_body={"max_tokens": 24})
                chunks = list(chat.stream([("system", "Be brief."), ("human", "Tell me about rivers.")]))
                text = "".join(c.content for c in chunks if isinstance(c.content, str))
                metas = [c.usage_metadata for c in chunks if c.usage_metadata]
                ok = bool(text.strip()) and len(chunks) < 40
                failures += not ok
                print(f"[{'ok' if ok else 'FAIL'}] ChatOpenAI.stream: {len(chunks)} chunks, {text!r}\n"
                      f"    usage_metadata on the final chunk: {chunks[-1].usage_metadata!r}; on any chunk: {metas}")
    print("self-check", "FAILED" if failures else "passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    if sys.argv[1:2] == ["--serve"]:
        m, a, port, ctx, threads, slots = sys.argv[2:8]
        sys.exit(_serve(m, a, int(port), int(ctx), int(threads), int(slots)))
    if not llama_cpp_available():
        sys.exit("xllamacpp is not importable: pip install -r requirements-dev.txt")
    sys.exit(_selfcheck())
