"""LLM backends behind one small interface, over LangChain chat models.

- ``OllamaBackend``: ``ChatOllama`` against ``OLLAMA_HOST``; lists installed models with the ``ollama`` client.
- ``OpenAICompatibleBackend``: ``ChatOpenAI`` with ``base_url``, for vLLM, llama.cpp's server, LM Studio.
- ``EmbeddedBackend`` (embedded_llm.py): SmolLM2-135M in this process, so a fresh machine answers.
- ``AutoBackend``: Ollama when it answers and has a model, else the embedded one (the default).

Failures become the project's errors: server not running (``LLMUnavailable``), model not installed
(``ModelNotInstalled``, with the ``ollama pull`` hint) and failure part-way (``GenerationInterrupted``, carrying the
partial answer). ``stream`` yields text pieces and finally a ``Usage`` with token counts when the server reports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Protocol, Sequence

from playground.errors import GenerationInterrupted, LLMError, LLMSlow, LLMUnavailable, ModelNotInstalled

SUGGESTED_MODEL = "llama3.2"


@dataclass
class Usage:
    input_tokens: int | None = None
    output_tokens: int | None = None
    # "stop"; "length" when the answer was cut at the token limit; "loop" when the door stopped an answer that was
    # repeating itself (loop_guard); "" when not told
    finish_reason: str = ""

    @property
    def cut_at_limit(self) -> bool:
        return self.finish_reason == "length"

    @property
    def stopped_looping(self) -> bool:
        return self.finish_reason == "loop"


@dataclass
class BackendStatus:
    backend: str
    where: str
    reachable: bool
    models: list[str] = field(default_factory=list)
    model: str = ""  # the model chats will use
    problem: str = ""  # one line, written for people, with the command that fixes it
    # ready | busy (answering other questions) | slow (running, did not list its models in time) | down | no_model
    state: str = ""
    note: str = ""  # busy: what the wait is, for people (not a problem)

    @property
    def can_answer(self) -> bool:
        """Worth sending a question: ready, busy (it waits its turn) or slow (it may take a while)."""
        return (self.reachable and bool(self.model)) or self.state in ("slow", "busy")


class LLMBackend(Protocol):
    # Read-only in the protocol: ``AutoBackend`` and ``ModelChoice`` answer them with properties.
    @property
    def name(self) -> str: ...

    @property
    def where(self) -> str: ...

    def list_models(self) -> list[str]: ...

    def stream(self, messages: Sequence[dict[str, str]], model: str, *, temperature: float,
               max_tokens: int) -> Iterator[str | Usage]: ...


def _lc_messages(messages: Sequence[dict[str, str]]) -> list[Any]:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
    return [kinds[m["role"]](content=m["content"]) for m in messages]


def _stream_chat(chat: Any, messages: Sequence[dict[str, str]], classify: Any,
                 require_finish: bool = False) -> Iterator[str | Usage]:
    """Stream a LangChain chat model; map failures before and after the first piece. ``require_finish``: an answer
    whose stream ends without a finish reason was cut off (llama.cpp's server does that when another request
    arrives), and is reported as such rather than passed off as complete."""
    partial: list[str] = []
    usage = Usage()
    finished = False
    finish = ""
    try:
        for chunk in chat.stream(_lc_messages(messages)):
            text = chunk.content if isinstance(chunk.content, str) else ""
            meta = getattr(chunk, "usage_metadata", None)
            if meta:
                usage = Usage(meta.get("input_tokens"), meta.get("output_tokens"))
            rmeta = getattr(chunk, "response_metadata", None) or {}
            reason = rmeta.get("finish_reason") or rmeta.get("done_reason") or ""  # OpenAI / Ollama
            finish = str(reason) or finish
            finished = finished or bool(reason)
            if text:
                partial.append(text)
                yield text
        if require_finish and not finished:
            cut = GenerationInterrupted(
                "The model server stopped this answer before it finished (it may have started on another request).",
                "The partial answer was kept; ask again." if partial else "Ask again in a moment.")
            cut.partial = "".join(partial)
            raise cut
    except LLMError:
        raise
    except Exception as e:
        err = classify(e)
        if isinstance(e, ValueError) and "No generation chunks" in str(e):
            err = LLMError("The model server returned no answer.",
                           "The prompt may not fit the model's context window: lower k or PLAYGROUND_PROMPT_BUDGET.")
        if partial:
            interrupted = GenerationInterrupted(
                "The answer stopped part-way: the model server failed while writing it.",
                f"The partial answer was kept. ({err.message})")
            interrupted.partial = "".join(partial)
            raise interrupted from e
        raise err from e
    usage.finish_reason = finish
    yield usage


class OllamaBackend:
    name = "ollama"

    def __init__(self, host: str, timeout: float = 120.0) -> None:
        self.where = host
        self.timeout = timeout
        self.pool_key = f"ollama:{host}"
        self._chats: dict[tuple[str, float, int], Any] = {}

    def _unavailable(self) -> LLMUnavailable:
        return LLMUnavailable(f"Ollama is not running at {self.where}.",
                              f"Start it with `ollama serve`, then `ollama pull {SUGGESTED_MODEL}`.")

    def _classify(self, e: Exception, model: str = "") -> LLMError:
        import httpx
        import ollama

        if isinstance(e, ollama.ResponseError) and e.status_code == 404:
            return ModelNotInstalled(f"The model '{model}' is not installed in Ollama.",
                                     f"Run `ollama pull {model}`.")
        if isinstance(e, (ConnectionError, httpx.ConnectError, httpx.ConnectTimeout)):
            return self._unavailable()
        if isinstance(e, (httpx.TimeoutException, TimeoutError)):
            return LLMSlow(f"Ollama at {self.where} did not answer in time.",
                           "It may still be loading the model; try again in a moment.")
        return LLMError(f"Ollama failed: {type(e).__name__}: {e}".strip())

    def list_models(self) -> list[str]:
        import ollama

        try:
            return [m.model for m in ollama.Client(host=self.where, timeout=3).list().models if m.model]
        except Exception as e:
            raise self._classify(e) from e

    def stream(self, messages: Sequence[dict[str, str]], model: str, *, temperature: float,
               max_tokens: int) -> Iterator[str | Usage]:
        key = (model, temperature, max_tokens)
        chat = self._chats.get(key)
        if chat is None:  # one client per model and parameters: reuses its HTTP connections across turns
            from langchain_ollama import ChatOllama

            chat = self._chats[key] = ChatOllama(base_url=self.where, model=model, temperature=temperature,
                                                 num_predict=max_tokens, client_kwargs={"timeout": self.timeout})
        return _stream_chat(chat, messages, lambda e: self._classify(e, model))


class OpenAICompatibleBackend:
    name = "openai"

    def __init__(self, base_url: str, api_key: str = "not-needed", timeout: float = 120.0) -> None:
        self.where = base_url.rstrip("/")
        self.api_key = api_key or "not-needed"
        self.timeout = timeout
        self.pool_key = f"openai:{self.where}"
        self._chats: dict[tuple[str, float, int], Any] = {}

    def _classify(self, e: Exception, model: str = "") -> LLMError:
        import openai

        if isinstance(e, openai.APITimeoutError):
            return LLMSlow(f"The model server at {self.where} did not answer in time.",
                           "It may be busy; try again in a moment.")
        if isinstance(e, openai.APIConnectionError):
            return LLMUnavailable(f"No model server answers at {self.where}.",
                                  "Start it (e.g. `vllm serve MODEL` or llama.cpp's `llama-server -m FILE`) or "
                                  "fix PLAYGROUND_OPENAI_BASE_URL.")
        if isinstance(e, openai.NotFoundError):
            return ModelNotInstalled(f"The server at {self.where} has no model '{model}'.",
                                     "Pick one of the models it lists, or set PLAYGROUND_MODEL.")
        if isinstance(e, openai.APIStatusError):
            return LLMError(f"The model server answered {e.status_code}: {e.message}")
        return LLMError(f"The model server failed: {type(e).__name__}: {e}")

    def list_models(self) -> list[str]:
        import openai

        try:
            client = openai.OpenAI(base_url=self.where, api_key=self.api_key, timeout=3, max_retries=0)
            return [m.id for m in client.models.list()]
        except Exception as e:
            raise self._classify(e) from e

    def stream(self, messages: Sequence[dict[str, str]], model: str, *, temperature: float,
               max_tokens: int) -> Iterator[str | Usage]:
        key = (model, temperature, max_tokens)
        chat = self._chats.get(key)
        if chat is None:  # one client per model and parameters: reuses its HTTP connections across turns
            from langchain_openai import ChatOpenAI
            from pydantic import SecretStr

            # LangChain sends the limit as `max_completion_tokens`, which llama.cpp's server ignores (it then writes
            # until the context is full); sending the classic `max_tokens` too keeps every server within the limit.
            # (`max_completion_tokens` is the constructor's name for the `max_tokens` field; a str key would be
            # wrapped in a SecretStr by pydantic anyway.)
            chat = self._chats[key] = ChatOpenAI(
                base_url=self.where, api_key=SecretStr(self.api_key), model=model, temperature=temperature,
                max_completion_tokens=max_tokens, streaming=True, stream_usage=True, timeout=self.timeout,
                max_retries=0, extra_body={"max_tokens": max_tokens})
        return _stream_chat(chat, messages, lambda e: self._classify(e, model), require_finish=True)


class AutoBackend:
    """Ollama when it answers and has a model, else the embedded model: a fresh machine still gets real answers.

    Ollama is asked again at most every ``recheck_s`` seconds, so starting it (or pulling a model) while the app runs
    switches the next turn to it; a refused connection costs milliseconds. ``name``, ``where`` and the models are those
    of the backend answering now, so traces record what really answered.
    """

    def __init__(self, ollama: OllamaBackend, embedded: Any, recheck_s: float = 5.0) -> None:
        self.ollama, self.embedded = ollama, embedded
        self.recheck_s = recheck_s
        self._checked = -1e9
        self._ollama_ok = False

    def active(self) -> Any:
        import time

        if time.monotonic() - self._checked > self.recheck_s:
            try:
                self._ollama_ok = bool(self.ollama.list_models())
            except LLMError:
                self._ollama_ok = False
            self._checked = time.monotonic()
        return self.ollama if self._ollama_ok else self.embedded

    @property
    def name(self) -> str:
        return str(self.active().name)

    @property
    def where(self) -> str:
        return str(self.active().where)

    def list_models(self) -> list[str]:
        return list(self.active().list_models())

    @property
    def pool_key(self) -> str:
        return str(self.active().pool_key)

    @property
    def slots(self) -> int | None:
        return getattr(self.active(), "slots", None)

    def stream(self, messages: Sequence[dict[str, str]], model: str, *, temperature: float,
               max_tokens: int) -> Iterator[str | Usage]:
        backend = self.active()
        if backend is self.embedded:
            model = self.embedded.model_name
        return backend.stream(messages, model, temperature=temperature, max_tokens=max_tokens)


def applicable_preference(backend: LLMBackend, preferred: str) -> str:
    """The preferred model if it applies to ``backend``: the embedded backend has its one model, so a preferred
    server model (PLAYGROUND_MODEL, a workshop preset) does not apply to it."""
    return "" if backend.name == "embedded" else preferred


def backend_status(backend: LLMBackend, preferred: str = "") -> BackendStatus:
    """Reachable? Which models? Which one will chats use? — with the one command that fixes what is missing."""
    status = BackendStatus(backend.name, backend.where, False)
    preferred = applicable_preference(backend, preferred)
    try:
        status.models = backend.list_models()
        status.reachable = True
    except LLMSlow:
        status.state = "slow"
        status.problem = (f"The model server at {backend.where} is running but slow to answer (it may be writing "
                          "another answer or loading a model). Questions are still sent; the answer may take a while.")
        status.model = preferred
        return status
    except LLMError as e:
        status.state, status.problem = "down", str(e)
        return status
    if preferred and preferred not in status.models and f"{preferred}:latest" not in status.models:
        status.problem = (f"The model '{preferred}' is not installed. Run `ollama pull {preferred}`."
                          if backend.name == "ollama" else
                          f"The server has no model '{preferred}'; it lists {', '.join(status.models) or 'none'}.")
    elif not status.models:
        status.problem = (f"Ollama runs but has no models. Run `ollama pull {SUGGESTED_MODEL}`."
                          if backend.name == "ollama" else "The server lists no models.")
    else:
        status.model = preferred or status.models[0]
    status.state = "ready" if status.model else "no_model"
    return status
