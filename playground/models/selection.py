"""Which model answers, and the one door every model call goes through.

``ModelChoice`` holds the backend chosen by the settings (Ollama, an OpenAI-compatible server, the embedded SmolLM2,
or auto) and the model a workshop preset or PLAYGROUND_MODEL fixes. Its ``stream``/``complete`` are the only way the
rest of the app asks a model (chat, compare, study, summaries, style card, evaluation, explain, judge, bias probe);
its ``list_models`` the only way it lists them. Every generation takes a slot from ONE pool per model engine
(``pool_for``): with a llama.cpp server and ``PLAYGROUND_LLM_PARALLEL=1`` one request runs at a time across all
callers, and the embedded engine's pool has as many slots as it has parallel sequences (PLAYGROUND_EMBEDDED_PARALLEL).
``ModelChoice`` has the backend protocol's shape (``name``, ``where``, ``list_models``, ``stream``), so code written
for a backend takes the door instead.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any, Iterator, Sequence

from playground.errors import LLMError
from playground.models.embedded_llm import EmbeddedBackend
from playground.models.generation_queue import GenerationQueue, OnWait
from playground.models.llm import (
    AutoBackend,
    BackendStatus,
    LLMBackend,
    OllamaBackend,
    OpenAICompatibleBackend,
    Usage,
    applicable_preference,
    backend_status,
)
from playground.models.loop_guard import LoopGuard
from playground.settings import Settings
from playground.stores.db import Database


def make_backend(settings: Settings) -> LLMBackend:
    if settings.llm_backend == "openai":
        return OpenAICompatibleBackend(settings.openai_base_url, settings.openai_api_key, settings.llm_timeout)
    if settings.llm_backend == "ollama":
        return OllamaBackend(settings.ollama_host, settings.llm_timeout)
    embedded = EmbeddedBackend(settings.embedded_model, settings.embedded_context, settings.embedded_threads,
                               slots=settings.embedded_parallel)
    if settings.llm_backend == "embedded":
        return embedded
    return AutoBackend(OllamaBackend(settings.ollama_host, settings.llm_timeout), embedded)


def with_queue(status: BackendStatus, queue: GenerationQueue) -> BackendStatus:
    """``status`` marked "busy" (with a note for people) while this app is writing answers: a listing that was slow
    then is explained by our own answers, not a problem."""
    active, waiting = queue.snapshot()
    if not active or status.state not in ("ready", "slow"):
        return status
    n = active + waiting
    note = f"The model is answering {n} question{'s' if n > 1 else ''} right now; new questions wait their turn."
    return dataclasses.replace(status, state="busy", problem="", note=note)


_pools: dict[str, GenerationQueue] = {}
_pools_lock = threading.Lock()


def pool_for(backend: Any, default_slots: int) -> GenerationQueue:
    """The one slot pool in front of this backend's engine in this process: every caller and every ``Playground``
    sharing the engine waits in it. Its size is the engine's slot count when it has one (the embedded model's
    parallel sequences), else ``default_slots`` (PLAYGROUND_LLM_PARALLEL)."""
    slots = int(getattr(backend, "slots", None) or default_slots)
    key = f"{getattr(backend, 'pool_key', '') or id(backend)}|{slots}"
    with _pools_lock:
        return _pools.setdefault(key, GenerationQueue(slots))


@dataclasses.dataclass
class Completion:
    """A whole answer from ``ModelChoice.complete``."""

    text: str
    usage: Usage
    model: str
    backend: str
    where: str
    latency_s: float

    @property
    def cut_at_limit(self) -> bool:
        return self.usage.cut_at_limit


class ModelChoice:
    """The backend, the model to ask, and the one door to it (``stream``, ``complete``, ``list_models``)."""

    def __init__(self, settings: Settings, db: Database, backend: LLMBackend | None = None) -> None:
        self.settings, self.db = settings, db
        self.backend = backend or make_backend(settings)

    @property
    def generation_queue(self) -> GenerationQueue:
        """The slot pool of the engine answering now (shared with every other caller of that engine)."""
        return pool_for(self.backend, self.settings.llm_parallel)

    @property
    def name(self) -> str:
        return str(self.backend.name)

    @property
    def where(self) -> str:
        return str(self.backend.where)

    def list_models(self) -> list[str]:
        return list(self.backend.list_models())

    def with_queue(self, status: BackendStatus) -> BackendStatus:
        """``status`` marked busy while this engine's pool is writing answers (see ``with_queue``)."""
        return with_queue(status, self.generation_queue)

    def ahead(self) -> int:
        """Questions being answered or waiting now, none of them the caller's (ask before queueing)."""
        return sum(self.generation_queue.snapshot())

    def stream(self, messages: Sequence[dict[str, str]], model: str = "", *, temperature: float | None = None,
               max_tokens: int | None = None, on_wait: OnWait | None = None,
               timeout: float | None = None) -> Iterator[str | Usage]:
        """Text pieces, then one ``Usage`` (token counts and finish reason, from the model when it reports them).
        Waits for a slot first (``on_wait(n)``: n questions ahead of this one, never counting it; ``on_wait(0)``
        once it is being answered). Defaults: the chosen model, PLAYGROUND_TEMPERATURE, PLAYGROUND_MAX_TOKENS.
        Closing the iterator stops the answer and frees the slot."""
        temperature = self.settings.temperature if temperature is None else temperature
        max_tokens = self.settings.max_tokens if max_tokens is None else max_tokens
        model = model or self.default_model()
        with self.generation_queue.slot(self.settings.queue_wait if timeout is None else timeout, on_wait):
            if on_wait:
                on_wait(0)
            stream = self.backend.stream(messages, model, temperature=temperature, max_tokens=max_tokens)
            guard = LoopGuard(self.settings.loop_window)
            try:
                for piece in stream:
                    yield piece
                    if isinstance(piece, str) and guard.feed(piece):
                        yield Usage(finish_reason="loop")  # closing the engine's stream below ends the answer
                        return
            finally:
                close = getattr(stream, "close", None)
                if close:
                    close()

    def complete(self, messages: Sequence[dict[str, str]], model: str = "", *, temperature: float | None = None,
                 max_tokens: int | None = None, on_wait: OnWait | None = None,
                 timeout: float | None = None) -> Completion:
        """The whole answer through ``stream`` (same slot, errors and defaults)."""
        t0 = time.perf_counter()
        model = model or self.default_model()
        pieces: list[str] = []
        usage = Usage()
        for piece in self.stream(messages, model, temperature=temperature, max_tokens=max_tokens, on_wait=on_wait,
                                 timeout=timeout):
            if isinstance(piece, Usage):
                usage = piece
            else:
                pieces.append(piece)
        return Completion("".join(pieces), usage, model, self.name, self.where, round(time.perf_counter() - t0, 3))

    def preferred_model(self) -> str:
        """The model a workshop preset fixed, else PLAYGROUND_MODEL, else '' (the first the backend lists)."""
        from playground.workshop import read_preset

        return read_preset(self.db, self.settings)["fixed_model"] or self.settings.model

    def llm_status(self) -> BackendStatus:
        """The backend's status: ready, busy (this app is writing answers; new ones wait), slow, down or no_model."""
        return with_queue(backend_status(self.backend, self.preferred_model()), self.generation_queue)

    def default_model(self) -> str:
        """The model a question goes to: the preferred one, else the first the backend lists."""
        preferred = applicable_preference(self.backend, self.preferred_model())
        if preferred:
            return preferred
        models = self.list_models()
        if not models:
            status = backend_status(self.backend)
            raise LLMError(status.problem or "The model server lists no models.")
        return models[0]
