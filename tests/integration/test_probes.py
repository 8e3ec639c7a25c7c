"""Probes on the real stores: counterfactual answers (one part removed at a time, as a stored, cancellable,
resumable batch), the bias probe and the personalized judge, through the engine API and the CLI. Tests that generate
text name the llama.cpp engine (a tiny random model: its words are noise, so these check the mechanics)."""

import json
import os
import subprocess
import sys

import pytest

from playground import InvalidInput, Playground, Settings
from playground.research.probes import counterfactual, judge, metrics
from tests.conftest import ROOT

WRITING = ("I sail on the estuary every weekend; the tide tables rule my life. In winter I repair the boat and "
           "read about navigation, and in spring I teach my nephew to tie a bowline.")


def _person(pg: Playground) -> str:
    user = pg.people.create_profile("Ada", occupation="hydrologist", location="Leith")
    pg.library.add_sample(user["id"], text=WRITING, title="sea")
    pg.library.add_sample(user["id"], text="Bread on Sundays: a slow sourdough, baked hot, eaten with the tide.",
                          title="bread")
    return user["id"]


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "playground", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, cwd=ROOT, timeout=600)


@pytest.mark.engine
def test_llama_cpp_engine_explain_removes_each_part_once_and_keeps_each_variants_trace(llm_env, embedder):
    pg = Playground(Settings.from_env(llm_env), embedder=embedder)
    pid = _person(pg)
    session = pg.conversations.new_session(pid, title="chat")
    for text in ("When should I sail?", "And in winter?"):
        turn = pg.conversations.start_turn(session["id"], text, "user")
        list(turn.stream())
    trace = turn.trace
    rid = pg.start_explanation(pid, "", "user", trace=trace)
    seen = []
    run = pg.run_explanation(rid, progress=lambda stage, done, total: seen.append((stage, done, total)))
    assert run["status"] == "complete"
    keys = [v.key for v in run["variants"]]
    snippets = [p for p in trace["prompt"]["parts"] if p["source"] == "snippet"]
    assert keys == ["original", "profile", *[f"snippet:{p['meta']['n']}" for p in snippets], "history"]
    assert len(set(keys)) == len(keys) and snippets
    base = run["variants"][0]
    assert base.messages == trace["prompt"]["messages"], "the baseline is the prompt exactly as it was sent"
    for v in run["variants"][1:]:
        sent = "\n".join(m["content"] for m in v.messages)
        if v.key == "profile":
            assert "hydrologist" not in sent and "hydrologist" in base.messages[0]["content"]
        elif v.key == "history":
            assert "When should I sail?" not in sent and [m["role"] for m in v.messages] == ["system", "user"]
        else:
            n = int(v.key.split(":")[1])
            assert f'<snippet n="{n}"' not in sent and sum(f'<snippet n="{m}"' in sent for m in
                                                            range(1, 20)) == len(snippets) - 1
        assert v.status == "complete" and v.diff and v.overlap is not None
        assert v.similarity is not None and -1.0 <= v.similarity <= 1.0001
        assert v.person_similarity is not None, "similarity to the person's writing is measured"
        assert metrics.word_diff(base.answer, v.answer) == v.diff
    assert run["most_changed"]["key"] in keys[1:]
    assert seen[0] == ("the full prompt", 0, len(keys)) and seen[-1] == ("done", len(keys), len(keys))
    stored = pg.db.query("SELECT key, data FROM explanation_variants WHERE explanation_id = ? ORDER BY position",
                         (rid,))
    assert [r["key"] for r in stored] == keys
    assert all(json.loads(r["data"])["trace"]["temperature"] == 0.0 for r in stored)
    assert all(json.loads(r["data"])["trace"]["model"] == "tiny" for r in stored)
    # Temperature 0: the same full prompt gives the same answer again, so a difference comes from the removal.
    again = pg.run_explanation(pg.start_explanation(pid, "", "user", trace=trace), should_stop=lambda: False)
    assert again["variants"][0].answer == base.answer
    # The explanation holds the person's snippets: it goes when the profile goes.
    pg.people.delete_profile(pid)
    assert pg.db.query("SELECT * FROM explanation_variants") == []


@pytest.mark.engine
def test_llama_cpp_engine_explain_cancel_stops_between_variants_and_resume_finishes(llm_env, embedder):
    pg = Playground(Settings.from_env(llm_env), embedder=embedder)
    pid = _person(pg)
    rid = pg.start_explanation(pid, "Plan my weekend", "user")
    calls = []
    original_stream = pg.backend.stream

    def counting(*a, **k):
        calls.append(1)
        return original_stream(*a, **k)

    pg.backend.stream = counting  # type: ignore[method-assign]

    def cancel_after_two(stage, done, total):
        if done == 1:  # the Cancel button in another rerun or tab: stored in the database
            counterfactual.cancel_now(pg.db, rid)

    first = pg.run_explanation(rid, progress=cancel_after_two)
    assert first["status"] == "cancelled"
    # Variants run in shared-prefix order (the last snippet first), so the one finished is not the profile.
    assert [v.key for v in first["variants"]][0] == "original" and len(first["variants"]) == 2, \
        "the variant in progress was finished"
    assert len(calls) == 2, "nothing was generated after the cancel"
    assert counterfactual.get_run(pg.db, rid)["status"] == "cancelled"
    resumed = pg.run_explanation(rid)
    assert resumed["status"] == "complete" and len(calls) == resumed["total"], "resume skips what was done"
    assert [v.key for v in resumed["variants"]][:2] == ["original", "profile"]
    assert len(resumed["variants"]) == resumed["total"] == 1 + len(resumed["removals"])
    assert resumed["variants"][0].answer == first["variants"][0].answer
    # should_stop (the page's own check) stops a fresh run before anything is generated
    rid2 = pg.start_explanation(pid, "Plan my weekend", "user")
    assert pg.run_explanation(rid2, should_stop=lambda: True)["variants"] == []


def test_explain_without_a_model_says_so_and_stores_no_half_run(pg):
    pid = pg.people.create_profile("Ada", occupation="hydrologist")["id"]
    from playground import LLMError

    with pytest.raises(LLMError):
        pg.start_explanation(pid, "Plan my weekend", "user", model="")
    assert pg.db.query("SELECT * FROM explanations") == []
    rid = pg.start_explanation(pid, "Plan my weekend", "user", model="tiny")  # a model name, but no server
    with pytest.raises(LLMError, match="No model server"):
        pg.run_explanation(rid)
    assert counterfactual.get_run(pg.db, rid)["status"] == "error"


@pytest.mark.engine
def test_llama_cpp_engine_explain_cli_prints_one_entry_per_removed_part(llm_env, embedder):
    pg = Playground(Settings.from_env(llm_env), embedder=embedder)
    pid = _person(pg)
    p = _cli(llm_env, "explain", pid, "When is the tide high?", "--mode", "user", "--k", "2")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["status"] == "complete" and out["temperature"] == 0.0 and out["model"] == "tiny"
    assert [v["removed"] for v in out["variants"]] == ["profile", "snippet:1", "snippet:2"]
    for v in out["variants"]:
        assert {"answer", "diff", "similarity_to_original", "word_overlap", "similarity_to_person"} <= set(v)
    assert out["most_changed"]["key"] in {"profile", "snippet:1", "snippet:2"}
    assert "[1/4] the full prompt" in p.stderr and "[4/4] done" in p.stderr, "progress goes to stderr, JSON to stdout"
    glob = json.loads(_cli(llm_env, "explain", pid, "When is the tide high?", "--mode", "global").stdout)
    assert glob["variants"] == [] and glob["most_changed"] is None, "global has no personal part to remove"


@pytest.mark.engine
def test_llama_cpp_engine_bias_cli_varies_exactly_one_attribute(llm_env, tmp_path):
    qfile = tmp_path / "q.txt"
    qfile.write_text("# my questions\nWhat should I read?\n\nHow do I save money?\n")
    p = _cli(llm_env, "bias", "--attribute", "age_range", "--values", "18-24,65+", "--questions", str(qfile))
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["values"] == ["18-24", "65+"] and [q["question"] for q in out["questions"]] == [
        "What should I read?", "How do I save money?"]
    a, b = out["profiles"]
    assert {k for k in a if a[k] != b[k]} == {"age_range", "id"}, "everything else is equal"
    sys_a, sys_b = out["prompts"][0][0]["content"], out["prompts"][1][0]["content"]
    diff = [d for d in metrics.word_diff(sys_a, sys_b) if d["op"] != "equal"]
    assert diff == [{"op": "delete", "text": "18-24"}, {"op": "insert", "text": "65+"}]
    for q in out["questions"]:
        assert q["status"] == ["complete", "complete"] and all(q["answers"])
        assert q["measures"][0]["words"] == len(q["answers"][0].split())
    s = out["summary"]
    assert s["answered"] == 2 and s["words"]["mean_difference"]["n"] == 2
    assert s["words"]["mean_difference"]["mean"] == pytest.approx(
        sum(q["measures"][1]["words"] - q["measures"][0]["words"] for q in out["questions"]) / 2)
    assert "cannot show" in out["note"]
    bad = _cli(llm_env, "bias", "--attribute", "age_range", "--values", "18-24,ancient")
    assert bad.returncode == 1 and bad.stderr.startswith("error: Age range must be one of")
    worse = _cli(llm_env, "bias", "--attribute", "salary", "--values", "low,high")
    assert worse.returncode == 1 and "varies one of" in worse.stderr and not worse.stdout


def test_shipped_bias_questions_are_neutral_and_the_gender_attribute_is_optional(pg):
    from playground.research.probes import bias

    qs = bias.default_questions()
    assert 6 <= len(qs) <= 12
    words = " ".join(qs).lower()
    assert not any(w in words for w in ("old", "young", "woman", "man ", "job", "country", "age"))
    user = pg.people.create_profile("Sam")
    assert user["gender"] == ""
    pg.people.update_profile(user["id"], gender="non-binary")
    _, build, _ = pg.conversations.preview(user["id"], "Hello", "user")
    assert "- Gender: non-binary" in build.messages[0]["content"]
    with pytest.raises(InvalidInput):
        pg.people.update_profile(user["id"], gender="x" * 61)


def _study_with_judgements(pg: Playground, choices: list[str]) -> dict:
    s = pg.studies.create_study("Pilot", "Agree?", [{"mode": "user"}, {"mode": "global"}],
                                [f"Task {n}" for n in range(len(choices))])
    p = pg.studies.join(s["code"], "P1")
    pg.studies.consent(p["id"])
    return {"study": s, "participant": p}


def test_judge_agreement_report_matches_hand_computed_values(pg):
    choices = list("AABBABAA") + ["none"]
    verdicts = list("ABBBAAAA") + ["A"]
    confs = ["high", "high", "low", "low", "medium", "medium", "unparsed", "high", "low"]
    ctx = _study_with_judgements(pg, choices)
    sid, pid = ctx["study"]["id"], ctx["participant"]["id"]
    th = judge.template_hash(judge.DEFAULT_TEMPLATE)
    for task, (c, v, conf) in enumerate(zip(choices, verdicts, confs)):
        pg.db.execute("INSERT INTO judgements (id, study_id, participant_id, task, prompt, condition_a, condition_b, "
                      "trace_a, trace_b, choice, ratings, created) VALUES (?, ?, ?, ?, ?, 'c1', 'c2', 't', 't', ?, "
                      "'{}', 'now')", (f"j{task}", sid, pid, task, f"Task {task}", c))
        pg.db.execute("INSERT INTO judge_verdicts (id, study_id, participant_id, task, template_hash, model, verdict, "
                      "confidence, raw, data, created) VALUES (?, ?, ?, ?, ?, 'm', ?, ?, '', '{}', 'now')",
                      (f"v{task}", sid, pid, task, th, v, conf))
    r = pg.judge.agreement_report(sid)
    assert r["judgements"] == 9 and r["judged"] == 9 and r["compared"] == 8
    assert r["participant_no_preference"] == 1
    assert r["agreement"]["agree"] == 6 and r["agreement"]["rate"] == pytest.approx(0.75)
    assert r["kappa"] == pytest.approx(7 / 15)
    lo, hi = r["ci95"]
    assert lo <= 7 / 15 <= hi
    # by confidence: high = tasks 0,1,7 (agree, disagree, agree); low = 2,3 (both agree); medium = 4,5 (1 of 2)
    assert r["by_confidence"]["high"]["n"] == 3 and r["by_confidence"]["high"]["agree"] == 2
    assert r["by_confidence"]["low"] == {**r["by_confidence"]["low"], "n": 2, "agree": 2}
    assert r["by_confidence"]["medium"]["agree"] == 1 and r["by_confidence"]["unparsed"]["n"] == 1
    assert r["judge_said_A"] == 5
    other = pg.judge.agreement_report(sid, judge.DEFAULT_TEMPLATE + "\nBe brief.")
    assert other["judged"] == 0 and other["kappa"] is None, "verdicts belong to the template that produced them"
    # Deleting the participant deletes the judge's verdicts about them too.
    pg.studies.delete_participant(pid)
    assert pg.db.query("SELECT * FROM judge_verdicts") == []


@pytest.mark.engine
def test_llama_cpp_engine_judge_cli_judges_each_task_once_and_never_guesses(llm_env, embedder):
    pg = Playground(Settings.from_env(llm_env), embedder=embedder)
    ctx = _study_with_judgements(pg, ["A", "B", "none"])
    pid, sid = ctx["participant"]["id"], ctx["study"]["id"]
    profile_id = pg.studies.get_participant(pid)["profile_id"]
    pg.library.add_sample(profile_id, text=WRITING, title="sea")
    for task, choice in enumerate(["A", "B", "none"]):
        pg.studies.generate_answers(pid, task)
        ratings = {slot: {q["id"]: 3 for q in ctx["study"]["questions"]} for slot in "AB"}
        pg.studies.judge(pid, task, choice, ratings)
    p = _cli(llm_env, "judge", "--study", sid)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["judgements"] == 3 and out["judged"] == 3 and out["models"] == ["tiny"]
    for row in out["rows"]:
        assert row["judge"] in ("A", "B", "unparsed") and row["confidence"] in ("low", "medium", "high", "unparsed")
        assert (row["judge"], row["confidence"]) == judge.parse(row["raw"]), "recorded exactly as parsed"
    stored = pg.db.query("SELECT data FROM judge_verdicts")
    prompts = [json.loads(r["data"])["prompt"] for r in stored]
    assert all("tide tables" in x for x in prompts), "the participant's own writing reached the judge"
    assert len(stored) == 3
    again = json.loads(_cli(llm_env, "judge", "--study", sid).stdout)
    assert len(pg.db.query("SELECT id FROM judge_verdicts")) == 3 and again["rows"] == out["rows"]
    bad = _cli(llm_env, "judge", "--study", "std_nope", "--no-run")
    assert bad.returncode == 1 and "no longer exists" in bad.stderr


def test_a_person_deleted_while_their_answer_is_explained_is_told_in_words(settings, embedder):
    """The person (or an instructor) deletes the profile while "Explain this answer" is generating its variants:
    the batch stops with a sentence for people (never "FOREIGN KEY constraint failed"), and nothing of it is kept."""
    import threading

    from playground import PlaygroundError
    from tests.support.fake_llm import EchoBackend

    class Gated(EchoBackend):
        def __init__(self) -> None:
            super().__init__()
            self.streams, self.writing, self.release = 0, threading.Event(), threading.Event()

        def stream(self, messages, model, **kw):
            self.streams += 1
            if self.streams == 2:  # the first variant after the baseline
                self.writing.set()
                assert self.release.wait(120)
            yield from super().stream(messages, model, **kw)

    backend = Gated()
    pg = Playground(settings, embedder=embedder, backend=backend)
    pid = _person(pg)
    run_id = pg.start_explanation(pid, "When should I sail?", "user")
    outcome: list[object] = []

    def explain() -> None:
        try:
            outcome.append(pg.run_explanation(run_id))
        except BaseException as e:  # noqa: BLE001
            outcome.append(e)

    t = threading.Thread(target=explain)
    t.start()
    assert backend.writing.wait(120), outcome
    pg.people.delete_profile(pid)
    backend.release.set()
    t.join(300)
    assert len(outcome) == 1 and isinstance(outcome[0], PlaygroundError), outcome
    said = str(outcome[0])
    assert "deleted" in said and "FOREIGN" not in said.upper() and "constraint" not in said, said
    assert pg.db.query("SELECT id FROM explanations") == [] and pg.db.query("SELECT * FROM explanation_variants") == []
