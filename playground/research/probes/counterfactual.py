"""What did each part of the prompt do? Counterfactual answers, one part removed at a time.

From the full prompt of an answer (its labelled parts), the same model answers again at temperature 0: once with
the full prompt (the baseline, so differences come from the removal and not from sampling), then once per removable
part with that part left out (each snippet, the profile, the persona, the model-written summary, any other added part
such as a style card, and the conversation history as one part). Each variant gets a word-level diff against the
baseline, its similarity to the baseline (embedding cosine and word overlap) and to the person's own writing (cosine
to the centroid of their chunks), and the run names the removal that changed the answer most.

The run is a batch stored in SQLite as it goes (``explanations`` and ``explanation_variants``): every variant keeps
the exact messages sent and its trace; a cancel request is honoured between variants; a cancelled or interrupted run
can be resumed and skips what is already done.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any, Callable, Sequence

import numpy as np

from playground.errors import InvalidInput, LLMError, NotFound
from playground.models.llm import LLMBackend, Usage
from playground.pipeline.prompting import PromptPart, assemble
from playground.research.probes import metrics
from playground.stores.db import Database, new_id, now

ORIGINAL = "original"
KEPT_SOURCES = ("instructions", "message", "snippets")  # never removed; the snippet preamble goes with the snippets
EXPLAINED = ("Each row is the same question answered again at temperature 0 with one part of the prompt left out. "
             "The more an answer moves away from the full-prompt answer, the more that part shaped it; an answer "
             "that does not change at all means the model ignored that part for this question.")

Embed = Callable[[list[str]], np.ndarray]
Progress = Callable[[str, int, int], None]


@dataclass
class Removal:
    key: str  # stable id of what is removed: "profile", "persona", "summary", "snippet:2", "history", "style:3"…
    label: str
    source: str
    indexes: list[int]  # positions in the parts list
    tokens: int


@dataclass
class Variant:
    key: str
    label: str
    source: str
    removed_tokens: int
    messages: list[dict[str, str]]
    answer: str = ""
    status: str = "complete"  # complete | interrupted | error
    error: str = ""
    latency_s: float = 0.0
    output_tokens: int | None = None
    diff: list[dict[str, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    similarity: float | None = None  # embedding cosine to the baseline answer
    overlap: float | None = None  # word-set Jaccard overlap with the baseline answer
    person_similarity: float | None = None  # embedding cosine to the person's writing
    trace: dict[str, Any] = field(default_factory=dict)  # model, backend, temperature, limits, latency

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parts_from_dicts(parts: Sequence[dict[str, Any]]) -> list[PromptPart]:
    """Parts as stored in a trace (``PromptBuild.to_dict()["parts"]``) back to ``PromptPart`` objects."""
    return [PromptPart(p["source"], p["label"], p["text"], int(p["tokens"]), p["role"], dict(p.get("meta") or {}))
            for p in parts]


def removals(parts: Sequence[PromptPart]) -> list[Removal]:
    """What can be left out, in prompt order: every part except the instructions, the message and the snippet
    preamble; the history (all earlier turns) counts as one part."""
    out: list[Removal] = []
    history: Removal | None = None
    seen: dict[str, int] = {}
    for i, p in enumerate(parts):
        if p.source in KEPT_SOURCES:
            continue
        if p.source == "history":
            if history is None:
                history = Removal("history", "the conversation history", "history", [], 0)
                out.append(history)
            history.indexes.append(i)
            history.tokens += p.tokens
            continue
        if p.source == "snippet":
            key = f"snippet:{p.meta.get('n', i)}"
        else:
            seen[p.source] = seen.get(p.source, 0) + 1
            key = p.source if seen[p.source] == 1 else f"{p.source}:{seen[p.source]}"
        out.append(Removal(key, p.label, p.source, [i], p.tokens))
    return out


def messages_for(parts: Sequence[PromptPart]) -> list[dict[str, str]]:
    """The chat messages for a list of parts, assembled exactly as ``prompting.build_prompt`` does (whatever the
    template: snippets in the system message or in the person's message); the snippet preamble is dropped when no
    snippet is left."""
    return assemble(parts)


def without(parts: Sequence[PromptPart], removal: Removal) -> list[PromptPart]:
    drop = set(removal.indexes)
    return [p for i, p in enumerate(parts) if i not in drop]


def generate(backend: LLMBackend, messages: Sequence[dict[str, str]], model: str, max_tokens: int,
             count_tokens: Callable[[str], int] | None = None) -> dict[str, Any]:
    """One answer at temperature 0: text, status, error, latency and output tokens (never raises LLMError)."""
    pieces: list[str] = []
    usage = Usage()
    t0 = time.perf_counter()
    status, error = "complete", ""
    try:
        for piece in backend.stream(messages, model, temperature=0.0, max_tokens=max_tokens):
            if isinstance(piece, Usage):
                usage = piece
            else:
                pieces.append(piece)
    except LLMError as e:
        partial = getattr(e, "partial", "")
        if partial and not pieces:
            pieces = [partial]
        status, error = ("interrupted" if pieces else "error"), str(e)
    text = "".join(pieces)
    out_tokens = usage.output_tokens
    if out_tokens is None and count_tokens is not None:
        out_tokens = count_tokens(text)
    return {"answer": text, "status": status, "error": error, "latency_s": round(time.perf_counter() - t0, 3),
            "output_tokens": out_tokens}


def measure(variants: Sequence[Variant], embed: Embed, person_vector: np.ndarray | None) -> None:
    """Fill in diff, similarities and overlap of every variant against the baseline (the first, ``original``)."""
    if not variants:
        return
    base = variants[0]
    texts = [v.answer for v in variants]
    vecs = embed(texts) if any(t.strip() for t in texts) else None
    for i, v in enumerate(variants):
        v.diff = metrics.word_diff(base.answer, v.answer)
        v.counts = metrics.diff_counts(v.diff)
        v.overlap = metrics.token_overlap(base.answer, v.answer)
        if vecs is not None and v.answer.strip() and base.answer.strip():
            v.similarity = metrics.cosine(vecs[0], vecs[i])
        if vecs is not None and v.answer.strip():
            v.person_similarity = metrics.cosine(vecs[i], person_vector)


def most_changed(variants: Sequence[Variant]) -> dict[str, Any] | None:
    """The removal whose answer moved furthest from the baseline: lowest embedding similarity, then lowest word
    overlap. None when no variant was answered, and ``changed: False`` when every answer equals the baseline."""
    done = [v for v in variants[1:] if v.status == "complete"]
    if not done or variants[0].status != "complete":
        return None
    worst = min(done, key=lambda v: (v.similarity if v.similarity is not None else 1.0, v.overlap or 0.0))
    changed = worst.answer.strip() != variants[0].answer.strip()
    return {"key": worst.key, "label": worst.label, "similarity": worst.similarity, "overlap": worst.overlap,
            "changed": changed}


# -- the stored batch ----------------------------------------------------------------------------------------------
def create_run(db: Database, parts: Sequence[PromptPart], *, message: str, mode: str, model: str,
               profile_id: str | None, source_trace_id: str | None = None) -> str:
    if not any(p.source == "message" for p in parts):
        raise InvalidInput("There is no message in this prompt to explain.")
    rid = new_id("exp")
    db.execute("INSERT INTO explanations (id, profile_id, message, mode, model, source_trace_id, parts, status, "
               "created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?)",
               (rid, profile_id, message, mode, model, source_trace_id,
                json.dumps([asdict(p) for p in parts]), now(), now()))
    return rid


def get_run(db: Database, run_id: str) -> dict[str, Any]:
    row = db.one("SELECT * FROM explanations WHERE id = ?", (run_id,))
    if not row:
        raise NotFound("That explanation no longer exists.", "Run it again.")
    row["parts"] = parts_from_dicts(json.loads(row["parts"]))
    row["removals"] = removals(row["parts"])
    variants = []
    for v in db.query("SELECT data FROM explanation_variants WHERE explanation_id = ? ORDER BY position",
                      (run_id,)):
        variants.append(Variant(**json.loads(v["data"])))
    row["variants"] = variants
    row["total"] = len(row["removals"]) + 1
    row["most_changed"] = most_changed(variants) if variants and variants[0].key == ORIGINAL else None
    return row


def cancel_now(db: Database, run_id: str) -> None:
    """The person pressed Cancel: the run is 'cancelled' at once, and a batch still running (in another tab, or the
    script the click interrupted) stops after the variant it is generating, keeping what was done."""
    db.execute("UPDATE explanations SET status = 'cancelled', updated = ? WHERE id = ? AND status = 'running'",
               (now(), run_id))


def _status(db: Database, run_id: str) -> str:
    row = db.one("SELECT status FROM explanations WHERE id = ?", (run_id,))
    if not row:
        raise NotFound("That explanation was deleted while it ran.")
    return str(row["status"])


def shared_prefix(a: Sequence[dict[str, str]], b: Sequence[dict[str, str]]) -> int:
    """Characters two prompts share from the start (as the model reads them: role, then content, message by
    message). llama.cpp reuses what a prompt shares with the one before it instead of reading it again."""
    sa = "".join(f"\x00{m['role']}\x00{m['content']}" for m in a)
    sb = "".join(f"\x00{m['role']}\x00{m['content']}" for m in b)
    n = 0
    for x, y in zip(sa, sb):
        if x != y:
            break
        n += 1
    return n


def prefix_order(prompts: Sequence[Sequence[dict[str, str]]], first: Sequence[dict[str, str]]) -> list[int]:
    """Indexes of ``prompts`` in the order that keeps the most shared start between each prompt and the one
    before (greedy, starting after ``first``): the removal of a late part comes right after the full prompt."""
    left, order, prev = list(range(len(prompts))), [], first
    while left:
        best = max(left, key=lambda i: (shared_prefix(prev, prompts[i]), -i))
        order.append(best)
        left.remove(best)
        prev = prompts[best]
    return order


def _fan_out(jobs: Sequence[Callable[[], dict[str, Any]]], concurrency: int) -> list[dict[str, Any]]:
    if concurrency <= 1 or len(jobs) <= 1:
        return [job() for job in jobs]
    with ThreadPoolExecutor(max_workers=min(concurrency, len(jobs))) as pool:
        return list(pool.map(lambda job: job(), jobs))


_workers: dict[str, int] = {}  # run id -> the number of the latest worker started on it in this process
_workers_lock = threading.Lock()


def run(db: Database, run_id: str, *, backend: LLMBackend, embed: Embed, person_vector: np.ndarray | None,
        max_tokens: int, count_tokens: Callable[[str], int] | None = None, progress: Progress | None = None,
        should_stop: Callable[[], bool] | None = None, concurrency: int = 1) -> dict[str, Any]:
    """Generate every variant not yet stored (baseline first), storing each as soon as it is measured.

    Made for live use: every answer (baseline included, so they compare at the same length) is cut at
    ``max_tokens``; the variants run in the order that lets a caching server reuse the most shared prompt start
    (``prefix_order``; the embedded engine reads temperature-0 prompts afresh, for answers that repeat exactly, so
    it gains nothing from the order); a variant whose prompt equals one already answered reuses that answer (temperature 0);
    with ``concurrency`` > 1, that many variants are asked at once (for a backend with parallel slots).
    Stops between variants (or batches) when ``should_stop()`` is true or someone pressed Cancel (``cancel_now``);
    the run is then 'cancelled' and keeps what was done. Returns ``get_run``."""
    with _workers_lock:  # this call is now the run's worker; an earlier one (cancelled, then resumed) stops
        mine = _workers[run_id] = _workers.get(run_id, 0) + 1
    row = get_run(db, run_id)
    db.execute("UPDATE explanations SET status = 'running', error = '', updated = ? WHERE id = ?", (now(), run_id))
    parts: list[PromptPart] = row["parts"]
    plan: list[tuple[int, Removal | None, list[dict[str, str]]]] = [(0, None, messages_for(parts))]
    plan += [(i, r, messages_for(without(parts, r))) for i, r in enumerate(row["removals"], 1)]
    variants: list[Variant] = list(row["variants"])
    done = {v.key for v in variants}
    total = len(plan)
    answered: dict[str, Variant] = {json.dumps(v.messages): v for v in variants if v.status == "complete"}
    base_plan, rest = plan[0], plan[1:]
    rest = [rest[i] for i in prefix_order([m for _, _, m in rest], base_plan[2])]
    queue = [p for p in [base_plan, *rest] if (p[1].key if p[1] else ORIGINAL) not in done]

    def stopped() -> bool:
        if _workers.get(run_id) != mine:  # Resume started a newer worker: it finishes the run, not this one
            return True
        if (should_stop and should_stop()) or _status(db, run_id) == "cancelled":
            db.execute("UPDATE explanations SET status = 'cancelled', updated = ? WHERE id = ?", (now(), run_id))
            return True
        return False

    def store(position: int, removal: Removal | None, messages: list[dict[str, str]], got: dict[str, Any],
              same_as: str = "") -> None:
        key = removal.key if removal else ORIGINAL
        v = Variant(key, removal.label if removal else "nothing removed (full prompt)",
                    removal.source if removal else ORIGINAL, removal.tokens if removal else 0, messages,
                    got["answer"], got["status"], got["error"], got["latency_s"], got["output_tokens"])
        if removal is None and v.status == "error":
            db.execute("UPDATE explanations SET status = 'error', error = ?, updated = ? WHERE id = ?",
                       (v.error, now(), run_id))
            raise LLMError(v.error or "The model gave no answer.")
        v.trace = {"model": row["model"], "temperature": 0.0, "max_tokens": max_tokens, "backend": backend.name,
                   "backend_url": backend.where, "latency_s": v.latency_s, "output_tokens": v.output_tokens,
                   "status": v.status, "error": v.error}
        if same_as:
            v.trace["same_prompt_as"] = same_as  # not asked again: the same prompt at temperature 0
        if removal is None:
            variants.insert(0, v)
            measure([v], embed, person_vector)
        else:
            variants.append(v)
            measure([variants[0], v], embed, person_vector)
        # A cancelled worker may still store the variant it was writing when Resume queued it again: the same
        # prompt at temperature 0, so whichever is stored first stands.
        db.execute("INSERT INTO explanation_variants (id, explanation_id, key, position, answer, status, data, "
                   "created) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(explanation_id, key) DO NOTHING",
                   (new_id("var"), run_id, key, position, v.answer, v.status, json.dumps(v.to_dict()), now()))
        done.add(key)
        if v.status == "complete":
            answered.setdefault(json.dumps(messages), v)

    step = 1 if not variants else max(1, concurrency)  # the baseline alone first: every variant is compared to it
    while queue:
        if stopped():
            return get_run(db, run_id)
        batch, queue = queue[:step], queue[step:]
        step = max(1, concurrency)
        fresh = [p for p in batch if json.dumps(p[2]) not in answered]
        if progress:
            names = ", ".join(r.label if r else "the full prompt" for _, r, _ in fresh) or "reusing answers"
            progress(names, len(done), total)
        got = dict(zip((id(p) for p in fresh), _fan_out(
            [partial(generate, backend, m, row["model"], max_tokens, count_tokens) for _, _, m in fresh],
            concurrency)))
        for p in batch:
            position, removal, messages = p
            twin = answered.get(json.dumps(messages))
            if id(p) in got:
                store(position, removal, messages, got[id(p)])
            elif twin is not None:
                store(position, removal, messages, {"answer": twin.answer, "status": twin.status, "error": "",
                                                    "latency_s": 0.0, "output_tokens": twin.output_tokens},
                      same_as=twin.key)
    if progress:
        progress("done", total, total)
    db.execute("UPDATE explanations SET status = 'complete', updated = ? WHERE id = ?", (now(), run_id))
    return get_run(db, run_id)


def to_json(run_row: dict[str, Any]) -> dict[str, Any]:
    """What the CLI prints: the baseline, then one entry per removed part, and the removal that changed most."""
    variants = run_row["variants"]
    base = variants[0] if variants else None

    def entry(v: Variant) -> dict[str, Any]:
        return {"removed": v.key, "label": v.label, "source": v.source, "removed_tokens": v.removed_tokens,
                "answer": v.answer, "status": v.status, "error": v.error,
                "similarity_to_original": v.similarity, "word_overlap": v.overlap,
                "similarity_to_person": v.person_similarity, "words_added": v.counts.get("added"),
                "words_removed": v.counts.get("removed"), "diff": v.diff, "latency_s": v.latency_s}

    return {"explanation_id": run_row["id"], "status": run_row["status"], "message": run_row["message"],
            "mode": run_row["mode"], "model": run_row["model"], "temperature": 0.0,
            "original": entry(base) if base else None,
            "variants": [entry(v) for v in variants[1:]],
            "most_changed": run_row["most_changed"], "explained": EXPLAINED}
