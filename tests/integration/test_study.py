"""Study mode on the engine: set-up checks, counterbalancing, blind task views, the full participant flow with a real
llama.cpp engine, exports that round-trip through pandas, and deletion of one participant everywhere."""

import io
import json

import pandas as pd
import pytest

from playground import InvalidInput, NotFound, Playground, Settings
from playground.research import study as st
from tests.integration.helpers import chroma_mentions, sqlite_mentions

# The fake embedder (tests/support/fake_embedder.py): set-up checks, counterbalancing, records and deletion: nothing
# here depends on how good embeddings are.
pytestmark = pytest.mark.fake_embedder

CONDITIONS = [{"mode": "user"}, {"mode": "global"}]
PROMPTS = ["Plan my weekend.", "Explain taxes to me."]


def make(pg, **kw):
    args = dict(name="Pilot", consent_text="I agree to take part.", conditions=CONDITIONS, prompts=PROMPTS)
    args.update(kw)
    return pg.studies.create_study(**args)


def test_study_setup_is_checked(pg):
    with pytest.raises(InvalidInput, match="two different conditions"):
        make(pg, conditions=[{"mode": "user"}, {"mode": "user"}])
    with pytest.raises(InvalidInput, match="consent"):
        make(pg, consent_text=" ")
    with pytest.raises(InvalidInput, match="task prompt"):
        make(pg, prompts=["  "])
    s = make(pg)
    assert len(s["code"]) == 6 and [c["label"] for c in s["conditions"]] == ["user · dense", "global · dense"]
    assert pg.studies.study_by_code(s["code"].lower())["id"] == s["id"]
    with pytest.raises(NotFound, match="no study"):
        pg.studies.study_by_code("NOPE42")


def test_within_subject_order_is_counterbalanced_and_joining_again_resumes(pg):
    s = make(pg)
    p1, p2 = pg.studies.join(s["code"], "P01"), pg.studies.join(s["code"], "P02")
    assert p1["pairs"][0] == ["c1", "c2"] and p2["pairs"][0] == ["c2", "c1"]
    assert p1["pairs"][1] == ["c2", "c1"], "the A/B position alternates across tasks too"
    assert pg.studies.join(s["code"], "P01", p1["resume_token"])["id"] == p1["id"]  # the ID alone is not enough
    assert pg.people.get_profile(p1["profile_id"])["display_name"] == "Participant P01"


def test_blind_task_view_never_names_a_condition(pg):
    s = make(pg, blind=True)
    p = pg.studies.join(s["code"], "P01")
    view = json.dumps(pg.studies.task_view(p["id"], 0))
    assert not any(word in view for word in ("user", "global", "dense", "c1", "c2", "labels"))
    labelled = make(pg, blind=False)
    q = pg.studies.join(labelled["code"], "P01")
    assert pg.studies.task_view(q["id"], 0)["labels"] == {"A": "user · dense", "B": "global · dense"}


def test_answers_need_consent(pg):
    s = make(pg)
    p = pg.studies.join(s["code"], "P01")
    with pytest.raises(InvalidInput, match="consent"):
        pg.studies.generate_answers(p["id"], 0)


def test_wilson_interval():
    lo, hi = st.wilson(8, 10)
    assert 0.49 < lo < 0.5 and 0.94 < hi < 0.95
    assert st.wilson(0, 0) == (0.0, 1.0)


@pytest.mark.engine
def test_llama_cpp_engine_full_participant_flow_export_and_deletion(llm_env, embedder):
    pg = Playground(Settings.from_env(llm_env), embedder=embedder)
    s = make(pg)
    other = pg.studies.join(s["code"], "P00")
    p = pg.studies.join(s["code"], "P01")
    for who in (other, p):
        pg.studies.consent(who["id"])
        pg.library.add_sample(who["profile_id"], text=f"I love hiking and baking bread on weekends. {who['code']}")
    for task in range(len(PROMPTS)):
        view = pg.studies.generate_answers(p["id"], task)
        assert view["answers"]["A"]["text"].strip() and view["answers"]["B"]["text"].strip()
        with pytest.raises(InvalidInput, match="Ratings for answer A are 1 to 5"):
            pg.studies.judge(p["id"], task, "A", {"A": {"tone": 9}, "B": {}})
        with pytest.raises(InvalidInput, match="Ratings for answer B"):
            pg.studies.judge(p["id"], task, "A", {"A": {"tone": 4}, "B": {"how I feel": 3}})
        user_slot = "AB"[p["pairs"][task].index("c1")]  # where counterbalancing put the user condition
        pg.studies.judge(p["id"], task, [user_slot, "none"][task],
                         {"A": {"tone": 4, "relevance": 5, "accuracy": 3}, "B": {"tone": 2, "relevance": 2, "accuracy": 3}},
                         "A sounded like me.")
    pg.studies.generate_answers(other["id"], 0)
    assert other["pairs"][0] == ["c1", "c2"] and p["pairs"][0] == ["c2", "c1"]
    pg.studies.judge(other["id"], 0, "A", {"A": {"tone": 1, "relevance": 1, "accuracy": 1},
                                           "B": {"tone": 5, "relevance": 5, "accuracy": 5}})
    assert [r["done"] for r in pg.studies.progress(s["id"])] == [1, 2]

    frame = pd.read_csv(io.StringIO(pg.studies.export_csv(s["id"])))
    assert list(frame.columns) == st.csv_columns(s) and len(frame) == 3
    assert set(frame["preferred_condition"].fillna("")) == {"user · dense", ""}
    assert frame.loc[frame["participant"] == "P01", "rating_a_relevance"].tolist() == [5, 5]
    events = pd.read_json(io.StringIO(pg.studies.export_jsonl(s["id"])), lines=True)
    assert {"join", "consent", "answer", "judgement"} <= set(events["kind"])
    answer = next(e for e in events["data"] if "trace" in e)
    assert answer["trace"]["prompt"]["messages"] and "hits" in answer["trace"]

    summary = pg.studies.summary(s["id"])
    user = summary["conditions"]["user · dense"]
    assert user["shown"] == 3 and user["wins"] == 2 and user["ties"] == 1 and user["win_rate"] == 1.0
    assert summary["conditions"]["global · dense"]["losses"] == 2

    mine = pg.studies.export_participant(p["id"])
    assert mine["participant"]["code"] == "P01" and len(mine["judgements"]) == 2 and mine["samples"]
    pg.studies.delete_participant(p["id"])
    for needle in (p["id"], p["profile_id"]):
        assert sqlite_mentions(pg, needle) == [] and chroma_mentions(pg, needle) == []
    assert len(pd.read_csv(io.StringIO(pg.studies.export_csv(s["id"])))) == 1, "the other participant's data stays"
