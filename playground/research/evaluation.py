"""Held-out evaluation in the style of LaMP / LongLaMP: does personalization bring the output closer to what this
person actually wrote?

For a profile, some writing samples are held out. Each becomes a task (write a piece with its title, or continuing
its first sentence); the model answers under each condition, and the answer is scored against the held-out text:
- ROUGE-1 and ROUGE-L F1 (``research/rouge.py``: rouge-score's tokens and Porter stemming), as in LaMP;
- METEOR with nltk's implementation, exact and stem matches only: WordNet synonyms would need a download, which
  these machines cannot make, so scores are slightly lower than full METEOR (said wherever they are shown);
- cosine similarity of all-MiniLM-L6-v2 embeddings to the held-out text and to the centroid of the person's other
  writing.
- style: ``attributed`` (1 when the trained attribution method, fitted on every profile's non-held-out writing,
  names the person as the author of the output, else 0; its mean is the attribution rate among those authors) and
  ``style_distance`` (how far the output's style habits are from the person's kept writing, in reference standard
  deviations; lower is closer; see ``stylecard.style_distance``).
Conditions: ``user`` (profile + own snippets), ``user+style`` (the same plus a style card measured from the
non-held-out samples), ``persona``, ``global``, and ``none`` (profile, no retrieval).
Held-out samples are excluded from retrieval and from the style card while they are evaluated, and every prompt is
kept for inspection.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ContextManager, Sequence

import numpy as np

from playground.errors import InvalidInput
from playground.library.corpus import CorpusDoc, by_author
from playground.models.llm import Usage
from playground.pipeline.prompting import DEFAULT_TEMPLATE, build_prompt, choose_template
from playground.pipeline.retrieval import RetrievalOptions
from playground.research.attribution import doc_vector
from playground.research.eval_stats import condition_table, paired_table
from playground.research.rouge import rouge
from playground.research.stylecard import card_from_texts, style_distance, style_prompt_part
from playground.research.stylometry import measure

if TYPE_CHECKING:
    from playground.library.samples import WritingLibrary
    from playground.models.embeddings import Embedder, Tokenizer
    from playground.models.selection import ModelChoice
    from playground.people.directory import People
    from playground.pipeline.retrieval import Retriever
    from playground.pipeline.scoping import Scoping
    from playground.settings import Settings


CONDITIONS: tuple[str, ...] = ("user", "user+style", "persona", "global", "none")
# "words" is not a score: answer length, reported beside the scores because ROUGE and METEOR reward longer answers
# against a long reference, so a condition that writes more can win on length alone.
METRICS: tuple[str, ...] = ("rouge1", "rougeL", "meteor", "sim_reference", "sim_profile", "attributed",
                            "style_distance", "words")


class _NoSynonyms:
    """Stands in for WordNet in nltk's METEOR: no synonym stage (WordNet data cannot be downloaded here)."""

    def synsets(self, *args: Any, **kwargs: Any) -> list[Any]:
        return []


_WORDS = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def meteor(prediction: str, reference: str) -> float:
    from nltk.translate.meteor_score import meteor_score

    hyp, ref = _WORDS.findall(prediction.lower()), _WORDS.findall(reference.lower())
    if not hyp or not ref:
        return 0.0
    return float(meteor_score([ref], hyp, wordnet=_NoSynonyms()))


def make_task(title: str, text: str) -> tuple[str, str]:
    """The request for a held-out text, and how it was made (LaMP builds tasks from titles and openings)."""
    first = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0][:300]
    if title and not title.lower().startswith(("federalist", "sample", "pasted")) and len(title) > 3:
        return f"Write a short piece titled “{title}”. It begins: “{first}”", "title and first sentence"
    return f"Continue this piece of writing, in the same voice: “{first}”", "first sentence"


@dataclass
class EvalRow:
    sample_id: str
    title: str
    condition: str
    task: str
    output: str
    reference: str
    messages: list[dict[str, str]]
    retrieved: list[str]  # chunk ids
    retrieved_samples: list[str]
    rouge1: float = 0.0
    rougeL: float = 0.0
    meteor: float = 0.0
    sim_reference: float = 0.0
    sim_profile: float = 0.0
    attributed: float | None = None  # None: no attribution model (fewer than two people to tell apart)
    style_distance: float | None = None
    words: int = 0  # the answer's length in words
    latency_s: float = 0.0
    error: str = ""


@dataclass
class EvalResult:
    profile_id: str
    held_out: list[str]
    conditions: list[str]
    retriever: str
    model: str
    rows: list[EvalRow] = field(default_factory=list)
    template: str = DEFAULT_TEMPLATE  # the prompt template, chosen for the model as the chat chooses it

    def summary(self) -> dict[str, dict[str, Any]]:
        """Mean of each metric per condition over the rows that have an output (None when none has), with ``n``
        and the number of failed generations, ``errors``."""
        out: dict[str, dict[str, Any]] = {}
        for cond in self.conditions:
            rows = [r for r in self.rows if r.condition == cond and not r.error]
            values = {m: [getattr(r, m) for r in rows if getattr(r, m) is not None] for m in METRICS}
            out[cond] = {m: round(float(np.mean(v)), 4) if v else None for m, v in values.items()}
            out[cond]["n"] = len(rows)
            out[cond]["errors"] = sum(1 for r in self.rows if r.condition == cond and r.error)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"profile_id": self.profile_id, "held_out": self.held_out, "conditions": self.conditions,
                "retriever": self.retriever, "model": self.model, "template": self.template,
                "summary": self.summary(),
                "rows": [asdict(r) for r in self.rows]}


METRIC_NOTES = ("METEOR uses exact and stem matches only (no WordNet download). "
                "Intervals: 95% percentile bootstrap over held-out items (2,000 resamples; none with fewer than 5 "
                "items). "
                "attributed: share of outputs the trained attribution method (fitted on "
                "all {authors} authors' non-held-out documents) gives to the person; "
                "style_distance: distance of the output's style habits from the person's "
                "(reference sd units, lower is closer).")
# The differences reported item by item when both conditions ran: personalization against none, and style on top.
PAIRED = (("user", "global"), ("user", "none"), ("persona", "global"), ("user+style", "user"), ("user+style", "global"))


class Evaluation:
    """Held-out evaluation over the stored profiles (``pg.evaluation``). ``scratch`` opens the evaluation of a
    throw-away playground sharing this one's embedder and model: where a corpus's authors are loaded and scored."""

    def __init__(self, settings: "Settings", tokenizer: "Tokenizer", embedder: "Embedder", retriever: "Retriever",
                 people: "People", library: "WritingLibrary", scoping: "Scoping", models: "ModelChoice",
                 scratch: Callable[[], ContextManager["Evaluation"]]) -> None:
        self.settings, self.tokenizer, self.embedder, self.retriever = settings, tokenizer, embedder, retriever
        self.people, self.library, self.scoping, self.models = people, library, scoping, models
        self.scratch = scratch

    def build_attributor(self, profiles: Sequence[dict[str, Any]], exclude_samples: Sequence[str]) -> Any:
        """The trained attribution method fitted on these profiles' writing minus the held-out samples; None when
        fewer than two of them have any writing left."""
        from playground.research.trained_attribution import Attributor

        texts, authors = [], []
        for p in profiles:
            for s in self.library.list_samples(p["id"]):
                if s["id"] not in exclude_samples:
                    texts.append(self.library.sample_text(s["id"]))
                    authors.append(p["id"])
        if len(set(authors)) < 2:
            return None
        return Attributor(texts, authors)

    def evaluate_profile(self, profile_id: str, *, holdout: Sequence[str] | int = 2,
                         conditions: Sequence[str] = CONDITIONS, retriever: str = "dense", k: int = 4,
                         max_tokens: int | None = None, progress: Callable[[int, int], None] | None = None,
                         attributor: Any = None) -> EvalResult:
        """Generate under each condition for each held-out sample and score against it. ``attributor``: a trained
        attribution model (``build_attributor``) that never saw the held-out samples; without one, ``attributed`` is
        None."""
        profile = self.people.get_profile(profile_id)
        bad = [c for c in conditions if c not in CONDITIONS]
        if bad:
            raise InvalidInput(f"Unknown condition(s): {', '.join(bad)}.", f"Use {', '.join(CONDITIONS)}.")
        samples = self.library.list_samples(profile_id)
        if isinstance(holdout, int):
            if len(samples) < holdout + 1:
                raise InvalidInput(f"Evaluation holds out {holdout} sample(s) and needs at least one more to learn from; "
                                   f"this profile has {len(samples)}.", "Upload more writing first.")
            held = [s["id"] for s in samples[-holdout:]]
        else:
            held = list(holdout)
        if "persona" in conditions and not profile["persona_id"]:
            raise InvalidInput("The persona condition needs the profile to belong to a persona.")
        model = self.models.default_model()
        # The template the chat would use for this model (pipeline/prompting.py choose_template): what is measured
        # here is the prompt people get.
        template = choose_template(model, self.models.name, self.settings.prompt_template)
        result = EvalResult(profile_id, held, list(conditions), retriever, model, template=template)
        kept = [s["id"] for s in samples if s["id"] not in held]
        kept_texts = [self.library.sample_text(s) for s in kept]
        profile_vec = self._centroid(kept_texts)
        person_style = measure(kept_texts)
        card = card_from_texts(kept_texts)  # from the kept samples only: the held-out text never shapes the card
        options = RetrievalOptions(retriever, k=k, exclude_samples=tuple(held))
        total, done = len(held) * len(conditions), 0
        for sid in held:
            sample = self.library.get_sample(sid)
            reference = self.library.sample_text(sid)
            task, _how = make_task(sample["title"], reference)
            ref_vec = self.embedder.embed([reference[:4000]], batch_size=1)[0]
            for cond in conditions:
                mode = "user" if cond in ("none", "user+style") else cond
                hits = [] if cond in ("none", "global") else self.retriever.retrieve(
                    task, self.scoping.scope_for(profile, mode), options)
                persona = self.people.get_persona(profile["persona_id"]) if mode == "persona" else None
                extra = ([style_prompt_part(card["text"], "this person", self.tokenizer.count)]
                         if cond == "user+style" else [])
                build = build_prompt(task, mode, count_tokens=self.tokenizer.count, budget=self.settings.prompt_budget,
                                     profile=profile, persona=persona, hits=hits, extra_parts=extra,
                                     template=template)
                row = EvalRow(sid, sample["title"], cond, task, "", reference, build.messages, [h.chunk_id for h in hits],
                              sorted({h.sample_id for h in hits}))
                t0 = time.perf_counter()
                try:
                    pieces = self.models.stream(build.messages, model, temperature=0.0,
                                               max_tokens=max_tokens or self.settings.max_tokens)
                    row.output = "".join(p for p in pieces if not isinstance(p, Usage))
                except Exception as e:  # keep going: one failed generation is one row with an error
                    row.error = str(e)
                row.latency_s = round(time.perf_counter() - t0, 3)
                if row.output:
                    row.rouge1, row.rougeL = rouge(row.output, reference).values()
                    row.meteor = meteor(row.output, reference)
                    row.words = len(row.output.split())
                    out_vec = self.embedder.embed([row.output[:4000]], batch_size=1)[0]
                    row.sim_reference = float(out_vec @ ref_vec)
                    row.sim_profile = float(out_vec @ profile_vec) if profile_vec is not None else 0.0
                    row.style_distance = round(style_distance(measure([row.output]), person_style), 4)
                    if attributor is not None:
                        row.attributed = float(attributor.predict([row.output])[0] == profile_id)
                result.rows.append(row)
                done += 1
                if progress:
                    progress(done, total)
        return result

    def evaluate_corpus(self, corpus: Path, docs: Sequence[CorpusDoc], *, per_author: int = 3,
                        holdout: int = 1, authors: int = 0, conditions: Sequence[str] = CONDITIONS,
                        retriever: str = "dense", k: int = 4, max_tokens: int | None = None,
                        rows: bool = False) -> dict[str, Any]:
        """LaMP-style evaluation of ``docs`` (read from the file ``corpus``, which the result names): each author (at
        most ``authors``, 0: all) becomes a temporary profile with their first ``per_author`` documents, in a throw-away
        playground (``scratch``), and their last ``holdout`` documents are held out. Metrics per condition with 95%
        intervals, paired differences, and (``rows``) every item. The error for too few documents names the options of
        ``python -m playground evaluate``, its one caller."""
        grouped = {a: ds for a, ds in by_author(docs, per_author, authors).items() if len(ds) >= holdout + 1}
        if not grouped:
            raise InvalidInput(f"Evaluation needs at least {holdout + 1} documents per author.",
                               "Raise --per-author or lower --holdout.")
        results = []
        with self.scratch() as temp:
            group = temp.people.create_persona("Corpus authors", f"People who wrote the documents in {corpus.name}.")
            for author, ds in grouped.items():
                user = temp.people.create_profile(author[:80], persona_id=group, share_with_persona=True)
                for d in ds:
                    temp.library.add_sample(user["id"], text=d.text, title=d.title or d.doc_id)
            users = temp.people.list_profiles()
            held = [s["id"] for u in users for s in temp.library.list_samples(u["id"])[-holdout:]]
            # One attribution model for all: fitted on every author's writing except the held-out documents.
            attributor = temp.build_attributor(users, held)
            for user in users:
                results.append(temp.evaluate_profile(user["id"], holdout=holdout, conditions=conditions,
                                                     retriever=retriever, k=k, max_tokens=max_tokens,
                                                     attributor=attributor))
        all_rows = [r for res in results for r in res.rows]
        combined = EvalResult("corpus", [], list(conditions), retriever, results[0].model, all_rows)
        out: dict[str, Any] = {"corpus": str(corpus), "authors": len(grouped), "per_author": per_author,
                               "held_out_per_author": holdout, "retriever": retriever,
                               "model": results[0].model, "backend": self.models.name,
                               "template": results[0].template,
                               "metric_notes": METRIC_NOTES.format(authors=len(grouped)),
                               "conditions": combined.summary(),
                               "conditions_ci95": condition_table(all_rows, conditions, METRICS)}
        for a, b in PAIRED:
            if a in conditions and b in conditions:
                out.setdefault("paired", {})[f"{a} - {b}"] = paired_table(all_rows, a, b, METRICS)
        if rows:
            out["rows"] = [asdict(r) for r in all_rows]
        return out

    def _centroid(self, texts: Sequence[str]) -> np.ndarray | None:
        return doc_vector(self.embedder.embed([t[:4000] for t in texts])) if texts else None
