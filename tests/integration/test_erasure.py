"""Erasure at the byte level, attacked the way a study's data-protection reviewer would: a unique marker goes into a
person's writing, name and notes, travels every path (user and persona mode, another member's trace, a study
participant's answers, judgements and exports, a summary, a preference, an evaluation), the person is deleted by
each route (`users delete` from the CLI, the Profile page's delete, study participant deletion, the workshop's
"Reset all data"), and then the raw bytes of every file under the data folder (WAL and shared-memory files included)
are searched while the Playground is still open. Nothing may be found, and the stores must still work afterwards."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest

from playground import Playground, RetrievalOptions, Settings
from playground.stores.personal_data import REMOVED_ANSWER
from playground.stores.vectors import persona_collection, user_collection
from tests.conftest import ROOT

# The fake embedder (tests/support/fake_embedder.py): what is asserted is which bytes are left behind; the retrievals
# afterwards ask with shared words.
pytestmark = pytest.mark.fake_embedder

GARDEN = ("We grow tomatoes, beans and squash in raised beds behind the house. Every spring we turn the compost, "
          "sow the seeds indoors in March and plant them out after the last frost. Watering early in the morning "
          "keeps the leaves dry and the slugs away.")


def grep_data_folder(root: Path, *needles: str) -> list[str]:
    """Independent of the code under test: every file under ``root`` whose raw bytes contain a needle."""
    hits = []
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            data = (Path(dirpath) / f).read_bytes()
            hits += [f"{Path(dirpath, f).relative_to(root)}: {n}" for n in needles if n.encode() in data]
    return hits


def make_world(pg: Playground, marker: str, engine: bool) -> dict:
    """Alice (participant P01) shares writing holding ``marker`` with persona "Gardeners"; Bob (P02, same study, same
    persona) gets it retrieved in persona mode, in chat and in his study answers; Alice uses every feature herself."""
    persona = pg.create_persona_with_examples("Gardeners", "You are talking with people who grow vegetables at home.",
                                examples=["Our allotment gives more courgettes than we can eat."])["id"]
    study = pg.studies.create_study("Garden study", "I agree.", [{"mode": "persona"}, {"mode": "user"}],
                                    ["How should I water my garden?"], blind=False, persona_id=persona)
    alice_p, bob_p = pg.studies.join(study["code"], f"P01{marker}"), pg.studies.join(study["code"], "P02")
    alice, bob = alice_p["profile_id"], bob_p["profile_id"]
    pg.people.update_profile(alice, display_name=f"Alice {marker}", notes=f"my notes {marker}", persona_id=persona,
                      share_with_persona=True)
    pg.people.update_profile(bob, persona_id=persona, share_with_persona=True)
    for p in (alice_p, bob_p):
        pg.studies.consent(p["id"])
    pg.library.add_sample(alice, text=f"{GARDEN} The secret word of my garden is {marker}.", title=f"garden {marker}")
    pg.library.add_sample(alice, text=f"In winter I knit scarves and read about {marker} in the evenings by the fire.",
                  title="winter")
    pg.library.add_sample(bob, text="I cook stews and soups, and I keep bees at the bottom of the garden.", title="bees")
    pg.studies.log_event(alice_p["id"], "upload", {"title": f"garden {marker}"})

    def chat(profile_id: str, message: str, mode: str) -> None:
        session = pg.conversations.new_session(profile_id, title=message[:20])
        for text in (message, "And what else?"):  # a second turn carries the first answer as history
            turn = pg.conversations.start_turn(session["id"], text, mode, RetrievalOptions("hybrid", k=4))
            if engine:
                list(turn.stream())
            else:
                from playground import LLMError

                turn.preview_only(LLMError("no model"))

    chat(bob, "How do I water tomatoes?", "persona")
    bob_traces = [json.loads(r["data"]) for r in pg.db.query("SELECT data FROM traces WHERE profile_id = ?", (bob,))]
    assert any(marker in json.dumps(t) for t in bob_traces), "Bob's persona-mode trace holds Alice's shared chunk"
    chat(alice, f"Tell me about {marker} and my garden", "user")
    chat(alice, "What should I plant?", "persona")
    if engine:
        pg.summaries.generate_summary(alice)
        for task in range(1):
            pg.studies.generate_answers(alice_p["id"], task)
            pg.studies.generate_answers(bob_p["id"], task)
            ratings = {s: {"tone": 3, "relevance": 3, "accuracy": 3} for s in "AB"}
            pg.studies.judge(alice_p["id"], task, "A", ratings, f"because of {marker}")
        pg.evaluation.evaluate_profile(alice, holdout=1, conditions=["user", "global"], max_tokens=8)
    pg.summaries.save_summary(alice, f"Writes about gardens and {marker}.")
    pg.preferences.record(alice, f"compare {marker}", ["user", "global"], "user", {}, f"liked {marker}")
    # Exports are built on request (downloads); build them all, as an admin would, to prove none leaves a file.
    pg.studies.export_jsonl(study["id"]), pg.studies.export_csv(study["id"]), pg.studies.export_participant(alice_p["id"])
    pg.people.export_profile(alice)
    return {"persona": persona, "study": study, "alice": alice, "bob": bob, "alice_p": alice_p, "bob_p": bob_p}


def delete_by(route: str, pg: Playground, world: dict, env: dict[str, str]) -> None:
    if route == "cli users delete":  # a second process, while this one (the "server") keeps the stores open
        out = subprocess.run([sys.executable, "-m", "playground", "users", "delete", world["alice"]],
                             capture_output=True, text=True, env={**os.environ, **env}, cwd=ROOT, timeout=300)
        assert out.returncode == 0, out.stderr
    elif route == "profile page":
        pg.people.delete_profile(world["alice"])  # exactly what pages/1_Profile.py calls
    elif route == "study participant deletion":
        pg.studies.delete_participant(world["alice_p"]["id"])
    elif route == "workshop reset":
        pg.workshop.reset_all()
    else:
        raise AssertionError(route)


def assert_erased(pg: Playground, root: Path, marker: str, world: dict, route: str) -> None:
    assert grep_data_folder(root, marker) == [], f"{route}: the marker is still on disk"
    out = subprocess.run([sys.executable, "-m", "playground", "doctor", "--erasure", marker], capture_output=True,
                         text=True, env={**os.environ, "PLAYGROUND_DATA_DIR": str(pg.settings.data_dir)}, cwd=ROOT,
                         timeout=300)
    assert out.returncode == 0 and json.loads(out.stdout)["found"] is False, out.stdout + out.stderr
    if route != "workshop reset":
        # Bob's own data is intact, and what he sees in the inspector no longer quotes Alice.
        bob = world["bob"]
        assert pg.library.list_samples(bob)
        seen = json.dumps([pg.conversations.session_messages(s["id"]) for s in pg.conversations.sessions(bob)])
        assert marker not in seen and REMOVED_ANSWER in seen
        assert pg.db.one("SELECT 1 AS x FROM participants WHERE id = ?", (world["bob_p"]["id"],))
    # The stores still work in this process after the purge: add, then find it.
    someone = pg.people.create_profile("Afterwards")
    pg.library.add_sample(someone["id"], text="Sourdough needs a lively starter and a long, cool rise overnight.")
    hits = pg.conversations.retrieve(someone["id"], "bread starter", "user", RetrievalOptions("dense", k=1))
    assert hits and "Sourdough" in hits[0].text
    assert pg.library.check_consistency() == []
    # That add created a vector index in a process that held Alice's text (freed, not gone): still nothing of hers.
    assert grep_data_folder(root, marker) == [], f"{route}: the marker is in a file written after the deletion"


ROUTES = ["cli users delete", "profile page", "study participant deletion", "workshop reset"]


@pytest.mark.engine
@pytest.mark.parametrize("route", ROUTES)
def test_every_route_erases_a_person_from_every_file_while_the_server_runs(route, llm_env, embedder):
    marker = "zq" + uuid.uuid4().hex[:14]
    pg = Playground(Settings.from_env(llm_env), embedder=embedder)
    root = pg.settings.data_dir
    world = make_world(pg, marker, engine=True)
    answers = [json.loads(r["data"]) for r in pg.db.query(
        "SELECT data FROM study_events WHERE participant_id = ? AND kind = 'answer'", (world["bob_p"]["id"],))]
    alice_samples = tuple(s["id"] for s in pg.library.list_samples(world["alice"]))
    assert any(s["chunk_id"].startswith(alice_samples) for a in answers for s in a["snippets"]), \
        "Bob's study answers were built from Alice's shared chunks"
    assert grep_data_folder(root, marker), "the marker is on disk before deletion (the scan can fail)"
    delete_by(route, pg, world, llm_env)
    assert_erased(pg, root, marker, world, route)


def test_doctor_erasure_reports_a_living_person_and_their_text(pg, tmp_path):
    marker = "zq" + uuid.uuid4().hex[:14]
    ada = pg.people.create_profile(f"Ada {marker}")
    pg.library.add_sample(ada["id"], text=f"{GARDEN} {marker}")
    env = {**os.environ, "PLAYGROUND_DATA_DIR": str(pg.settings.data_dir)}
    for target in (ada["id"], marker):
        out = subprocess.run([sys.executable, "-m", "playground", "doctor", "--erasure", target], capture_output=True,
                             text=True, env=env, cwd=ROOT, timeout=300)
        report = json.loads(out.stdout)
        assert out.returncode == 1 and report["found"] and report["files"], target
        assert "still held" in out.stderr
    report = json.loads(subprocess.run([sys.executable, "-m", "playground", "doctor", "--erasure", ada["id"]],
                                       capture_output=True, text=True, env=env, cwd=ROOT, timeout=300).stdout)
    assert {p["place"] for p in report["places"]} >= {"profiles", "samples", "chunks", user_collection(ada["id"])}
    export = json.loads(subprocess.run([sys.executable, "-m", "playground", "users", "export", ada["id"]],
                                       capture_output=True, text=True, env=env, cwd=ROOT, timeout=300).stdout)
    assert marker in export["rows"]["samples"][0]["text"] and export["vectors"][user_collection(ada["id"])] >= 1
    assert {p["name"] for p in export["places"]} >= {"traces.data", "study_events", "chroma/chroma.sqlite3"}


def test_a_thousand_chunks_leave_no_vector_index_folder_and_no_vector_behind(tmp_path, embedder):
    """At 1,000 records Chroma writes the collection's vector index to its own folder; deletion must remove it, and
    none of the person's vectors (as raw float32 bytes) may remain anywhere, also in the persona they shared with."""
    env = {"PLAYGROUND_DATA_DIR": str(tmp_path / "data"), "PLAYGROUND_CHUNK_TOKENS": "16",
           "PLAYGROUND_CHUNK_OVERLAP": "0", "PLAYGROUND_LLM_BACKEND": "openai",
           "PLAYGROUND_OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    pg = Playground(Settings.from_env(env), embedder=embedder)
    marker = "zq" + uuid.uuid4().hex[:14]
    persona = pg.create_persona_with_examples("Walkers", "You are talking with people who walk a lot.",
                                examples=["We walked the coast path in the rain."])["id"]
    alice = pg.people.create_profile("Alice", persona_id=persona, share_with_persona=True)["id"]
    bob = pg.people.create_profile("Bob", persona_id=persona, share_with_persona=True)["id"]
    pg.library.add_sample(bob, text="Bob walks his dog along the canal every evening and counts herons.")
    words = [f"walk{n} hill{n % 17} river{n % 29} path{n % 7} stone{n % 11}." for n in range(1300)]
    words[650] = f"{marker}."
    pg.library.add_sample(alice, text=" ".join(words))
    assert pg.vectors.count(user_collection(alice)) >= 1000
    chroma = pg.settings.chroma_path
    folders = {d.name for d in chroma.iterdir() if (d / "index_metadata.pickle").exists()}
    assert folders, "Chroma persisted a vector index folder"
    mine = np.vstack([c.embedding for c in pg.vectors.get(user_collection(alice), embeddings=True)])
    assert recoverable(pg.settings.data_dir, mine) == len(mine), "every vector can be read back from the index files"

    pg.people.delete_profile(alice)
    assert recoverable(pg.settings.data_dir, mine) == 0, "Alice's vectors are still in a vector index file"
    assert grep_data_folder(pg.settings.data_dir, marker) == []
    assert not folders & {d.name for d in chroma.iterdir()}, "the dropped collection's index folder is gone"
    live = {r["id"] for r in _chroma_segments(chroma)}
    assert {d.name for d in chroma.iterdir() if d.is_dir()} <= live
    # The persona (rebuilt without Alice) still serves Bob, in this process and in a fresh one.
    hits = pg.conversations.retrieve(bob, "dog canal herons", "persona", RetrievalOptions("dense", k=2))
    assert hits and all(h.owner_id != alice for h in hits)
    assert pg.library.check_consistency() == []
    fresh = Playground(Settings.from_env(env), embedder=embedder)
    assert fresh.vectors.count(persona_collection(persona)) == pg.vectors.count(persona_collection(persona))


def test_stale_memory_in_the_unused_tail_of_a_vector_index_is_cleared_and_the_index_still_serves(settings, embedder):
    """hnswlib creates a collection's index files by writing out uninitialised memory for 100 elements, so whatever
    the process freed there (a deleted person's text) can land beyond the elements the index holds. Planted here
    (the real thing depends on the heap), it must be zeroed by the next write and by the purge, and the index must
    still answer, in this process and in a fresh one."""
    pg = Playground(settings, embedder=embedder)
    marker = "zq" + uuid.uuid4().hex[:14]
    bob = pg.people.create_profile("Bob")["id"]
    pg.library.add_sample(bob, text="Bob walks his dog along the canal every evening and counts herons.")
    chroma = pg.settings.chroma_path
    folders = [d for d in chroma.iterdir() if (d / "header.bin").exists()]
    assert folders, "the first write created the collection's vector index files"

    def plant() -> None:
        for d in folders:
            count, size = struct.unpack("<iQQQQ", (d / "header.bin").read_bytes()[:36])[3:5]
            for name, used in (("data_level0.bin", count * size), ("length.bin", count * 4)):
                with open(d / name, "r+b") as f:
                    f.seek(used + 8)
                    f.write(f"stale {marker} heap".encode())
        assert len(grep_data_folder(pg.settings.data_dir, marker)) == 2 * len(folders)

    plant()
    pg.library.add_sample(bob, text="On Sundays Bob bakes bread with his neighbour and they share the loaves.")
    assert grep_data_folder(pg.settings.data_dir, marker) == [], "the next write clears the tail"
    plant()
    report = pg.people.purge_deleted()
    assert grep_data_folder(pg.settings.data_dir, marker) == [], "the purge clears the tail"
    assert report["chroma"]["scrubbed"] >= len(f"stale {marker} heap") * 2
    for p in (pg, Playground(settings, embedder=embedder)):
        hits = p.conversations.retrieve(bob, "dog canal herons", "user", RetrievalOptions("dense", k=2))
        assert hits and "herons" in hits[0].text
        assert p.vectors.count(user_collection(bob)) == 2
        assert p.library.check_consistency() == []


HELD_THEN_READ = """
import sys
from pathlib import Path
import numpy as np
from playground.stores.vectors import VectorStore
store, marker = VectorStore(Path(sys.argv[1])), sys.argv[2]
rng = np.random.default_rng(7)
store.add("u-bob", [f"b{i}" for i in range(20)], rng.random((20, 384), dtype=np.float32), ["Bob's walk"] * 20,
          [{"owner_id": "bob"}] * 20)
for r in range(10):  # someone's writing goes through this process and is deleted; then others are only read
    n = 300
    store.add("u-gone", [f"g{r}-{i}" for i in range(n)], rng.random((n, 384), dtype=np.float32),
              [f"{marker} diary line {i} " * 30 for i in range(n)], [{"owner_id": "gone"}] * n)
    store.get("u-gone")
    store.drop("u-gone")
    store._reopen()  # what a write by another process on this data folder causes (WriteLock.changed_elsewhere)
    assert store.count("u-bob") == 20
"""


def test_a_process_that_held_deleted_text_writes_none_of_it_when_it_next_reads_someone_else(tmp_path):
    """Not planted: the real heap. Embedded Chroma writes a collection's index files again, from fresh unzeroed
    buffers, on the first read after a change, in whichever process reads. A process that had just stored and
    deleted someone's writing then only counts Bob's records; Bob's index files must not hold a byte of it (before
    the guard, ``VectorStore._locked_read``, 3 runs of 5 found it there, each time a little)."""
    import sqlite3

    chroma, marker = tmp_path / "chroma", "zq" + uuid.uuid4().hex[:14]
    out = subprocess.run([sys.executable, "-c", HELD_THEN_READ, str(chroma), marker], cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    with sqlite3.connect(chroma / "chroma.sqlite3") as conn:
        live = [r[0] for r in conn.execute("SELECT s.id FROM segments s JOIN collections c ON c.id = s.collection")]
    assert any((chroma / d / "data_level0.bin").exists() for d in live), "Bob's index files were written"
    assert [h for d in live for h in grep_data_folder(chroma / d, marker)] == []


def recoverable(root: Path, vectors: np.ndarray) -> int:
    """How many of ``vectors`` can be read back (cosine > 0.999) from the hnswlib files under ``root``, parsed from
    their header (the layout hnswlib writes: element size and vector offset in header.bin)."""
    stored = []
    for header in root.rglob("header.bin"):
        # version, offsetLevel0, max_elements, count, size per element, label offset, vector offset, ...
        (_, _, _, count, size, _, offset, *_rest) = struct.unpack("<IQQQQQQiiQQQdQ", header.read_bytes()[:100])
        data = (header.parent / "data_level0.bin").read_bytes()
        dim = vectors.shape[1]
        for i in range(min(count, len(data) // size)):
            stored.append(np.frombuffer(data, "<f4", dim, i * size + offset))
    if not stored:
        return 0
    s = np.vstack(stored)
    s = s / (np.linalg.norm(s, axis=1, keepdims=True) + 1e-12)
    v = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return int(((v @ s.T).max(axis=1) > 0.999).sum())


def _chroma_segments(chroma: Path) -> list[dict]:
    import sqlite3

    with sqlite3.connect(chroma / "chroma.sqlite3") as conn:
        return [{"id": r[0]} for r in conn.execute("SELECT id FROM segments")]


def test_every_table_is_either_a_place_of_personal_data_or_declared_free_of_it(tmp_path):
    """A new table (a feature's cache, a probe's results) cannot be forgotten by deletion, export and the checker."""
    from playground.stores.db import Database
    from playground.stores.personal_data import NOT_PERSONAL, PLACES

    db = Database(tmp_path / "schema.sqlite3")
    tables = {r["name"] for r in db.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
    declared = {p.name.split(".")[0] for p in PLACES if p.store == "sqlite"}
    assert tables - declared - set(NOT_PERSONAL) == set(), "declare these in playground/stores/personal_data.py"
    assert not declared & set(NOT_PERSONAL)
