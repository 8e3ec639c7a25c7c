"""The routes beyond prompting: where fine-tuning and alignment methods from the literature would change the
playground's own pipeline, what data each needs, and what the playground already collects for it.

Why: the playground personalizes only by putting personal data into the prompt. Workshops ask what else is
possible; this module holds our explanation of each route (written for this project, citing the papers by name and
year) and counts what this installation has collected that such a route could be trained on. The Beyond prompting
page draws them on the pipeline diagram; ``training_export`` writes the data out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from playground.library.samples import writing_counts
from playground.people.directory import people_counts
from playground.pipeline.conversations import answered_turns
from playground.research.preferences import preference_count
from playground.research.study import judgement_count
from playground.stores.db import Database

STAGES: dict[str, str] = {"data": "your data", "retrieve": "retrieve", "prompt": "prompt", "llm": "LLM"}


@dataclass(frozen=True)
class Route:
    id: str
    name: str
    paper: str  # authors, year, title
    stages: tuple[str, ...]  # the pipeline stages it changes (keys of STAGES)
    changes: str
    needs: str
    collects: tuple[str, ...]  # keys of ``collected()`` that feed it
    export: str  # which export of this page fits it


ROUTES: tuple[Route, ...] = (
    Route("oppu", "OPPU: one small module per person",
          "Tan et al., 2024, “Democratizing Large Language Models via Personalized Parameter-Efficient Fine-tuning”",
          ("llm",),
          "Instead of (or as well as) putting your writing into the prompt, a small set of extra weights (a LoRA "
          "adapter, a fraction of a percent of the model) is trained on your own history and plugged into the shared "
          "model whenever you ask. Your style then lives in parameters: nothing of yours needs to be retrieved into "
          "the prompt, and the module can be kept by you and deleted with you.",
          "Per person: their own documents or past outputs as instruction → output pairs (the paper uses the LaMP "
          "tasks), from a few dozen to a few hundred items, plus a GPU for a few minutes per person.",
          ("samples", "chunks"), "training"),
    Route("perpcs", "Per-Pcs: shared pieces of many people's modules",
          "Tan et al., 2024, “Personalized Pieces: Efficient Personalized Large Language Models through "
          "Collaborative Efforts”",
          ("llm",),
          "Some people (“sharers”) train per-person modules as in OPPU and cut them into pieces; a gate scores the "
          "pieces. A new person's module is assembled from the pieces that fit their history best, without training "
          "a module for them: cheaper, and it helps people with little writing (the cold start).",
          "Sharers' histories to train the pieces and gates; for a target person, a little of their own history to "
          "choose pieces. Sharing is a consent question: the pieces carry the sharers' habits.",
          ("samples", "sharing_members", "people_with_writing"), "training"),
    Route("hydra", "HYDRA: a learned reranker and adapter around a closed model",
          "Zhuang et al., 2024, “HYDRA: Model Factorization Framework for Black-Box LLM Personalization”",
          ("retrieve", "llm"),
          "For models whose weights you cannot change. A reranker learns which of your retrieved items actually help "
          "(replacing our fixed dense/BM25 scores), and an adapter learns to pick, among several answers of the closed "
          "model, the one that fits you. Both are one shared base plus a small head per person, so they learn what "
          "people have in common and what is yours.",
          "Per person: history items with the outputs they should lead to, to score which retrieved items helped; "
          "several candidate answers per query to train the adapter.",
          ("chunks", "chat_turns", "compare_preferences"), "training"),
    Route("recap", "RECAP: retrieval plus a persona prefix encoder",
          "Liu et al., 2023, “RECAP: Retrieval-Enhanced Context-Aware Prefix Encoder for Personalized Dialogue "
          "Response Generation”",
          ("retrieve", "prompt"),
          "A retriever trained over your own past dialogue turns finds the ones that reveal your persona, and a "
          "prefix encoder turns them into continuous vectors fed to the decoder, rather than quoting them as text "
          "like our snippets do.",
          "Per person: a dialogue history (their earlier turns in conversations), and a dialogue model whose "
          "decoder accepts prefixes, trained end to end.",
          ("chat_turns", "samples"), "training"),
    Route("paa", "Persona-adaptive attention",
          "Huang et al., 2023, “Personalized Dialogue Generation with Persona-Adaptive Attention” (AAAI)",
          ("llm",),
          "Inside the model: the decoder attends to the persona description and to the conversation separately and "
          "learns, word by word, how much weight each gets (with a dynamic mask so irrelevant persona facts are "
          "dropped). Our prompt gives the persona a fixed place and leaves the weighting to the model.",
          "Dialogues grounded in written persona descriptions (the paper uses Persona-Chat), to train the model's "
          "attention.",
          ("personas", "profile_fields", "chat_turns"), "training"),
    Route("pplug", "Persona-Plug: one embedding for the whole person",
          "Liu et al., 2024, “LLMs + Persona-Plug = Personalized LLMs”",
          ("prompt",),
          "A light user encoder turns all of your history into one vector, weighted by what matters for the current "
          "question, and plugs it into the frozen model as a soft prompt: your whole history in one token's worth of "
          "input, instead of the top-k snippets we retrieve.",
          "Per person: their history (all of it, not the top-k); one encoder is trained for everyone on tasks like "
          "LaMP while the language model stays frozen.",
          ("chunks", "people_with_writing"), "training"),
    Route("prism", "PRISM-style preference data for alignment",
          "Kirk et al., 2024, “The PRISM Alignment Dataset” (NeurIPS Datasets and Benchmarks); trained e.g. with "
          "DPO: Rafailov et al., 2023, “Direct Preference Optimization”",
          ("llm",),
          "The model is tuned toward answers people preferred. PRISM records who judged (their stated profile) with "
          "each comparison, so preferences can be studied per person or group instead of averaged away; DPO trains "
          "directly on (prompt, chosen, rejected) triples without a separate reward model.",
          "Pairs of answers to the same prompt, which one a person chose, and who they are; thousands of pairs for "
          "a general model, fewer to adapt to one group.",
          ("study_judgements", "compare_preferences", "profile_fields"), "preferences"),
)

COLLECTED_LABELS: dict[str, str] = {
    "samples": "writing samples", "chunks": "chunks of writing (each with an embedding)",
    "people_with_writing": "people with writing", "sharing_members": "people sharing writing with their persona",
    "chat_turns": "answered chat turns with their traces", "personas": "personas with descriptions",
    "profile_fields": "profile attributes filled in", "compare_preferences": "preferences recorded on Compare",
    "study_judgements": "study judgements (A/B with ratings)",
}

# What ``collected(db, profile_id)`` counts for the one profile; the other keys are always counts over everyone.
PERSONAL_KEYS: tuple[str, ...] = ("samples", "chunks", "chat_turns", "profile_fields", "compare_preferences")


def collected(db: Database, profile_id: str | None = None) -> dict[str, int]:
    """What this installation holds that the routes could learn from: overall, or for one profile where it is
    personal (samples, chunks, chat turns, profile attributes, Compare preferences). Each table's owner counts."""
    return {**writing_counts(db, profile_id), **people_counts(db, profile_id),
            "chat_turns": answered_turns(db, profile_id), "compare_preferences": preference_count(db, profile_id),
            "study_judgements": judgement_count(db)}


def route_dicts() -> list[dict[str, Any]]:
    """The routes as plain dicts (for the CLI and exports)."""
    from dataclasses import asdict

    return [asdict(r) for r in ROUTES]


def routes_with_counts(db: Database, profile_id: str | None = None) -> list[dict[str, Any]]:
    """The routes as plain dicts, each with what was collected for it: ``everyone``'s count and, for a personal
    key when ``profile_id`` is given, that profile's (``user``)."""
    overall, mine = collected(db), collected(db, profile_id) if profile_id else None
    return [{**r, "collected": {k: {"everyone": overall[k], **({"user": mine[k]} if mine and k in PERSONAL_KEYS else {})}
                                for k in r["collects"]}} for r in route_dicts()]
