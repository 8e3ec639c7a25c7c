"""The Personalization Playground engine: profiles, writing samples, scoped retrieval, prompt assembly, LLM backends.

This package never imports streamlit. Pages, the CLI and tests import from here, not from the inner modules.
"""

from playground.errors import (
                     ConfigError,
                     GenerationInterrupted,
                     IngestError,
                     InvalidInput,
                     LLMError,
                     LLMUnavailable,
                     ModelNotInstalled,
                     NotFound,
                     PlaygroundError,
                     StorageError,
                     VectorStoreUnavailable,
)
from playground.front_door import AUTO_MIN_CHUNKS, GRANULARITIES, Playground, Turn
from playground.library.ingest import SUPPORTED as SUPPORTED_FILE_TYPES
from playground.models.llm import BackendStatus, LLMBackend, OllamaBackend, OpenAICompatibleBackend, Usage, backend_status
from playground.people.profiles import AGE_RANGES, ATTRIBUTES, SHARING_EXPLAINED
from playground.pipeline.prompting import MODES, PromptBuild, PromptPart, build_prompt
from playground.pipeline.retrieval import RETRIEVERS, Hit, RetrievalOptions, Scope
from playground.pipeline.trace import Trace
from playground.settings import SETTINGS, Settings

__all__ = [
    "AGE_RANGES", "ATTRIBUTES", "AUTO_MIN_CHUNKS", "GRANULARITIES",
    "BackendStatus", "ConfigError", "GenerationInterrupted", "Hit", "IngestError",
    "InvalidInput", "LLMBackend", "LLMError", "LLMUnavailable", "MODES", "ModelNotInstalled", "NotFound",
    "OllamaBackend", "OpenAICompatibleBackend", "Playground", "PlaygroundError", "PromptBuild", "PromptPart",
    "RETRIEVERS", "RetrievalOptions", "SETTINGS", "SHARING_EXPLAINED", "SUPPORTED_FILE_TYPES", "Scope", "Settings",
    "StorageError", "Trace", "Turn", "Usage", "VectorStoreUnavailable", "backend_status", "build_prompt",
]
