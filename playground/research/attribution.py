"""How distinctive is a person's writing? Leave-one-out authorship attribution.

Each document is held out in turn and assigned to the author whose *other* documents it is closest to:
- ``dense``: mean all-MiniLM-L6-v2 vector of the document's chunks; nearest author centroid (cosine);
- ``bm25``: the held-out document as a BM25+ query over every other document; author of the best match;
- ``hybrid``: reciprocal rank fusion of the dense and BM25 rankings of the other documents; author of the top one;
- ``style``: relative frequencies of function words (the approach of Mosteller & Wallace, 1964, on these very
  Federalist papers) plus sentence length and punctuation rates, standardised; nearest author centroid.
- ``trained``: the one to trust: a linear SVM over word and character n-grams, scored by stratified k-fold
  cross-validation (``trained_attribution.py``). The four above are kept for teaching.
Baselines reported beside every result: the majority class and chance (1 / number of authors).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from playground.errors import InvalidInput
from playground.library.corpus import CorpusDoc, by_author
from playground.models.embeddings import doc_vector
from playground.pipeline.retrieval import RRF_K, bm25_tokens
from playground.research.stylometry import FUNCTION_WORDS

METHODS: tuple[str, ...] = ("trained", "dense", "bm25", "hybrid", "style")
LOO_PROTOCOL = "leave-one-out: each document is assigned using only the other documents"

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_SENT = re.compile(r"[.!?]+(?:\s|$)")

if TYPE_CHECKING:
    from playground.library.ingest import Chunker
    from playground.library.samples import WritingLibrary
    from playground.models.embeddings import Embedder
    from playground.people.directory import People
    from playground.settings import Settings
    from playground.stores.vectors import VectorStore


@dataclass
class Doc:
    author: str
    doc_id: str
    text: str
    vector: np.ndarray | None = None  # dense: mean chunk embedding, normalised


@dataclass
class AttributionResult:
    method: str
    n: int
    accuracy: float
    majority_baseline: float
    chance_baseline: float
    authors: dict[str, dict[str, Any]]  # author → n, correct, recognisable (per-author accuracy)
    confusion: dict[str, dict[str, int]]  # true author → predicted author → count
    predictions: list[dict[str, str]] = field(default_factory=list)
    protocol: str = LOO_PROTOCOL
    folds: int | None = None  # k of the k-fold protocol; None for leave-one-out

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "protocol": self.protocol, "folds": self.folds,
                "accuracy": round(self.accuracy, 4), "n": self.n,
                "majority_baseline": round(self.majority_baseline, 4), "chance_baseline": round(self.chance_baseline, 4),
                "authors": self.authors, "confusion": self.confusion, "predictions": self.predictions}


def style_features(text: str) -> np.ndarray:
    """Function-word rates per 1,000 words, mean sentence length, and punctuation per 100 words."""
    words = _WORD.findall(text.lower())
    n = max(len(words), 1)
    counts = Counter(words)
    rates = [1000.0 * counts[w] / n for w in FUNCTION_WORDS]
    sentences = max(len(_SENT.findall(text)), 1)
    punct = [100.0 * text.count(ch) / n for ch in ",;:-()"]
    return np.array(rates + [n / sentences] + punct, dtype=np.float64)


def _check(docs: Sequence[Doc]) -> list[str]:
    authors = sorted({d.author for d in docs})
    per = Counter(d.author for d in docs)
    if len(authors) < 2:
        raise InvalidInput("Attribution needs writing from at least two people.")
    thin = [a for a in authors if per[a] < 2]
    if thin:
        raise InvalidInput(f"Attribution needs at least two samples per person; too few from: {', '.join(thin)}.")
    return authors


def _nearest_centroid(features: np.ndarray, docs: Sequence[Doc], i: int, cosine: bool) -> str:
    best, best_score = "", -np.inf
    for author in sorted({d.author for d in docs}):
        idx = [j for j, d in enumerate(docs) if d.author == author and j != i]
        c = features[idx].mean(axis=0)
        if cosine:
            score = float(features[i] @ c / (np.linalg.norm(c) * np.linalg.norm(features[i]) + 1e-12))
        else:
            score = -float(np.linalg.norm(features[i] - c))
        if score > best_score:
            best, best_score = author, score
    return best


def _rank_others(scores: np.ndarray, i: int) -> list[int]:
    order = [int(j) for j in np.argsort(-scores, kind="stable") if j != i]
    return order


def attribute(docs: Sequence[Doc], method: str, progress: Callable[[int, int], None] | None = None,
              folds: int = 5) -> AttributionResult:
    """Attribution of every document by a model that never saw it: leave-one-out, or k-fold for ``trained``;
    ``dense`` and ``hybrid`` need ``Doc.vector`` set."""
    if method not in METHODS:
        raise InvalidInput(f"Unknown attribution method '{method}'.", f"Choose one of {', '.join(METHODS)}.")
    authors = _check(docs)
    if method == "trained":
        from playground.research.trained_attribution import cross_validated_predictions, protocol_text

        guesses, k = cross_validated_predictions([d.text for d in docs], [d.author for d in docs], folds, progress)
        return _result(method, docs, authors, [{"doc_id": d.doc_id, "author": d.author, "predicted": g}
                                               for d, g in zip(docs, guesses)], protocol_text(k), k)
    dense = None
    if method in ("dense", "hybrid"):
        vectors = [d.vector for d in docs if d.vector is not None]
        if len(vectors) < len(docs):
            raise InvalidInput("Dense attribution needs the documents' embeddings.")
        dense = np.vstack(vectors)
    bm25 = None
    if method in ("bm25", "hybrid"):
        from rank_bm25 import BM25Plus

        tokenized = [bm25_tokens(d.text) or ["∅"] for d in docs]
        bm25 = BM25Plus(tokenized)
    style = None
    if method == "style":
        raw = np.vstack([style_features(d.text) for d in docs])
        sd = raw.std(axis=0)
        style = (raw - raw.mean(axis=0)) / np.where(sd > 0, sd, 1.0)

    predictions = []
    for i, d in enumerate(docs):
        # The features each method uses were built above (dense: dense, hybrid; bm25: bm25, hybrid; style).
        if method == "dense":
            assert dense is not None
            guess = _nearest_centroid(dense, docs, i, cosine=True)
        elif method == "style":
            assert style is not None
            guess = _nearest_centroid(style, docs, i, cosine=False)
        else:
            assert bm25 is not None
            sparse_rank = _rank_others(np.asarray(bm25.get_scores(bm25_tokens(d.text))), i)
            if method == "bm25":
                guess = docs[sparse_rank[0]].author
            else:
                assert dense is not None
                dense_rank = _rank_others(dense @ dense[i], i)
                fused: dict[int, float] = {}
                for ranking in (dense_rank, sparse_rank):
                    for r, j in enumerate(ranking, 1):
                        fused[j] = fused.get(j, 0.0) + 1.0 / (RRF_K + r)
                guess = docs[max(fused, key=lambda j: fused[j])].author
        predictions.append({"doc_id": d.doc_id, "author": d.author, "predicted": guess})
        if progress:
            progress(i + 1, len(docs))
    return _result(method, docs, authors, predictions, LOO_PROTOCOL, None)


def _result(method: str, docs: Sequence[Doc], authors: list[str], predictions: list[dict[str, str]], protocol: str,
            folds: int | None) -> AttributionResult:
    per = Counter(d.author for d in docs)
    correct = Counter(p["author"] for p in predictions if p["author"] == p["predicted"])
    confusion = {a: {b: 0 for b in authors} for a in authors}
    for p in predictions:
        confusion[p["author"]][p["predicted"]] += 1
    return AttributionResult(
        method=method, n=len(docs), accuracy=sum(correct.values()) / len(docs),
        majority_baseline=max(per.values()) / len(docs), chance_baseline=1.0 / len(authors),
        authors={a: {"n": per[a], "correct": correct[a], "recognisable": round(correct[a] / per[a], 4)}
                 for a in authors},
        confusion=confusion, predictions=predictions, protocol=protocol, folds=folds)


class Attribution:
    """Attribution over what is stored (``pg.attribution``): the people's samples with their vectors, and corpus
    files embedded with the same chunker and embedder."""

    def __init__(self, vectors: "VectorStore", people: "People", library: "WritingLibrary", settings: "Settings",
                 embedder: "Embedder", chunker: "Chunker") -> None:
        self.vectors, self.people, self.library = vectors, people, library
        self.settings, self.embedder, self.chunker = settings, embedder, chunker

    def profile_docs(self, profiles: Sequence[dict[str, Any]] | None = None) -> list[Doc]:
        """Every stored sample of every profile with at least two, with dense vectors from Chroma (no re-embedding).

        ``Doc.author`` is the profile id (display names need not be unique)."""
        from playground.stores.vectors import VectorHit, stack_embeddings, user_collection

        docs: list[Doc] = []
        for p in self.people.list_profiles() if profiles is None else profiles:
            samples = self.library.list_samples(p["id"])
            if len(samples) < 2:
                continue
            vectors = self.vectors.get(user_collection(p["id"]), embeddings=True)
            by_sample: dict[str, list[VectorHit]] = {}
            for v in vectors:
                by_sample.setdefault(v.metadata.get("sample_id", ""), []).append(v)
            for s in samples:
                if s["id"] in by_sample:
                    docs.append(Doc(p["id"], s["id"], self.library.sample_text(s["id"]),
                                    doc_vector(stack_embeddings(by_sample[s["id"]]))))
        return docs

    def attribute_corpus(self, docs: Sequence[CorpusDoc], method: str, *, folds: int = 5,
                         per_author: int = 0) -> dict[str, Any]:
        """Attribution of a corpus's documents (at most ``per_author`` per author, 0: all) as a plain dict, without the
        per-document predictions; ``seconds`` is the time attribution took, embedding the documents not included."""
        items = [Doc(a, d.doc_id, d.text) for a, ds in by_author(docs, per_author).items() for d in ds]
        if method in ("dense", "hybrid"):
            for item in items:
                item.vector = doc_vector(self.embedder.embed(self.chunker.split(item.text), self.settings.embed_batch_size))
        t0 = time.perf_counter()
        result = attribute(items, method, folds=folds).to_dict()
        result["seconds"] = round(time.perf_counter() - t0, 1)
        result.pop("predictions")
        return result
