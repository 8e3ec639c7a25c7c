"""Playgrounds on a real Chroma server (``chroma run``, started once per session by ``chroma_server``).

Collection names are the same in every data folder (``p-<persona>``, and shipped personas have the same id
everywhere), so before each data folder had a database of its own on the server, two playgrounds on one server
read, repaired and rebuilt each other's collections: a deletion in one rebuilt the persona collection from its own
members and removed the other's shared chunks, and each start-up repair deleted the other's vectors as orphans.
Also here: an upgrade from the shared default database moves a folder's vectors without losing any (and leaves
another playground's alone), an embedded store from before the upgrade keeps working, and ``doctor --erasure`` says
what it can and cannot check on a server."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import uuid

import numpy as np
import pytest

from playground import Playground, RetrievalOptions
from playground.stores.vectors import VectorStore, persona_collection, server_database, user_collection
from tests.conftest import ROOT, closed_port

GARDEN = ("We grow tomatoes, beans and squash in raised beds behind the house. Every spring we turn the compost and "
          "water early in the morning so the leaves stay dry.")
QUESTION = "How do you water tomatoes in raised beds?"


def marker() -> str:
    return "zq" + uuid.uuid4().hex[:14]


def playground_cli(data_dir, server, *args: str) -> dict | list:
    """``python -m playground …`` in its own process, on ``data_dir`` and the shared server."""
    env = {**os.environ, "PLAYGROUND_DATA_DIR": str(data_dir), "PLAYGROUND_LLM_BACKEND": "ollama",
           "PLAYGROUND_OLLAMA_HOST": f"http://127.0.0.1:{closed_port()}", **server.env()}
    p = subprocess.run([sys.executable, "-m", "playground", *args], capture_output=True, text=True, env=env,
                       cwd=ROOT, timeout=240)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def persona_texts(pg: Playground, profile_id: str) -> str:
    """What dense retrieval (the Chroma server; BM25 reads the folder's own SQLite) finds in persona mode."""
    return " ".join(h.text for h in pg.conversations.retrieve(profile_id, QUESTION, "persona",
                                                              RetrievalOptions("dense", k=20)))


@pytest.fixture
def on_server(settings, chroma_server):
    return dataclasses.replace(settings, chroma_host=chroma_server.host, chroma_port=chroma_server.port)


@pytest.mark.server
def test_two_playgrounds_on_one_server_keep_their_own_shared_writing(tmp_path, on_server, chroma_server, embedder):
    a = Playground(on_server, embedder=embedder)
    persona = next(p["id"] for p in a.people.list_personas() if p.get("builtin"))  # the same id in every data folder
    secret_a, secret_b, secret_gone = marker(), marker(), marker()
    alice = a.people.create_profile("Alice", persona_id=persona, share_with_persona=True)["id"]
    a.library.add_sample(alice, text=f"{GARDEN} In our garden the trick is {secret_a}.")
    bob = a.people.create_profile("Bob", persona_id=persona)["id"]
    assert secret_a in persona_texts(a, bob)

    # A second playground, its own data folder, driven by other processes on the same server and persona.
    b_dir = tmp_path / "second"
    files = tmp_path / "files"
    files.mkdir()
    carol = playground_cli(b_dir, chroma_server, "users", "add", "Carol", "--persona", persona, "--share")["id"]
    (files / "carol.txt").write_text(f"{GARDEN} Carol's trick is {secret_b}.")
    playground_cli(b_dir, chroma_server, "samples", "add", carol, str(files / "carol.txt"))
    eve = playground_cli(b_dir, chroma_server, "users", "add", "Eve", "--persona", persona, "--share")["id"]
    (files / "eve.txt").write_text(f"{GARDEN} Eve's trick is {secret_gone}.")
    playground_cli(b_dir, chroma_server, "samples", "add", eve, str(files / "eve.txt"))
    dan = playground_cli(b_dir, chroma_server, "users", "add", "Dan", "--persona", persona)["id"]

    def b_sees() -> str:
        hits = playground_cli(b_dir, chroma_server, "retrieve", dan, QUESTION, "--mode", "persona", "--k", "20")
        return " ".join(h["text"] for h in hits)

    seen_b = b_sees()
    assert secret_b in seen_b and secret_gone in seen_b
    assert secret_a not in seen_b, "the second playground retrieves the first one's shared writing"
    assert secret_b not in persona_texts(a, bob), "the first playground retrieves the second one's shared writing"

    # The second playground deletes a member (its persona collection is rebuilt); the first one deletes one too.
    playground_cli(b_dir, chroma_server, "users", "delete", eve)
    assert secret_a in persona_texts(a, bob), "a deletion in another playground removed this one's shared writing"
    assert a.library.check_consistency() == []
    zoe = a.people.create_profile("Zoe", persona_id=persona, share_with_persona=True)["id"]
    a.library.add_sample(zoe, text=f"{GARDEN} Zoe waters at dusk.")
    a.people.delete_profile(zoe)
    seen_b = b_sees()
    assert secret_b in seen_b, "a deletion in another playground removed this one's shared writing"
    assert secret_gone not in seen_b and secret_a not in seen_b
    assert playground_cli(b_dir, chroma_server, "doctor")["problems"] == []

    # A restart of either (start-up repair) leaves the other's vectors alone.
    again = Playground(on_server, embedder=embedder)
    assert secret_a in persona_texts(again, bob) and again.library.check_consistency() == []
    assert secret_b in b_sees()
    a_db, b_db = server_database(a.db), playground_cli(b_dir, chroma_server, "status")["chroma"]["where"]
    assert a_db not in b_db, "both data folders use the same database on the server"


@pytest.mark.server
def test_a_playground_on_the_server_cannot_reach_another_ones_chunks(tmp_path, on_server, embedder):
    a = Playground(on_server, embedder=embedder)
    b = Playground(dataclasses.replace(on_server, data_dir=tmp_path / "other"), embedder=embedder)
    secret = marker()
    alice = a.people.create_profile("Alice")["id"]
    a.library.add_sample(alice, text=f"{GARDEN} {secret}")
    assert user_collection(alice) in a.vectors.collections()
    assert not any(user_collection(alice) == n for n in b.vectors.collections())
    assert b.vectors.get(user_collection(alice)) == [] and b.vectors.count(user_collection(alice)) == 0
    assert b.vectors.query(user_collection(alice), b.embed_query(QUESTION), 5) == []
    assert secret in " ".join(h.text for h in a.conversations.retrieve(alice, QUESTION, "user"))


def _forget_m022(pg: Playground) -> None:
    """Make the data folder's SQLite look as it did before migration m022 (no namespace recorded)."""
    with pg.db.transaction() as db:
        db.execute("DROP TABLE chroma_namespace")
        db.execute("DELETE FROM _migrations WHERE name = 'm022_chroma_namespace'")


@pytest.mark.server
def test_an_upgrade_moves_a_folders_vectors_out_of_the_shared_default_database(on_server, chroma_server, embedder):
    # Before the upgrade: this folder's collections in the server's default database, next to another
    # playground's copies in the same persona collection.
    pg = Playground(on_server, embedder=embedder)
    persona = next(p["id"] for p in pg.people.list_personas() if p.get("builtin"))
    secret = marker()
    alice = pg.people.create_profile("Alice", persona_id=persona, share_with_persona=True)["id"]
    pg.library.add_sample(alice, text=f"{GARDEN} {secret}")
    bob = pg.people.create_profile("Bob", persona_id=persona)["id"]
    shared = VectorStore(None, chroma_server.host, chroma_server.port)
    for name in pg.vectors.collections():
        got = pg.vectors.get(name, embeddings=True)
        shared.add(name, [v.id for v in got], np.vstack([v.embedding for v in got]), [v.text for v in got],
                   [v.metadata for v in got])
        pg.vectors.drop(name)
    other = np.ones((1, 384), dtype=np.float32) / np.sqrt(384)
    shared.add(persona_collection(persona), ["other-playground-chunk"], other, ["someone else's shared writing"],
               [{"owner_id": "prof_other", "owner_kind": "profile"}])
    _forget_m022(pg)

    upgraded = Playground(on_server, embedder=embedder)
    assert upgraded.moved_from_shared_default > 0
    assert upgraded.library.check_consistency() == []
    assert secret in " ".join(h.text for h in upgraded.conversations.retrieve(alice, QUESTION, "user"))
    assert secret in persona_texts(upgraded, bob)
    assert user_collection(alice) not in shared.collections(), "the moved user collection stays in the shared one"
    left = shared.get(persona_collection(persona))
    assert [v.id for v in left] == ["other-playground-chunk"], "another playground's vectors were touched"
    assert Playground(on_server, embedder=embedder).moved_from_shared_default == 0, "moved twice"


def test_an_embedded_store_from_before_the_upgrade_keeps_its_collections(settings, embedder):
    pg = Playground(settings, embedder=embedder)
    secret = marker()
    alice = pg.people.create_profile("Alice")["id"]
    pg.library.add_sample(alice, text=f"{GARDEN} {secret}")
    before = {n: pg.vectors.count(n) for n in pg.vectors.collections()}
    _forget_m022(pg)
    again = Playground(settings, embedder=embedder)
    assert {n: again.vectors.count(n) for n in again.vectors.collections()} == before
    assert secret in " ".join(h.text for h in again.conversations.retrieve(alice, QUESTION, "user"))
    assert again.library.check_consistency() == [] and again.moved_from_shared_default == 0


@pytest.mark.server
def test_doctor_erasure_on_a_server_says_what_it_could_not_check(tmp_path, on_server, chroma_server, embedder):
    pg = Playground(on_server, embedder=embedder)
    secret = marker()
    alice = pg.people.create_profile("Alice")["id"]
    pg.library.add_sample(alice, text=f"{GARDEN} {secret}")
    env = {**os.environ, "PLAYGROUND_DATA_DIR": str(on_server.data_dir), **chroma_server.env()}

    def doctor(*extra: str) -> tuple[int, dict]:
        p = subprocess.run([sys.executable, "-m", "playground", "doctor", "--erasure", secret, *extra],
                           capture_output=True, text=True, env=env, cwd=ROOT, timeout=240)
        return p.returncode, json.loads(p.stdout)

    code, report = doctor()
    assert report["chroma_server"]["files_checked"] is False
    assert "--chroma-path" in report["chroma_server"]["note"] and chroma_server.host in report["chroma_server"]["note"]
    code, report = doctor("--chroma-path", str(chroma_server.path))
    assert code == 1 and report["chroma_server"]["files_checked"] is True
    assert any(str(chroma_server.path) in f["file"] for f in report["files"]), report["files"]
