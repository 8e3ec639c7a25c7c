"""On small real data (the Federalist papers): attribution, the cold-start auto mode, held-out evaluation
that never retrieves the held-out text, and profile summaries. Tests that generate text name the llama.cpp engine."""

import json
import os
import subprocess
import sys

import pytest

from playground import RetrievalOptions, Settings
from playground.research.attribution import Doc, attribute
from playground.research.evaluation import meteor, rouge
from tests.conftest import FEDERALIST, ROOT

UNDISPUTED = ["--drop-where", "traditionally_disputed=true", "--drop-where", "author=MADISON_HAMILTON"]


def undisputed(federalist):
    return [r for r in federalist if not r["traditionally_disputed"] and r["author"] != "MADISON_HAMILTON"]


def test_style_attribution_recognises_the_federalist_authors_well_above_baseline(federalist):
    docs = [Doc(r["author"], r["doc_id"], r["text"]) for r in undisputed(federalist)]
    result = attribute(docs, "style")
    assert result.n == 70 and round(result.majority_baseline, 2) == 0.73 and result.chance_baseline == 1 / 3
    assert result.accuracy > 0.9 > result.majority_baseline
    assert result.authors["MADISON"]["recognisable"] > 0.8
    assert sum(sum(row.values()) for row in result.confusion.values()) == 70


def test_attribution_cli_prints_accuracy_with_baselines(tmp_path):
    env = {**os.environ, "PLAYGROUND_DATA_DIR": str(tmp_path / "d")}
    p = subprocess.run([sys.executable, "-m", "playground", "attribution", "--corpus", str(FEDERALIST),
                        "--author-field", "author", "--text-field", "text", *UNDISPUTED, "--method", "bm25"],
                       capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert {"accuracy", "n", "authors", "majority_baseline", "chance_baseline"} <= set(out)
    assert out["n"] == 70 and 0.5 < out["accuracy"] <= 1 and set(out["authors"]) == {"HAMILTON", "MADISON", "JAY"}


def test_dense_attribution_over_stored_profiles_uses_their_vectors(pg, federalist):
    for author in ("HAMILTON", "MADISON"):
        user = pg.people.create_profile(author.title())
        for r in [r for r in undisputed(federalist) if r["author"] == author][:3]:
            pg.library.add_sample(user["id"], text=r["text"][:3000], title=r["title"])
    docs = pg.attribution.profile_docs()
    assert len(docs) == 6 and all(d.vector is not None and d.vector.shape == (384,) for d in docs)
    result = attribute(docs, "dense")
    assert result.n == 6 and 0 <= result.accuracy <= 1


def test_rouge_and_meteor_reward_overlap():
    ref = "The union is the safeguard against faction and insurrection."
    assert rouge(ref, ref)["rouge1"] == pytest.approx(1.0)
    assert rouge("bananas are yellow", ref)["rougeL"] == 0.0
    assert meteor("the union guards against faction", ref) > meteor("bananas are yellow fruit", ref)


def test_auto_mode_moves_from_global_to_persona_to_user_as_writing_arrives(pg, federalist):
    newbie = pg.people.create_profile("New person")
    assert pg.scoping.resolve_auto(newbie)["mode"] == "global"
    baker = pg.people.create_profile("Baker", interests="baking bread, knitting, my dogs")
    r = pg.scoping.resolve_auto(baker)
    assert r["mode"] == "persona" and "closest persona" in r["reason"] and r["persona_id"]
    essays = [x for x in undisputed(federalist) if x["author"] == "HAMILTON"][:2]
    for e in essays:
        pg.library.add_sample(baker["id"], text=e["text"])
    r = pg.scoping.resolve_auto(pg.people.get_profile(baker["id"]))
    assert r["mode"] == "user" and "chunks of their own writing" in r["reason"]
    _, build, _ = pg.conversations.preview(baker["id"], "What about taxes?", "auto")
    assert build.mode == "user" and build.resolution["mode"] == "user"
    assert any(p.source == "snippet" for p in build.parts)


@pytest.mark.engine
def test_llama_cpp_engine_evaluation_never_retrieves_the_held_out_text(llm_env, embedder, federalist):
    from playground import Playground

    pg = Playground(Settings.from_env(llm_env), embedder=embedder)
    group = pg.create_persona_with_examples("Authors", "People who wrote essays for the newspapers of New York.")
    users = {}
    for author in ("HAMILTON", "MADISON"):
        users[author] = pg.people.create_profile(author.title(), persona_id=group["id"], share_with_persona=True)
        for r in [r for r in undisputed(federalist) if r["author"] == author][:3]:
            pg.library.add_sample(users[author]["id"], text=r["text"][:2500], title=r["title"])
    uid = users["HAMILTON"]["id"]
    held = [s["id"] for s in pg.library.list_samples(uid)[-1:]]
    held_chunks = {c["text"] for c in pg.db.query("SELECT text FROM chunks WHERE sample_id = ?", (held[0],))}
    result = pg.evaluation.evaluate_profile(uid, holdout=held, conditions=["user", "persona", "global", "none"],
                                            retriever="hybrid", k=8, max_tokens=20)
    assert {r.condition for r in result.rows} == {"user", "persona", "global", "none"}
    for row in result.rows:
        assert row.output.strip() and not row.error
        assert held[0] not in row.retrieved_samples
        prompt = " ".join(m["content"] for m in row.messages)
        assert not any(chunk in prompt for chunk in held_chunks if len(chunk) > 80), row.condition
        assert 0 <= row.rouge1 <= 1 and 0 <= row.meteor <= 1 and -1 <= row.sim_reference <= 1
    assert any(r.retrieved for r in result.rows if r.condition == "user")
    # The same retrieval without the exclusion does find the held-out essay: the test above can fail.
    leak = pg.conversations.retrieve(uid, result.rows[0].task, "user", RetrievalOptions("hybrid", k=8))
    assert held[0] in {h.sample_id for h in leak}
    summary = result.summary()
    assert summary["user"]["n"] == 1 and set(summary) == {"user", "persona", "global", "none"}


@pytest.mark.engine
def test_llama_cpp_engine_evaluate_cli_prints_metrics_per_condition(llm_env, tmp_path):
    env = {**os.environ, **llm_env}
    p = subprocess.run([sys.executable, "-m", "playground", "evaluate", "--corpus", str(FEDERALIST), "--author-field",
                        "author", "--text-field", "text", "--title-field", "title", *UNDISPUTED, "--per-author", "2",
                        "--authors", "2", "--conditions", "user,global,none", "--max-tokens", "12", "--k", "2"],
                       capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["authors"] == 2 and out["model"] == "tiny" and set(out["conditions"]) == {"user", "global", "none"}
    for cond in out["conditions"].values():
        assert cond["n"] == 2 and cond["errors"] == 0
        assert all(0 <= cond[m] <= 1 for m in ("rouge1", "rougeL", "meteor"))
    assert "METEOR" in out["metric_notes"]


@pytest.mark.engine
def test_llama_cpp_engine_profile_summary_is_cached_editable_and_goes_stale(llm_env, embedder):
    from playground import Playground

    pg = Playground(Settings.from_env(llm_env), embedder=embedder)
    user = pg.people.create_profile("Ada")
    pg.library.add_sample(user["id"], text="I sail on the estuary every weekend; the tide tables rule my life.", title="sea")
    first = pg.summaries.ensure_summary(user["id"])
    assert first["text"] and first["model"] == "tiny" and [s["title"] for s in first["sources"]] == ["sea"]
    assert pg.summaries.ensure_summary(user["id"])["updated"] == first["updated"], "cached while the samples are the same"
    _, build, _ = pg.conversations.preview(user["id"], "Plan my weekend", "user", use_summary=True)
    part = next(p for p in build.parts if p.source == "summary")
    assert first["text"] in part.text and part.meta["sources"] == ["sea"]
    pg.library.add_sample(user["id"], text="Bread on Sundays: a slow sourdough, baked hot.", title="bread")
    assert pg.summaries.get_summary(user["id"])["stale"]
    regenerated = pg.summaries.ensure_summary(user["id"])
    assert not regenerated["stale"] and {s["title"] for s in regenerated["sources"]} == {"sea", "bread"}
    pg.summaries.save_summary(user["id"], "Writes short, practical notes about sailing and baking.")
    pg.library.add_sample(user["id"], text="A third note, about the garden and its slugs.", title="garden")
    kept = pg.summaries.ensure_summary(user["id"])
    assert kept["edited"] and kept["stale"] and kept["text"].startswith("Writes short"), "the person's edit is kept"


@pytest.mark.fake_embedder
def test_evaluation_and_the_bias_probe_send_the_prompt_the_chat_would_send_for_the_same_model(settings, embedder):
    """The published tables measure the prompt people get: for a small model the chat's `small` template, not the
    `standard` one (the first edition of docs/evidence.md measured the other)."""
    import dataclasses

    from playground import Playground
    from playground.research.probes import bias
    from tests.support.fake_llm import EchoBackend

    backend = EchoBackend(answer="An answer.", models=("smollm2:135m",))
    pg = Playground(dataclasses.replace(settings, model="smollm2:135m"), embedder=embedder, backend=backend)
    me = pg.people.create_profile("Ada")
    for n in range(3):
        pg.library.add_sample(me["id"], text=f"Essay {n}. I write about rivers, boats and the tides of the estuary.",
                              title=f"Essay {n}")
    assert pg.conversations.template_for() == "small"
    result = pg.evaluation.evaluate_profile(me["id"], holdout=1, conditions=("user", "global"))
    assert result.template == "small"
    # answer length beside the scores (ROUGE favours longer answers): "An answer." is two words
    assert {r.words for r in result.rows} == {2} and result.summary()["user"]["words"] == 2
    sid = pg.conversations.new_session(me["id"], title="t")["id"]
    chat = pg.conversations.start_turn(sid, "Tell me about the tides.", "user")
    chat_system = chat.prompt.messages[0]["content"]
    eval_system = next(r.messages[0]["content"] for r in result.rows if r.condition == "user")
    assert eval_system.split("\n\n")[0] == chat_system.split("\n\n")[0], "the same instructions as the chat"

    probe = bias.run_probe("age_range", ["18-24", "65+"], ["What should I cook tonight?"], backend=pg.models,
                           model="smollm2:135m", embed=pg.embedder.embed, count_tokens=pg.tokenizer.count,
                           budget=pg.settings.prompt_budget, max_tokens=16,
                           template=pg.conversations.template_for("smollm2:135m"))
    assert probe.prompts[0][0]["content"].split("\n\n")[0] == chat_system.split("\n\n")[0]
