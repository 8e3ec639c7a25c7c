"""The ``Playground`` front door: builds the stores, the embedder and the model choice once and composes the parts
(``pg.people``, ``pg.library``, ``pg.scoping``, ``pg.conversations``, ``pg.models``, and the research parts built
on them: ``pg.studies``, ``pg.summaries``, ``pg.style``, …; ``__init__`` builds them all). Callers use the parts'
methods directly; the few operations here are the ones that span parts (a persona with its examples,
explanations, status). No engine module imports this one."""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from playground.demo import Demo
from playground.library.samples import WritingLibrary
from playground.library.server_move import move_from_shared_default
from playground.models.embeddings import Embedder, SentenceTransformerEmbedder, Tokenizer, default_model_path
from playground.models.llm import LLMBackend
from playground.models.selection import ModelChoice
from playground.people.directory import People
from playground.pipeline.conversations import Conversations, Turn
from playground.pipeline.retrieval import RetrievalOptions, Retriever
from playground.pipeline.scoping import AUTO_MIN_CHUNKS, GRANULARITIES, Scoping
from playground.pipeline.summaries import Summaries
from playground.pipeline.trace import Trace
from playground.research.attribution import Attribution
from playground.research.evaluation import Evaluation
from playground.research.fact_recall import FactRecall
from playground.research.preferences import Preferences
from playground.research.probes import counterfactual
from playground.research.probes.judge import Judge
from playground.research.study import Studies
from playground.research.stylecard import StyleCards
from playground.research.training_export import TrainingData
from playground.settings import Settings
from playground.stores.db import Database
from playground.stores.scratch import scratch_folder
from playground.stores.vectors import VectorStore, server_database
from playground.workshop import Workshop

__all__ = ["AUTO_MIN_CHUNKS", "GRANULARITIES", "Playground", "Turn"]
Progress = Callable[[str, int, int], None]  # (stage, done, total)

class Playground:
    """One playground on one data folder: the parts, wired together."""

    def __init__(self, settings: Settings | None = None, *, backend: LLMBackend | None = None,
                 embedder: Embedder | None = None, vectors: VectorStore | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.db = Database(self.settings.db_path)
        model_path = default_model_path() if not self.settings.embedding_model else Path(self.settings.embedding_model)
        self.tokenizer = Tokenizer(model_path)
        self.embedder: Embedder = embedder or SentenceTransformerEmbedder(model_path)
        self.vectors = vectors or VectorStore(
            None if self.settings.chroma_host else self.settings.chroma_path,
            self.settings.chroma_host, self.settings.chroma_port,
            server_database(self.db) if self.settings.chroma_host else "")
        self.models = ModelChoice(self.settings, self.db, backend)
        self.retriever = Retriever(self.db, self.vectors, self.embed_query)
        self.people = People(self.db, self.vectors, self.settings)
        self.library = WritingLibrary(self.db, self.vectors, self.embedder, self.tokenizer, self.settings, self.people)
        self.scoping = Scoping(self.db, self.people, self.library, self.embedder)
        self.summaries = Summaries(self.db, self.people, self.library, self.tokenizer, self.models)
        self.style = StyleCards(self.db, self.people, self.library, self.tokenizer)
        self.conversations = Conversations(self.db, self.settings, self.tokenizer, self.people, self.library,
                                           self.scoping, self.retriever, self.models, self.summaries,
                                           style_part=self.style.style_card_part)
        self.studies = Studies(self.db, self.settings, self.people, self.library, self.conversations)
        self.preferences = Preferences(self.db)
        self.training = TrainingData(self.db)
        self.workshop = Workshop(self.db, self.settings, self.people, self.conversations, self.preferences,
                                 self.studies)
        self.judge = Judge(self.db, self.people, self.conversations, self.models, self.studies)
        self.chunker = self.library.chunker
        self.demo = Demo(self.people, self.library)
        self.evaluation = Evaluation(self.settings, self.tokenizer, self.embedder, self.retriever, self.people,
                                     self.library, self.scoping, self.models, self._scratch_evaluation)
        self.fact_recall = FactRecall(self.people, self.library, self.conversations, self.models,
                                      self._scratch_fact_recall)
        self.attribution = Attribution(self.vectors, self.people, self.library, self.settings, self.embedder,
                                       self.chunker)
        self.moved_from_shared_default = move_from_shared_default(self.db, self.vectors)
        self.people.sync_personas()
        self.repair_report = self.library.repair()

    # -- what the parts share --------------------------------------------------------------------------------------
    @property
    def backend(self) -> LLMBackend:
        return self.models.backend

    @backend.setter
    def backend(self, backend: LLMBackend) -> None:
        self.models.backend = backend

    def embed_query(self, text: str) -> np.ndarray:
        return self.embedder.embed([text], batch_size=1)[0]

    def warm_up(self) -> None:
        """Load the embedding model now (it loads lazily on first use otherwise)."""
        self.embed_query("warm up")

    @contextlib.contextmanager
    def scratch(self, prefix: str = "playground-scratch-", **overrides: Any) -> Iterator["Playground"]:
        """A throw-away playground in a folder under ``<data>/scratch/`` (removed afterwards), sharing this one's
        embedder and model backend; ``overrides`` change its settings (e.g. ``temperature=0.0``)."""
        with scratch_folder(self.settings.data_dir, prefix) as tmp:  # removed after any stop (stores.scratch)
            settings = dataclasses.replace(self.settings, data_dir=tmp, chroma_host="", **overrides)
            yield Playground(settings, embedder=self.embedder, backend=self.backend)

    @contextlib.contextmanager
    def _scratch_evaluation(self) -> Iterator[Evaluation]:
        with self.scratch("playground-eval-") as temp:
            yield temp.evaluation

    @contextlib.contextmanager
    def _scratch_fact_recall(self, **overrides: Any) -> Iterator[FactRecall]:
        with self.scratch("playground-facts-", **overrides) as temp:
            yield temp.fact_recall

    # -- operations that span parts --------------------------------------------------------------------------------
    def create_persona_with_examples(self, name: str, description: str, style_guidance: str = "",
                       examples: tuple[str, ...] | list[str] = (), group: str = "") -> dict[str, Any]:
        pid = self.people.create_persona(name, description, style_guidance, group)
        self.library.add_persona_examples(pid, name, examples)
        return self.people.get_persona(pid)

    def start_explanation(self, profile_id: str | None, message: str, mode: str,
                          options: RetrievalOptions | None = None, *, persona_id: str | None = None,
                          trace: Trace | None = None, model: str = "", use_summary: bool = False) -> str:
        """Store a new counterfactual batch for a message (its prompt built now) or for a chat answer (``trace``:
        the prompt exactly as it was sent). Run it with ``run_explanation``."""
        if trace:
            parts = counterfactual.parts_from_dicts(trace["prompt"]["parts"])
            message, mode, profile_id = trace["query"], trace["mode"], trace.get("profile_id")
        else:
            _, build, _ = self.conversations.preview(profile_id, message, mode, options, persona_id=persona_id,
                                                     use_summary=use_summary)
            parts, mode = build.parts, build.mode
        return counterfactual.create_run(self.db, parts, message=message, mode=mode,
                                         model=model or self.models.default_model(), profile_id=profile_id,
                                         source_trace_id=(trace or {}).get("id"))

    def run_explanation(self, run_id: str, progress: Progress | None = None,
                        should_stop: Callable[[], bool] | None = None) -> dict[str, Any]:
        row = counterfactual.get_run(self.db, run_id)
        return counterfactual.run(self.db, run_id, backend=self.models, embed=self.embedder.embed,
                                  person_vector=self.library.person_vector(row["profile_id"]),
                                  max_tokens=self.settings.explain_max_tokens, count_tokens=self.tokenizer.count,
                                  progress=progress, should_stop=should_stop,
                                  concurrency=self.settings.explain_parallel)

    def explanation(self, run_id: str) -> dict[str, Any]:
        """A stored "Explain this answer" run with its variants so far."""
        return counterfactual.get_run(self.db, run_id)

    def cancel_explanation(self, run_id: str) -> None:
        """Cancel pressed: the run is cancelled at once; a batch still running stops after its current variant."""
        counterfactual.cancel_now(self.db, run_id)

    def vector_store_status(self) -> dict[str, Any]:
        """Where the vector store is (a folder, or a server's address) and whether it answers now."""
        return {"where": self.vectors.where, "reachable": self.vectors.heartbeat()}

    def status(self) -> dict[str, Any]:
        """Each backend: reachable? what is missing? — for the home page and `python -m playground status`."""
        llm = self.models.llm_status()
        return {
            "embedding": {"model": getattr(self.embedder, "name", "custom"),
                          "loaded": bool(getattr(self.embedder, "loaded", True))},
            "chroma": self.vector_store_status(),
            "llm": {"backend": llm.backend, "where": llm.where, "reachable": llm.reachable, "models": llm.models,
                    "model": llm.model, "problem": llm.problem},
            "data_dir": str(self.settings.data_dir),
        }

