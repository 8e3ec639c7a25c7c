"""Retrieval R(φ_q(x), P_u, k): dense (Chroma cosine), sparse (BM25+ via rank_bm25) and hybrid (reciprocal rank fusion).

A ``Scope`` says whose data may be searched; it is resolved from the granularity by the caller, and the
retrievers search exactly that scope's collection (dense) or chunk rows (BM25) — nothing else is reachable.
"""

from __future__ import annotations

import re
import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Literal, Sequence

import numpy as np

from playground.errors import InvalidInput
from playground.people.consent import MEMBER_NAME
from playground.people.directory import owner_names
from playground.stores.db import Database
from playground.stores.vectors import (
    VectorHit,
    VectorStore,
    persona_collection,
    revision,
    stack_embeddings,
    user_collection,
)

RetrieverName = Literal["dense", "bm25", "hybrid"]
RETRIEVERS: tuple[str, ...] = ("dense", "bm25", "hybrid")
RRF_K = 60  # the constant from Cormack et al. (2009), used by most hybrid search engines

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)
STOPWORDS = frozenset(
    "a an and are as at be been but by for from had has have he her his i if in into is it its me my not of on or "
    "our she so than that the their them then there these they this to was we were what when which who will with "
    "would you your".split()
)


# Chinese and Japanese put no spaces between words, so a whole sentence would be one "word". Runs of Han, kana and
# CJK-compatibility characters become overlapping character bigrams instead (the standard for CJK search engines:
# Lucene's CJKAnalyzer), so a query shares terms with the sentences that contain its words.
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+")


def _cjk_bigrams(run: str) -> list[str]:
    return [run] if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)]


def bm25_tokens(text: str) -> list[str]:
    out: list[str] = []
    for m in _WORD.findall(text):
        pos = 0
        for run in _CJK_RUN.finditer(m):
            out.extend(w for w in (m[pos:run.start()].lower(),) if w and w not in STOPWORDS)
            out.extend(_cjk_bigrams(run.group()))
            pos = run.end()
        rest = m[pos:].lower()
        if rest and rest not in STOPWORDS:
            out.append(rest)
    return out


@dataclass(frozen=True)
class Scope:
    """Where retrieval may look. ``kind`` 'none' (global) searches nothing."""

    kind: Literal["user", "persona", "none"]
    owner_id: str = ""
    # Persona scopes: the profiles whose shared chunks may be retrieved (see consent.py); () = the persona's examples
    # only; None = every sharer (no consent filter; only for callers that resolved consent themselves).
    sharers: tuple[str, ...] | None = None
    viewer: str = ""  # the profile asking; other members' names are never shown to it

    @property
    def collection(self) -> str:
        return user_collection(self.owner_id) if self.kind == "user" else persona_collection(self.owner_id)


@dataclass
class Hit:
    chunk_id: str
    text: str
    score: float
    rank: int
    retriever: str
    owner_kind: str
    owner_id: str
    owner_name: str
    sample_id: str
    sample_title: str
    position: int
    scores: dict[str, float] = field(default_factory=dict)  # per-retriever scores behind a hybrid score

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RetrievalOptions:
    retriever: str = "dense"
    k: int = 4
    threshold: float | None = None
    mmr: bool = False
    mmr_lambda: float = 0.5
    exclude_samples: tuple[str, ...] = ()

    def validate(self) -> None:
        if self.retriever not in RETRIEVERS:
            raise InvalidInput(f"Unknown retriever '{self.retriever}'.", f"Choose one of {', '.join(RETRIEVERS)}.")
        if not 1 <= self.k <= 50:
            raise InvalidInput("k must be between 1 and 50.")


class Retriever:
    def __init__(self, db: Database, vectors: VectorStore, embed_query: Callable[[str], np.ndarray]) -> None:
        self.db = db
        self.vectors = vectors
        self.embed_query = embed_query
        self._bm25: dict[Scope, tuple[int, Any, list[dict[str, Any]]]] = {}
        self._lock = threading.Lock()

    # -- scope contents --------------------------------------------------------------------------------------
    def scope_rows(self, scope: Scope) -> list[dict[str, Any]]:
        """The chunk rows a scope may see, from SQLite (the same set the scope's Chroma collection holds)."""
        base = ("SELECT c.id, c.text, c.position, c.owner_kind, c.owner_id, c.sample_id, s.title AS sample_title "
                "FROM chunks c JOIN samples s ON s.id = c.sample_id WHERE s.status = 'ready' AND ")
        if scope.kind == "user":
            return self.db.query(base + "c.owner_kind = 'profile' AND c.owner_id = ? ORDER BY c.rowid",
                                 (scope.owner_id,))
        if scope.kind == "persona":
            allowed = "" if scope.sharers is None else \
                f" AND c.owner_id IN ({','.join('?' * len(scope.sharers))})" if scope.sharers else " AND 0"
            return self.db.query(
                base + "((c.owner_kind = 'persona' AND c.owner_id = ?) OR (c.owner_kind = 'profile' AND c.owner_id IN "
                "(SELECT id FROM profiles WHERE persona_id = ? AND share_with_persona = 1)" + allowed + ")) "
                "ORDER BY c.rowid", (scope.owner_id, scope.owner_id, *(scope.sharers or ())))
        return []

    def scope_revision(self, scope: Scope) -> int:
        return revision(self.db, scope.collection)

    def _names(self, rows: list[dict[str, Any]], scope: Scope | None = None) -> dict[str, str]:
        """Display names of the owners; in persona scopes other members stay anonymous (consent.MEMBER_NAME)."""
        names: dict[str, str] = {}
        for owner_id, (kind, name) in owner_names(self.db, {r["owner_id"] for r in rows}).items():
            member = kind == "profile" and scope is not None and scope.kind == "persona" and owner_id != scope.viewer
            names[owner_id] = MEMBER_NAME if member else name
        return names

    # -- retrievers --------------------------------------------------------------------------------------------
    def retrieve(self, query: str, scope: Scope, options: RetrievalOptions) -> list[Hit]:
        options.validate()
        if scope.kind == "none" or not query.strip():
            return []
        if options.retriever == "dense":
            hits = self._dense(query, scope, options)
        elif options.retriever == "bm25":
            hits = self._bm25_search(query, scope, options.k * 4 if options.mmr else options.k, options)
        else:
            hits = self._hybrid(query, scope, options)
        if options.threshold is not None:
            hits = [h for h in hits if h.score >= options.threshold]
        hits = hits[: options.k]
        for rank, h in enumerate(hits, 1):
            h.rank = rank
        return hits

    def _where(self, options: RetrievalOptions, scope: Scope | None = None) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if options.exclude_samples:
            clauses.append({"sample_id": {"$nin": list(options.exclude_samples)}})
        if scope is not None and scope.kind == "persona" and scope.sharers is not None:
            clauses.append({"$or": [{"owner_kind": "persona"}, {"owner_id": {"$in": list(scope.sharers)}}]}
                           if scope.sharers else {"owner_kind": "persona"})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def _from_vector(self, v: VectorHit, retriever: str, names: dict[str, str] | None = None) -> Hit:
        m = v.metadata
        score = 1.0 - v.distance
        return Hit(v.id, v.text, round(score, 4), 0, retriever, m.get("owner_kind", ""), m.get("owner_id", ""),
                   (names or {}).get(m.get("owner_id", ""), m.get("owner_name", "")), m.get("sample_id", ""),
                   m.get("sample_title", ""), int(m.get("position", 0)), {retriever: round(score, 4)})

    def _dense(self, query: str, scope: Scope, options: RetrievalOptions, fetch: int | None = None) -> list[Hit]:
        qvec = self.embed_query(query)
        n = fetch or (max(options.k * 4, 20) if options.mmr else options.k)
        found = self.vectors.query(scope.collection, qvec, n, where=self._where(options), embeddings=options.mmr)
        if scope.kind == "persona" and scope.sharers is not None:
            # Fast path: an unfiltered query whose results are all allowed is the filtered query's answer too.
            # Otherwise (a non-member, another context, a stray copy) ask again with the consent filter.
            allowed = set(scope.sharers)
            if any(v.metadata.get("owner_kind") != "persona" and v.metadata.get("owner_id") not in allowed
                   for v in found):
                found = self.vectors.query(scope.collection, qvec, n, where=self._where(options, scope),
                                           embeddings=options.mmr)
        names = self._names([{"owner_id": v.metadata.get("owner_id", "")} for v in found], scope)
        if options.mmr and found:
            found = mmr_select(qvec, found, options.k, options.mmr_lambda)
        # A cosine of zero or less means "unrelated in meaning": such a chunk is not a match, however few there are
        # (with k above the number of chunks, Chroma returns everything, down to -0.001).
        return [h for h in (self._from_vector(v, "dense", names) for v in found) if h.score > 0]

    def _bm25_index(self, scope: Scope) -> tuple[Any, list[dict[str, Any]]]:
        rev = self.scope_revision(scope)
        with self._lock:
            cached = self._bm25.get(scope)
            if cached and cached[0] == rev:
                return cached[1], cached[2]
        rows = self.scope_rows(scope)
        index = None
        if rows:
            # BM25+ (Lv & Zhai, 2011): Okapi's IDF is zero or negative when a term is in half the documents or more,
            # which in a small personal corpus (a user with two samples) hides exact matches entirely.
            from rank_bm25 import BM25Plus

            index = BM25Plus([bm25_tokens(r["text"]) or ["∅"] for r in rows])
        with self._lock:
            self._bm25[scope] = (rev, index, rows)
        return index, rows

    def _bm25_search(self, query: str, scope: Scope, n: int, options: RetrievalOptions) -> list[Hit]:
        index, rows = self._bm25_index(scope)
        terms = bm25_tokens(query)
        if index is None or not terms:
            return []
        scores = index.get_scores(terms)
        excluded = set(options.exclude_samples)
        # BM25+ gives every document a floor score; only documents sharing a query term are matches.
        order = [i for i in np.argsort(-scores, kind="stable")
                 if rows[i]["sample_id"] not in excluded and any(t in index.doc_freqs[i] for t in terms)]
        names = self._names([rows[i] for i in order[:n]], scope)
        hits = []
        for i in order[:n]:
            r = rows[i]
            s = round(float(scores[i]), 4)
            hits.append(Hit(r["id"], r["text"], s, 0, "bm25", r["owner_kind"], r["owner_id"],
                            names.get(r["owner_id"], ""), r["sample_id"], r["sample_title"], r["position"], {"bm25": s}))
        return hits

    def _hybrid(self, query: str, scope: Scope, options: RetrievalOptions) -> list[Hit]:
        depth = max(options.k * 4, 20)
        plain = RetrievalOptions("dense", options.k, None, False, options.mmr_lambda, options.exclude_samples)
        dense = self._dense(query, scope, plain, fetch=depth)
        sparse = self._bm25_search(query, scope, depth, options)
        fused: dict[str, Hit] = {}
        rrf: dict[str, float] = {}
        for ranked in (dense, sparse):
            for rank, h in enumerate(ranked, 1):
                rrf[h.chunk_id] = rrf.get(h.chunk_id, 0.0) + 1.0 / (RRF_K + rank)
                if h.chunk_id in fused:
                    fused[h.chunk_id].scores.update(h.scores)
                else:
                    fused[h.chunk_id] = h
        out = sorted(fused.values(), key=lambda h: -rrf[h.chunk_id])
        for h in out:
            h.retriever = "hybrid"
            h.score = round(rrf[h.chunk_id], 5)
        return out


def mmr_select(qvec: np.ndarray, found: Sequence[VectorHit], k: int, lam: float) -> list[VectorHit]:
    """Maximal marginal relevance (Carbonell & Goldstein, 1998): relevant, and not redundant with what is chosen."""
    embs = stack_embeddings(found)
    rel = embs @ qvec
    chosen: list[int] = []
    left = list(range(len(found)))
    while left and len(chosen) < k:
        if chosen:
            red = (embs[left] @ embs[chosen].T).max(axis=1)
        else:
            red = np.zeros(len(left))
        best = left[int(np.argmax(lam * rel[left] - (1 - lam) * red))]
        chosen.append(best)
        left.remove(best)
    return [found[i] for i in chosen]
