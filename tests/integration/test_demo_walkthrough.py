"""The demo data answers the README's walkthrough: each question, asked as its author under every retriever,
retrieves first a snippet from the essay that answers it; no snippet is a signature, a footnote or a list of
contents."""

from __future__ import annotations

import re

from playground import RetrievalOptions
from playground.demo import WALKTHROUGH
from tests.conftest import ROOT

# A word the retrieved snippets must contain to be visibly on topic, per walkthrough question.
TOPIC = {11: "nav", 10: "faction", 4: "war"}


def test_each_walkthrough_question_retrieves_the_essay_that_answers_it_under_every_retriever(pg):
    readme = " ".join((ROOT / "README.md").read_text().split())  # lines wrap inside a question
    assert all(question in readme for _, question, _ in WALKTHROUGH), "the README's walkthrough asks these"
    profiles = {p["display_name"]: p for p in pg.demo.load()}
    failures = []
    for name, question, paper in WALKTHROUGH:
        for retriever in ("dense", "bm25", "hybrid"):
            hits = pg.conversations.retrieve(profiles[name]["id"], question, "user", RetrievalOptions(retriever, k=4))
            top = hits[0]
            if not top.sample_title.startswith(f"Federalist No. {paper}:"):
                failures.append(f"{name} / {retriever}: {question!r} → {top.sample_title}: {top.text[:120]!r}")
            if not any(TOPIC[paper] in h.text.lower() for h in hits):
                failures.append(f"{name} / {retriever}: no snippet mentions {TOPIC[paper]!r}")
            on_topic = [h for h in hits if h.sample_title.startswith(f"Federalist No. {paper}:")]
            if len(on_topic) < 2:
                failures.append(f"{name} / {retriever}: only {len(on_topic)} of 4 snippets from No. {paper}")
    assert not failures, "\n".join(failures)
    # No chunk is a signature, a footnote or the series' table of contents.
    chunks = [r["text"] for r in pg.db.query("SELECT text FROM chunks")]
    assert chunks
    assert not [c for c in chunks if "PUBLIUS" in c or re.search(r"(^|\n)E?\d+\. ", c)]
    assert not [c for c in chunks if "following interesting particulars" in c]
    assert min(pg.tokenizer.count(c) for c in chunks) >= 20
