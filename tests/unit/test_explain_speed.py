"""Explain this answer at live speed: every answer cut at the same short length, variants in the order that shares the
longest prompt start with the one before (llama.cpp reuses it), identical prompts answered once, and variants asked
concurrently when the backend has parallel slots. Each test fails on main, where the batch ran one by one, in
prompt order, at the chat's answer length."""

from __future__ import annotations

import threading
import time

import numpy as np

from playground.pipeline.prompting import PromptPart, build_prompt
from playground.pipeline.retrieval import Hit
from playground.research.probes import counterfactual as cf
from playground.stores.db import Database
from tests.support.fake_llm import EchoBackend


def embed(texts: list[str]) -> np.ndarray:
    out = np.zeros((len(texts), 16))
    for i, t in enumerate(texts):
        for w in t.split():
            out[i, hash(w) % 16] += 1
    return out


def _hit(n: int) -> Hit:
    return Hit(f"c{n}", f"snippet text MKs{n}", 0.5, n, "dense", "profile", "prof_ada", "Ada", "s1", "Essay", n)


def parts() -> list[PromptPart]:
    profile = {"id": "prof_ada", "display_name": "Ada", "occupation": "hydrologist MKprof"}
    return build_prompt("Why tides?", "user", count_tokens=lambda t: len(t.split()), budget=4000, profile=profile,
                        hits=[_hit(1), _hit(2), _hit(3)], template="standard").parts


def run(tmp_path, backend, **kw):
    db = Database(tmp_path / "t.db")
    rid = cf.create_run(db, parts(), message="Why tides?", mode="user", model="echo", profile_id=None)
    return cf.run(db, rid, backend=backend, embed=embed, person_vector=None, **kw)


class Recording(EchoBackend):
    """Echo, remembering each call's max_tokens, how many ran at once, and slowing each call a little."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.limits: list[int] = []
        self.active = self.peak = 0
        self.delay = delay
        self._guard = threading.Lock()

    def stream(self, messages, model, *, temperature, max_tokens):
        with self._guard:
            self.limits.append(max_tokens)
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            time.sleep(self.delay)
            yield from super().stream(messages, model, temperature=temperature, max_tokens=max_tokens)
        finally:
            with self._guard:
                self.active -= 1


def test_every_answer_baseline_included_is_cut_at_the_same_short_length(tmp_path):
    backend = Recording()
    result = run(tmp_path, backend, max_tokens=80)
    assert result["status"] == "complete" and len(result["variants"]) == result["total"] == 5  # profile + 3 snippets
    assert backend.limits == [80] * 5
    assert all(v.trace["max_tokens"] == 80 for v in result["variants"])


def test_variants_run_in_the_order_that_shares_the_longest_prompt_start(tmp_path):
    backend = Recording()
    result = run(tmp_path, backend, max_tokens=40)
    sent = backend.calls
    # Consecutive prompts share as much as any order could: removing the last snippet comes right after the full
    # prompt, and the profile (near the top) last.
    shared = [cf.shared_prefix(a, b) for a, b in zip(sent, sent[1:])]
    order = [v.key for v in sorted(result["variants"][1:], key=lambda v: sent.index(v.messages))]
    assert order == ["snippet:3", "snippet:2", "snippet:1", "profile"], order
    in_prompt_order = [cf.messages_for(cf.without(parts(), r)) for r in cf.removals(parts())]
    naive = [cf.shared_prefix(a, b) for a, b in zip([sent[0], *in_prompt_order], in_prompt_order)]
    assert sum(shared) > sum(naive)
    # Stored and shown in prompt order all the same.
    assert [v.key for v in result["variants"]] == ["original", "profile", "snippet:1", "snippet:2", "snippet:3"]


def test_a_variant_with_the_same_prompt_as_one_already_answered_is_not_asked_again(tmp_path):
    ps = parts()
    card = PromptPart("style", "style card", "Write in short sentences MKstyle.", 7, "system", {})
    at = next(i for i, p in enumerate(ps) if p.source == "snippets")
    ps[at:at] = [card, PromptPart(**{**card.__dict__, "label": "style card (again)"})]  # leaving out either: same
    db = Database(tmp_path / "t.db")
    rid = cf.create_run(db, ps, message="Why tides?", mode="user", model="echo", profile_id=None)
    backend = Recording()
    result = cf.run(db, rid, backend=backend, embed=embed, person_vector=None, max_tokens=40)
    assert result["status"] == "complete" and len(result["variants"]) == 7
    assert len(backend.calls) == 6  # seven answers, one prompt asked once
    a, b = (v for v in result["variants"] if v.source == "style")
    assert a.messages == b.messages and a.answer == b.answer
    assert {a.trace.get("same_prompt_as"), b.trace.get("same_prompt_as")} - {None} == {a.key} or \
        {a.trace.get("same_prompt_as"), b.trace.get("same_prompt_as")} - {None} == {b.key}


def test_variants_run_concurrently_when_asked_and_one_at_a_time_by_default(tmp_path):
    one = Recording(delay=0.05)
    run(tmp_path / "a", one, max_tokens=40)
    assert one.peak == 1
    many = Recording(delay=0.2)
    result = run(tmp_path / "b", many, max_tokens=40, concurrency=4)
    assert many.peak >= 2 and result["status"] == "complete"
    # The baseline is answered alone, first: every variant is compared with it.
    assert many.calls[0] == result["variants"][0].messages
    assert result["most_changed"] is not None
