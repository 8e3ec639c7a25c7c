"""The JSON CLI, run as a subprocess exactly as a study script would: JSON on stdout, one readable line on errors."""

import json

import pytest

# The fake embedder (tests/support/fake_embedder.py): argument handling and output shapes, in the CLI child too:
# nothing here depends on how good embeddings are.
pytestmark = pytest.mark.fake_embedder


def test_users_samples_retrieve_prompt_and_delete(cli, tmp_path, federalist):
    essays = [r for r in federalist if r["author"] == "HAMILTON"][:2]
    files = []
    for r in essays:
        f = tmp_path / f"federalist_{r['paper']}.txt"
        f.write_text(r["text"])
        files.append(f)
    (tmp_path / "empty.txt").write_text("")
    user = json.loads(cli("users", "add", "Hamilton").stdout)
    assert user["display_name"] == "Hamilton" and user["id"]
    added = json.loads(cli("samples", "add", user["id"], *map(str, files), str(tmp_path / "empty.txt")).stdout)
    assert [bool(a.get("sample_id")) for a in added] == [True, True, False]
    assert added[0]["chunks"] > 3 and "empty" in added[2]["error"]
    hits = json.loads(cli("retrieve", user["id"], "a standing army and the militia", "--k", "3",
                          "--retriever", "hybrid").stdout)
    assert len(hits) == 3 and all({"text", "score", "rank", "owner", "sample"} <= set(h) for h in hits)
    assert {h["owner"] for h in hits} == {user["id"]}
    prompt = json.loads(cli("prompt", user["id"], "What do you think of taxes?", "--mode", "user").stdout)
    assert {"parts", "messages", "tokens"} <= set(prompt)
    assert any(p["source"] == "snippet" for p in prompt["parts"])
    glob = json.loads(cli("prompt", user["id"], "What do you think of taxes?", "--mode", "global").stdout)
    assert not any(p["source"] in ("snippet", "profile") for p in glob["parts"])
    assert glob["tokens"] < prompt["tokens"]
    assert [u["id"] for u in json.loads(cli("users", "list").stdout)] == [user["id"]]
    cli("users", "delete", user["id"])
    assert json.loads(cli("users", "list").stdout) == []


def test_personas_are_listed_with_their_sources(cli):
    personas = json.loads(cli("personas", "list").stdout)
    assert len(personas) >= 8
    assert all(p["source"].get("dataset") for p in personas)


def test_chat_without_a_model_server_says_how_to_start_ollama(cli):
    user = json.loads(cli("users", "add", "Ada").stdout)
    p = cli("chat", user["id"], "hello", "--mode", "global", ok=False)
    assert p.returncode == 1
    last = p.stderr.strip().splitlines()[-1]
    assert last.startswith("error: Ollama is not running") and "ollama serve" in last
    assert "Traceback" not in p.stderr
    trace = json.loads(p.stderr.strip().splitlines()[0])
    assert trace["status"] == "error" and trace["prompt"]["messages"][-1]["content"] == "hello"


@pytest.mark.parametrize("args,message", [
    (("retrieve", "prof_nobody", "hi"), "no longer exists"),
    (("samples", "add", "prof_nobody", "x.txt"), "no longer exists"),
    (("users", "add", ""), "needs a display name"),
    (("judge", "--study", "S1", "--template", "no/such/judge.txt"), "cannot use no/such/judge.txt: No such file"),
])
def test_errors_are_one_readable_line(cli, args, message):
    p = cli(*args, ok=False)
    assert p.returncode != 0 and p.stdout == ""
    assert p.stderr.count("\n") == 1 and message in p.stderr and "Traceback" not in p.stderr
