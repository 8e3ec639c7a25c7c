"""Which model answers: the backend chosen by the settings (Ollama, an OpenAI-compatible server, the embedded
SmolLM2, or auto), the model a workshop preset or PLAYGROUND_MODEL fixes, and the queue that makes this app's
concurrent questions take turns."""

from __future__ import annotations

import dataclasses

from playground.errors import LLMError
from playground.models.embedded_llm import EmbeddedBackend
from playground.models.generation_queue import GenerationQueue
from playground.models.llm import (
    AutoBackend,
    BackendStatus,
    LLMBackend,
    OllamaBackend,
    OpenAICompatibleBackend,
    applicable_preference,
    backend_status,
)
from playground.settings import Settings
from playground.stores.db import Database


def make_backend(settings: Settings) -> LLMBackend:
    if settings.llm_backend == "openai":
        return OpenAICompatibleBackend(settings.openai_base_url, settings.openai_api_key, settings.llm_timeout)
    if settings.llm_backend == "ollama":
        return OllamaBackend(settings.ollama_host, settings.llm_timeout)
    embedded = EmbeddedBackend(settings.embedded_model, settings.embedded_context, settings.embedded_threads,
                               queue_timeout=settings.queue_wait)
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


class ModelChoice:
    """The chat backend, the model to ask, and the queue in front of it."""

    def __init__(self, settings: Settings, db: Database, backend: LLMBackend | None = None) -> None:
        self.settings, self.db = settings, db
        self.backend = backend or make_backend(settings)
        self.generation_queue = GenerationQueue(settings.llm_parallel)

    def preferred_model(self) -> str:
        """The model a workshop preset fixed, else PLAYGROUND_MODEL, else '' (the first the backend lists)."""
        from playground.workshop import get_preset

        return get_preset(self)["fixed_model"] or self.settings.model

    def llm_status(self) -> BackendStatus:
        """The backend's status: ready, busy (this app is writing answers; new ones wait), slow, down or no_model."""
        return with_queue(backend_status(self.backend, self.preferred_model()), self.generation_queue)

    def default_model(self) -> str:
        """The model a question goes to: the preferred one, else the first the backend lists."""
        preferred = applicable_preference(self.backend, self.preferred_model())
        if preferred:
            return preferred
        models = self.backend.list_models()
        if not models:
            status = backend_status(self.backend)
            raise LLMError(status.problem or "The model server lists no models.")
        return models[0]
