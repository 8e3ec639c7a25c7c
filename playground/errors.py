"""The one family of errors a person may see.

Messages are written for the person at the keyboard: what happened and what to do next. The engine raises these,
chaining the technical cause (``raise ... from e``); the UI and the CLI print ``str(error)`` and nothing else.
Any other exception reaching the UI is a bug.
"""

from __future__ import annotations


class PlaygroundError(Exception):
    """Base class: ``str(error)`` is a complete sentence a user can act on."""

    hint: str = ""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint or self.hint

    @property
    def message(self) -> str:
        return self.args[0]

    def __str__(self) -> str:
        return f"{self.args[0]} {self.hint}".strip()


class ConfigError(PlaygroundError):
    """A setting is malformed."""


class NotFound(PlaygroundError):
    """A profile, persona, sample or session does not exist (any more)."""


class InvalidInput(PlaygroundError):
    """Something the user typed or chose cannot be used."""


class IngestError(PlaygroundError):
    """A writing sample cannot be read; nothing was stored."""


class StorageError(PlaygroundError):
    """The data folder cannot be written (full disk, permissions, locked database)."""


class VectorStoreUnavailable(PlaygroundError):
    """The Chroma server cannot be reached."""


class LLMError(PlaygroundError):
    """Base for model problems. ``partial`` holds any answer text that arrived before the failure."""

    partial: str = ""


class LLMUnavailable(LLMError):
    """The model server is not running or not reachable."""


class ModelNotInstalled(LLMError):
    """The server runs but does not have the requested model."""


class GenerationInterrupted(LLMError):
    """The answer stopped part-way; the partial answer was kept."""


class LLMSlow(LLMUnavailable):
    """The model server is running but did not answer in time (busy with another answer, or loading a model)."""


class EmptyAnswer(LLMError):
    """The model server ended the answer without a word; it is recorded as an error, never as complete."""
