"""On real stores: the trained attribution method from the CLI and over stored profiles, the style card
(cached, stale when samples change, an edit never overwritten, a labelled prompt part, gone with its profile), and
the style metrics of the held-out evaluation with the real llama.cpp engine."""

import json
import os
import sqlite3
import subprocess
import sys

import pytest

from playground import Settings
from playground.research.attribution import Doc, attribute
from playground.research.eval_stats import paired_table
from tests.conftest import FEDERALIST, ROOT

UNDISPUTED = ["--drop-where", "traditionally_disputed=true", "--drop-where", "author=MADISON_HAMILTON"]
CHATTY = ["omg lol the bus was late AGAIN!! i was sooo mad. whatever haha. u coming to the game tmrw?? lol",
          "yay pizza night!!! best. day. ever. my sister burnt the garlic bread lol. ttyl :)"]
PLAIN = ["Our committee met on Tuesday to review the budget for the spring fair. The treasurer reported that the "
         "costs of the marquee have risen, and we agreed to seek a second quotation before the next meeting."]


def undisputed(federalist):
    return [r for r in federalist if not r["traditionally_disputed"] and r["author"] != "MADISON_HAMILTON"]


def test_trained_attribution_recognises_the_federalist_authors(federalist):
    docs = [Doc(r["author"], r["doc_id"], r["text"]) for r in undisputed(federalist)]
    result = attribute(docs, "trained")
    assert result.folds == 5 and "5-fold" in result.protocol
    # 66 of 70 at least: Madison's No. 10 sits 0.007 from the boundary and goes either way between installs.
    assert result.accuracy >= 0.94 > result.majority_baseline
    assert result.authors["MADISON"]["recognisable"] >= 11 / 14 - 1e-3
    assert sum(sum(row.values()) for row in result.confusion.values()) == 70


def test_attribution_cli_states_the_k_fold_protocol_for_the_trained_method(tmp_path):
    env = {**os.environ, "PLAYGROUND_DATA_DIR": str(tmp_path / "d")}
    p = subprocess.run([sys.executable, "-m", "playground", "attribution", "--corpus", str(FEDERALIST),
                        "--author-field", "author", "--text-field", "text", *UNDISPUTED, "--per-author", "5",
                        "--method", "trained", "--folds", "5"],
                       capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["method"] == "trained" and out["folds"] == 5 and out["n"] == 15
    assert out["protocol"].startswith("stratified 5-fold cross-validation") and "other 4 folds only" in out["protocol"]
    assert {"accuracy", "majority_baseline", "chance_baseline", "seconds"} <= set(out)


def test_trained_attribution_over_stored_profiles_with_two_samples_each_uses_two_folds(pg):
    kid, clerk = pg.people.create_profile("Kid"), pg.people.create_profile("Clerk")
    for text in CHATTY:
        pg.library.add_sample(kid["id"], text=text)
    for text in PLAIN + [PLAIN[0].replace("Tuesday", "Friday").replace("spring fair", "harvest supper")]:
        pg.library.add_sample(clerk["id"], text=text)
    result = attribute(pg.attribution.profile_docs(), "trained")
    assert result.n == 4 and result.folds == 2 and "2-fold" in result.protocol


def test_style_card_is_cached_goes_stale_keeps_an_edit_and_enters_the_prompt_as_a_labelled_part(pg):
    user = pg.people.create_profile("Kim")
    assert pg.style.ensure(user["id"]) is None, "no writing, no card"
    pg.library.add_sample(user["id"], text=CHATTY[0])
    first = pg.style.ensure(user["id"])
    assert "“lol”" in first["text"] and not first["stale"] and not first["edited"]
    assert all(line["evidence"] for line in first["lines"])
    assert pg.style.ensure(user["id"])["updated"] == first["updated"], "cached while the samples are the same"

    _, build, _ = pg.conversations.preview(user["id"], "Plan my weekend", "user", use_style_card=True)
    part = next(p for p in build.parts if p.source == "style")
    assert part.label == "style card" and first["text"] in part.text and part.tokens > 0
    _, without, _ = pg.conversations.preview(user["id"], "Plan my weekend", "user")
    assert not any(p.source == "style" for p in without.parts), "off unless switched on"
    _, glob, _ = pg.conversations.preview(user["id"], "Plan my weekend", "global", use_style_card=True)
    assert not any(p.source == "style" for p in glob.parts), "global mode carries no personal style"

    pg.library.add_sample(user["id"], text=CHATTY[1])
    assert pg.style.get(user["id"])["stale"]
    remeasured = pg.style.ensure(user["id"])
    assert not remeasured["stale"] and len(remeasured["sources"]) == 2, "not edited: measured again"

    mine = "Short, cheerful messages; I like exclamation marks."
    pg.style.save(user["id"], mine)
    pg.library.add_sample(user["id"], text=PLAIN[0])
    kept = pg.style.ensure(user["id"])
    assert kept["text"] == mine and kept["edited"] and kept["stale"], "an edit is never overwritten"
    _, build, _ = pg.conversations.preview(user["id"], "Plan my weekend", "user", use_style_card=True)
    part = next(p for p in build.parts if p.source == "style")
    assert mine in part.text and "edited by them" in part.text and "samples changed since" in part.label

    assert not pg.style.measure(user["id"])["edited"], "measuring again on request replaces the edit"
    pg.people.delete_profile(user["id"])
    with sqlite3.connect(pg.settings.db_path) as db:
        assert db.execute("SELECT count(*) FROM profile_style_cards").fetchone()[0] == 0


def test_persona_mode_gets_the_personas_style_card_from_its_examples(pg):
    user = pg.people.create_profile("Kim", persona_id="psoups-concise")
    _, build, _ = pg.conversations.preview(user["id"], "Plan my weekend", "persona", use_style_card=True)
    part = next(p for p in build.parts if p.source == "style")
    assert part.label == "style card · persona" and "Get to the point" in part.text
    assert "short sentences" in part.text, part.text


@pytest.mark.engine
def test_llama_cpp_engine_evaluation_reports_style_metrics_and_the_card_never_sees_the_held_out_text(llm_env,
                                                                                                     embedder):
    from playground import Playground

    pg = Playground(Settings.from_env(llm_env), embedder=embedder)
    kim, clerk = pg.people.create_profile("Kim"), pg.people.create_profile("Clerk")
    for text in (PLAIN[0], PLAIN[0].replace("Tuesday", "Friday")):
        pg.library.add_sample(kim["id"], text=text)
    pg.library.add_sample(kim["id"], text="lmao lmao omg lmao!!! " * 8, title="held out")
    for text in CHATTY:
        pg.library.add_sample(clerk["id"], text=text)
    held = [pg.library.list_samples(kim["id"])[-1]["id"]]
    attributor = pg.evaluation.build_attributor(pg.people.list_profiles(), held)
    result = pg.evaluation.evaluate_profile(kim["id"], holdout=held, conditions=["user", "user+style", "global"],
                                            max_tokens=16, attributor=attributor)
    rows = {r.condition: r for r in result.rows}
    assert set(rows) == {"user", "user+style", "global"} and not any(r.error for r in rows.values())
    style_prompt = " ".join(m["content"] for m in rows["user+style"].messages)
    assert "Style card of this person" in style_prompt and "lmao" not in style_prompt.split("<snippet")[0]
    assert "Style card" not in " ".join(m["content"] for m in rows["user"].messages)
    for r in rows.values():
        assert r.attributed in (0.0, 1.0) and r.style_distance is not None and r.style_distance >= 0
    summary = result.summary()
    assert summary["user+style"]["n"] == 1 and summary["user+style"]["style_distance"] is not None
    paired = paired_table(result.rows, "user+style", "user", ["attributed", "style_distance"])
    assert paired["style_distance"]["n"] == 1
