"""The Beyond prompting page: the routes on the pipeline diagram, what each needs and what was collected, the
per-person training export, and study preference pairs only for an unlocked admin."""

import json

from playground import Playground, Settings
from playground.research.routes import ROUTES
from tests.app.conftest import button, make_user, no_errors, start, texts

WRITING = ("I sail on the estuary every weekend. The tide tables rule my life, and I plan every trip around the ebb. "
           "When I misjudge it, the mud teaches me patience.")


def download(at, label: str):
    found = [d for d in at.get("download_button") if d.proto.label == label]
    return found[0] if found else None


def test_routes_sit_on_the_pipeline_and_say_what_they_need_and_what_is_collected(no_llm_env, set_env):
    at = start(no_llm_env, set_env)
    assert any(link.proto.label == "Beyond prompting" for link in at.sidebar.get("page_link"))
    pid = make_user(at, "Ada", WRITING)
    at.switch_page("pages/9_Beyond_prompting.py").run()
    no_errors(at)
    dot = at.get("graphviz_chart")[0].proto.spec
    for stage in ("retrieve", "prompt", "llm"):
        assert f"{stage} [" in dot, "the playground's own pipeline is the diagram"
    assert all(f"route_{r.id}" in dot for r in ROUTES)
    page = texts(at)
    assert "OPPU" in page and "Tan et al., 2024" in page and "What data it needs" in page

    at.radio(key="beyond_route").set_value("hydra").run()
    dot = at.get("graphviz_chart")[0].proto.spec
    assert "route_hydra -> retrieve" in dot and "route_hydra -> llm" in dot
    assert 'retrieve [color="#c0392b"' in dot, "the stages the chosen route changes are highlighted"
    collected = next(d.value for d in at.dataframe if "everyone" in d.value.columns)
    assert collected.loc[collected["data"].str.startswith("chunks"), "active profile"].tolist() == [1]

    assert "pairs from Ada's writing" in texts(at)
    assert download(at, "Download training set (JSONL)") is not None
    preview = json.loads(at.json[0].value)  # the first pairs, as the download holds them
    assert {r["user_id"] for r in preview} == {pid} and preview[0]["output"] in WRITING
    assert download(at, "Download preference pairs (JSONL)") is None
    assert "unlock the Study admin page" in texts(at), "study data needs the admin passphrase"


def test_an_unlocked_admin_exports_a_studys_preference_pairs(no_llm_env, set_env):
    env = {**no_llm_env, "PLAYGROUND_ADMIN_PASSPHRASE": "sesame"}
    pg = Playground(Settings.from_env(env))
    s = pg.studies.create_study("Pilot", "I agree.", [{"mode": "user"}, {"mode": "global"}], ["Plan my weekend."])
    p = pg.studies.join(s["code"], "P01")
    pg.studies.consent(p["id"])
    for slot, text in (("A", "Go sailing at the ebb."), ("B", "Stay home.")):
        pg.studies.log_event(p["id"], "answer", {"task": 0, "slot": slot, "condition": "c1", "trace_id": "t",
                                                  "text": text, "status": "complete"})
    pg.studies.judge(p["id"], 0, "A", {x: {"tone": 3, "relevance": 3, "accuracy": 3} for x in "AB"})

    at = start(env, set_env)
    at.switch_page("pages/8_Study_admin.py").run()
    at.text_input(key="admin_pass").input("sesame")
    button(at, "Unlock").click().run()
    at.switch_page("pages/9_Beyond_prompting.py").run()
    no_errors(at)
    assert "1 preference pairs from 1 judgements (left out: none)" in texts(at)
    assert download(at, "Download preference pairs (JSONL)") is not None


def test_a_workshop_can_hide_the_page(no_llm_env, set_env):
    Playground(Settings.from_env(no_llm_env)).workshop.set_preset({"hidden_pages": ["Beyond prompting"]})
    at = start(no_llm_env, set_env)
    assert not any(link.proto.label == "Beyond prompting" for link in at.sidebar.get("page_link"))
    at.switch_page("pages/9_Beyond_prompting.py").run()
    assert "switched off for this workshop" in texts(at)


def test_no_link_on_home_leads_to_a_hidden_page(no_llm_env, set_env):
    at = start(no_llm_env, set_env)
    assert any(link.proto.label == "Open Chat" for link in at.get("page_link"))
    Playground(Settings.from_env(no_llm_env)).workshop.set_preset({"hidden_pages": ["Chat"]})
    at.run()
    labels = [link.proto.label for link in at.get("page_link")]
    assert "Open Chat" not in labels and "Chat" not in labels and "Profile" in labels
