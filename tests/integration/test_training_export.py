"""Exports for the routes beyond prompting, loaded back the way a trainer would load them: a person's writing as
instruction → output pairs with a held-out split (only their own text, no sample in both splits), and a study's
judgements as (prompt, chosen, rejected) pairs whose counts match the judgements."""

import io
import json

import pandas as pd
import pytest

from playground import InvalidInput, NotFound, Playground, Settings
from playground.research.training_export import preference_pairs, to_jsonl, user_training_set

ESSAYS = {
    "Harbours": "The harbour wakes before the town does. Gulls argue over the nets while the first boats slip "
                "out past the breakwater. I have watched this for thirty years and it still feels like a secret. "
                "Nobody else seems to notice how the light changes on the water.",
    "Tides": "Tide tables rule my weekends. I plan every sail around the ebb, and I am rarely wrong about it. "
             "When I am wrong, the estuary teaches me patience in the mud. There are worse teachers than mud.",
    "Knots": "A bowline is the first knot I teach anyone. It holds, and it lets go when you ask it to. Most "
             "people learn it in a minute and forget it in a week. I make them tie it blindfolded until it sticks.",
}
ROUNDS = [("A", "B"), ("B", "A")]


def load(text: str) -> pd.DataFrame:
    return pd.read_json(io.StringIO(text), lines=True)


def test_training_set_holds_only_this_persons_writing_with_a_clean_held_out_split(pg):
    ann, bob = pg.people.create_profile("Ann"), pg.people.create_profile("Bob")
    for title, text in ESSAYS.items():
        pg.library.add_sample(ann["id"], text=text, title=title)
    pg.library.add_sample(bob["id"],
                          text="Bob's marker sentence: zebra quartz violin. I never sail; I grow tomatoes instead "
                  "and count them every evening before supper.", title="Tomatoes")

    frame = load(to_jsonl(user_training_set(pg.db, ann["id"], holdout=0.34)))
    assert set(frame["user_id"]) == {ann["id"]}
    assert {"instruction", "output", "split", "task", "sample_id"} <= set(frame.columns)
    assert (frame["instruction"].str.len() > 0).all() and (frame["output"].str.len() > 0).all()
    titled = frame[frame["task"] == "write_titled"]
    assert sorted(titled["instruction"]) == sorted(f"Write a paragraph titled “{t}”." for t in ESSAYS)
    assert set(frame.loc[frame["task"] == "continue", "instruction"].str[:31]) == {"Continue this text in the same "}
    ann_text = " ".join(ESSAYS.values())
    assert all(out in ann_text for out in frame["output"]), "every output is the person's own text"
    assert not frame.apply(lambda r: "zebra" in r["instruction"] + r["output"], axis=1).any(), "no one else's text"
    test_samples = set(frame.loc[frame["split"] == "test", "sample_id"])
    assert len(test_samples) == 1 and test_samples.isdisjoint(set(frame.loc[frame["split"] == "train", "sample_id"]))
    assert set(frame.loc[frame["split"] == "test", "sample_title"]) == {"Knots"}, "the latest sample is held out"
    # The "continue" pair splits a passage at its first sentence: instruction + output give back the passage.
    row = frame[(frame["task"] == "continue") & (frame["sample_title"] == "Tides")].iloc[0]
    opening = row["instruction"].split("“", 1)[1].rstrip("”")
    assert f"{opening} {row['output']}" == ESSAYS["Tides"]


def test_training_set_edge_cases(pg):
    ann = pg.people.create_profile("Ann")
    assert user_training_set(pg.db, ann["id"]) == []
    pg.library.add_sample(ann["id"], text=ESSAYS["Tides"], title="Tides")
    assert {r["split"] for r in user_training_set(pg.db, ann["id"])} == {"train"}, "one sample: nothing to hold out"
    with pytest.raises(InvalidInput):
        user_training_set(pg.db, ann["id"], holdout=1.0)
    with pytest.raises(NotFound):
        user_training_set(pg.db, "prof_missing")


def _answer(pg, participant, task, slot, text):
    """An answer event as generate_answers logs it (for the skip cases, which need exact texts)."""
    pg.studies.log_event(participant["id"], "answer", {"task": task, "slot": slot, "condition": "c1", "trace_id": "t",
                                                       "text": text, "status": "complete", "model": "m"})


RATINGS = {"A": {"tone": 4, "relevance": 4, "accuracy": 4}, "B": {"tone": 2, "relevance": 2, "accuracy": 2}}


def test_preference_pairs_leave_out_ties_and_identical_answers_and_say_so(pg):
    s = pg.studies.create_study("Pilot", "I agree.", [{"mode": "user"}, {"mode": "global"}], ["One", "Two", "Three"])
    p = pg.studies.join(s["code"], "P01")
    pg.studies.consent(p["id"])
    for task, (a, b) in enumerate([("sunny answer", "rainy answer"), ("same", "same"), ("left", "right")]):
        _answer(pg, p, task, "A", a)
        _answer(pg, p, task, "B", b)
    pg.studies.judge(p["id"], 0, "B", RATINGS)
    pg.studies.judge(p["id"], 1, "A", RATINGS)
    pg.studies.judge(p["id"], 2, "none", RATINGS)
    pairs, summary = preference_pairs(pg.db, s["id"])
    assert summary == {"study_id": s["id"], "judgements": 3, "pairs": 1,
                       "skipped": {"identical answers": 1, "no preference": 1}}
    assert pairs[0]["prompt"] == "One" and pairs[0]["chosen"] == "rainy answer" and pairs[0]["rejected"] == "sunny answer"
    assert pairs[0]["metadata"]["participant"] == "P01" and pairs[0]["metadata"]["chosen_slot"] == "B"
    with pytest.raises(NotFound):
        preference_pairs(pg.db, "std_missing")


@pytest.mark.engine
def test_a_real_study_exports_one_pair_per_preferring_judgement(llm_env, embedder):
    pg = Playground(Settings.from_env(llm_env), embedder=embedder)
    s = pg.studies.create_study("Pilot", "I agree.", [{"mode": "user"}, {"mode": "global"}],
                                ["Plan my weekend.", "Explain taxes to me."])
    people = [pg.studies.join(s["code"], code) for code in ("P01", "P02")]
    for who, (first, second) in zip(people, ROUNDS):
        pg.studies.consent(who["id"])
        pg.library.add_sample(who["profile_id"], text=f"{ESSAYS['Tides']} {who['code']}")
        for task, choice in enumerate((first, "none" if who["code"] == "P02" else second)):
            pg.studies.generate_answers(who["id"], task)
            pg.studies.judge(who["id"], task, choice, RATINGS, "closer to how I write")
    frame = load(to_jsonl(preference_pairs(pg.db, s["id"])[0]))
    pairs, summary = preference_pairs(pg.db, s["id"])
    rows = pg.studies.judgement_rows(s["id"])
    preferring = [r for r in rows if r["choice"] != "none"]
    assert summary["judgements"] == len(rows) == 4
    assert len(frame) == summary["pairs"] == len(preferring) - summary["skipped"].get("identical answers", 0)
    assert len(frame) >= 2, "the tiny model's answers differ between conditions"
    assert list(frame.columns) == ["prompt", "chosen", "rejected", "metadata"]
    assert (frame["chosen"] != frame["rejected"]).all()
    for pair in pairs:
        meta = pair["metadata"]
        who = next(p for p in people if p["code"] == meta["participant"])
        view = pg.studies.task_view(who["id"], meta["task"] - 1)
        assert pair["chosen"] == view["answers"][meta["chosen_slot"]]["text"]
        assert pair["prompt"] == view["prompt"] and meta["chosen_condition"] != meta["rejected_condition"]


def test_cli_exports_training_sets_and_preference_pairs(cli, tmp_path):
    user = json.loads(cli("users", "add", "Ann").stdout)
    for title, text in ESSAYS.items():
        f = tmp_path / f"{title}.txt"
        f.write_text(text)
        cli("samples", "add", user["id"], str(f))
    frame = load(cli("export-training", user["id"]).stdout)
    assert set(frame["user_id"]) == {user["id"]} and set(frame["split"]) == {"train", "test"}
    out = tmp_path / "ann.jsonl"
    summary = json.loads(cli("export-training", user["id"], "--holdout", "0", "--out", str(out)).stdout)
    assert summary["records"] == len(load(out.read_text())) == summary["train"] and summary["test"] == 0
    bad = cli("export-training", user["id"], "--holdout", "2", ok=False)
    assert bad.returncode == 1 and bad.stderr.startswith("error: ") and "held-out share" in bad.stderr
    routes = {r["id"]: r for r in json.loads(cli("routes", "--user", user["id"]).stdout)}
    assert {"oppu", "perpcs", "hydra", "recap", "paa", "pplug", "prism"} == set(routes)
    assert routes["oppu"]["collected"]["samples"] == {"everyone": 3, "user": 3}
    assert routes["prism"]["collected"]["study_judgements"] == {"everyone": 0}
    missing = cli("export-preferences", "--study", "std_nope", ok=False)
    assert missing.returncode == 1 and "study no longer exists" in missing.stderr and "Traceback" not in missing.stderr
