"""Studies that run online: on the engine and the CLI: a study created from a TOML file, joined with a
platform's participant id, held to a minimum number of tasks, with an attention check and a completion code; the
researcher's preview leaves nothing in the data; status, export (CSV, JSONL, codebook) and delete-participant print
JSON like the other subcommands."""

import csv
import json

import pytest

from playground import InvalidInput

# The fake embedder (tests/support/fake_embedder.py): joining, task counts and completion: nothing here depends on how
# good embeddings are.
pytestmark = pytest.mark.fake_embedder

TOML = '''
name = "Online pilot"
consent = "I agree to take part."
prompts = ["Plan my weekend.", "Explain taxes to me.", "What should I cook?"]
conditions = [{mode = "user"}, {mode = "global"}]
questions = [{id = "voice", text = "It sounds like me."}]

[online]
participant_param = "PROLIFIC_PID"
study_param = "STUDY_ID"
session_param = "SESSION_ID"
completion_code = "C1A2B3"
redirect_url = "https://app.prolific.com/submissions/complete?cc=C1A2B3"
min_tasks = 1
attention_check = true
'''


def fake_answers(pg, p, task):
    for slot, cid in zip("AB", p["pairs"][task]):
        pg.studies.log_event(p["id"], "answer", {"task": task, "slot": slot, "condition": cid, "trace_id": f"t{slot}",
                                                 "text": "An answer " * (3 if slot == "A" else 9), "status": "complete",
                                                 "snippets": []})


def test_online_participant_needs_the_minimum_then_gets_the_completion_code(pg):
    s = pg.studies.create_study("Online", "Agree?", [{"mode": "user"}, {"mode": "global"}], ["a?", "b?", "c?"],
                                settings={"participant_param": "PROLIFIC_PID", "completion_code": "C1A2B3", "min_tasks": 2,
                                          "attention_check": True})
    p = pg.studies.join(s["code"], "5f3c0a1b2c3d4e5f6a7b8c9d", external={"study": "S1", "session": "X9"})
    pg.studies.consent(p["id"])
    assert pg.studies.answer_attention(p["id"], "Red") is False
    assert pg.studies.answer_attention(p["id"], "Purple") is False, "the first answer counts"
    fake_answers(pg, p, 0)
    pg.studies.judge(p["id"], 0, "B", {})
    with pytest.raises(InvalidInput, match="at least 2 tasks"):
        pg.studies.finish(p["id"])
    fake_answers(pg, p, 1)
    pg.studies.judge(p["id"], 1, "A", {})
    assert pg.studies.finish(p["id"])["completion_code"] == "C1A2B3"
    with pytest.raises(Exception, match="no longer valid"):
        pg.studies.resume(p["resume_token"])
    [row, _] = list(csv.DictReader(__import__("io").StringIO(pg.studies.export_csv(s["id"]))))
    assert row["platform_study_id"] == "S1" and row["platform_session_id"] == "X9"
    assert row["attention_passed"] == "False" and row["words_b"] == "18"


def test_the_preview_counts_nothing_and_leaves_nothing(pg):
    s = pg.studies.create_study("Online", "Agree?", [{"mode": "user"}, {"mode": "global"}], ["a?"],
                                settings={"completion_code": "DONE"})
    with pytest.raises(InvalidInput, match="preview link"):
        pg.studies.join(s["code"], "", preview_key="guessed")
    key = pg.studies.new_preview_key(s["id"])
    real = pg.studies.join(s["code"], "P01")
    preview = pg.studies.join(s["code"], "", preview_key=key)
    assert preview["preview"]
    pg.studies.consent(preview["id"])
    fake_answers(pg, preview, 0)
    pg.studies.judge(preview["id"], 0, "A", {})
    assert [p["code"] for p in pg.studies.progress(s["id"])] == ["P01"]
    assert pg.studies.summary(s["id"])["judgements"] == 0 and "preview" not in pg.studies.export_jsonl(s["id"])
    assert pg.studies.finish(preview["id"])["completion_code"] == "DONE"
    assert pg.db.query("SELECT id FROM participants WHERE study_id = ?", (s["id"],)) == [{"id": real["id"]}]
    assert not pg.db.query("SELECT 1 FROM profiles WHERE id = ?", (preview["profile_id"],))
    assert pg.studies.join(s["code"], "P02")["position"] == 1, "the preview took no place in counterbalancing"


def test_a_preview_left_unfinished_is_gone_with_its_answers_when_the_study_closes(pg):
    """The researcher previews, answers a task and closes the tab without finishing: closing the study removes
    the preview, its answers and traces, and the preview link no longer resumes it."""
    s = pg.studies.create_study("Online", "Agree?", [{"mode": "user"}, {"mode": "global"}], ["a?"])
    real = pg.studies.join(s["code"], "P01")
    preview = pg.studies.join(s["code"], "", preview_key=pg.studies.new_preview_key(s["id"]))
    pg.studies.consent(preview["id"])
    fake_answers(pg, preview, 0)
    pg.studies.judge(preview["id"], 0, "A", {})
    assert pg.db.query("SELECT 1 FROM study_events WHERE participant_id = ? AND kind = 'answer'", (preview["id"],))
    pg.studies.close_study(s["id"])
    assert pg.db.query("SELECT id FROM participants WHERE study_id = ?", (s["id"],)) == [{"id": real["id"]}]
    assert not pg.db.query("SELECT 1 FROM profiles WHERE id = ?", (preview["profile_id"],))
    assert not pg.db.query("SELECT 1 FROM study_events WHERE participant_id = ?", (preview["id"],))
    assert not pg.db.query("SELECT 1 FROM judgements WHERE participant_id = ?", (preview["id"],))
    with pytest.raises(Exception, match="no longer valid|not valid"):
        pg.studies.resume(preview["resume_token"])


def test_study_as_code_from_the_cli(cli, tmp_path):
    config = tmp_path / "study.toml"
    config.write_text(TOML)
    made = json.loads(cli("study", "create", "--config", str(config)).stdout)
    assert made["settings"]["participant_param"] == "PROLIFIC_PID" and made["questions"][0]["id"] == "voice"
    assert made["settings"]["attention_check"]["answer"] == "Purple"
    status = json.loads(cli("study", "status", "--study", made["code"]).stdout)
    assert status["participants"] == 0 and status["open"] is True
    out = tmp_path / "export"
    exported = json.loads(cli("study", "export", "--study", made["id"], "--out", str(out)).stdout)
    assert exported["files"] == ["codebook.json", "events.jsonl", "judgements.csv"]
    codebook = json.loads((out / "codebook.json").read_text())
    header = (out / "judgements.csv").read_text().splitlines()[0].split(",")
    assert set(header) == set(codebook["csv_columns"]) and "rating_a_voice" in header
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nconsent = "y"\nprompts = ["p"]\nconditions = [{mode = "user"}, {mode = "global"}]\n'
                   '[online]\nredirect_url = "javascript:alert(1)"\n')
    failed = cli("study", "create", "--config", str(bad), ok=False)
    assert failed.returncode == 1 and "https://" in failed.stderr and "Traceback" not in failed.stderr
    gone = cli("study", "delete-participant", "--study", made["code"], "--participant", "nobody", ok=False)
    assert gone.returncode == 1 and "no participant" in gone.stderr


def test_cli_delete_participant_by_look_alike_id(cli, tmp_path):
    config = tmp_path / "study.toml"
    config.write_text(TOML)
    made = json.loads(cli("study", "create", "--config", str(config)).stdout)
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT
    env = {**os.environ, "PLAYGROUND_DATA_DIR": str(tmp_path / "data")}
    subprocess.run([sys.executable, "-c", "import sys; from playground import Playground, Settings; "
                    "pg = Playground(Settings.from_env()); "
                    f"pg.studies.join({made['code']!r}, 'ABC123')"], env=env, cwd=ROOT, check=True, timeout=120)
    assert json.loads(cli("study", "status", "--study", made["code"]).stdout)["participants"] == 1
    deleted = json.loads(cli("study", "delete-participant", "--study", made["code"], "--participant", "abc123").stdout)
    assert deleted["deleted"].startswith("par")
    assert json.loads(cli("study", "status", "--study", made["code"]).stdout)["participants"] == 0
