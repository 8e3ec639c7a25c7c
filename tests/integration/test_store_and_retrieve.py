"""Real Chroma, real all-MiniLM-L6-v2: samples are stored consistently, retrieval stays in its scope, deletion
leaves nothing behind, and a crash in the middle of ingestion is repaired."""

import random
import sqlite3

import numpy as np
import pytest

from playground import IngestError, InvalidInput, NotFound, Playground, RetrievalOptions
from playground.stores.vectors import persona_collection, user_collection
from tests.integration.helpers import chroma_mentions, sqlite_mentions

# Each test using a Playground runs on the embedded store and on a real Chroma server (tests/integration/conftest.py).
VECTOR_BACKENDS = ("local", "server")

RIVER = ("The river rose all night. By morning the water covered the lower field, and we moved the sheep "
         "to the hill pasture before breakfast. Flood season always tests our fences.")
KITCHEN = ("Bread wants patience. I let the dough rise twice, knead it gently, and bake it hot for the crust. "
           "Sourdough starter lives in a jar beside the kettle.")


def test_a_sample_is_chunked_embedded_and_stored_in_both_stores(pg):
    ada = pg.people.create_profile("Ada")
    stages = []
    s = pg.library.add_sample(ada["id"], filename="farm.txt", data=(RIVER + "\n\n") .encode() * 30,
                      progress=lambda stage, done, total: stages.append((stage, done, total)))
    assert s["n_chunks"] > 1 and s["title"] == "farm"
    assert pg.vectors.count(user_collection(ada["id"])) == s["n_chunks"]
    assert len(pg.db.query("SELECT id FROM chunks WHERE sample_id = ?", (s["id"],))) == s["n_chunks"]
    assert stages[-1] == ("done", s["n_chunks"], s["n_chunks"])
    embedding = [st for st in stages if st[0] == "embedding"]
    assert embedding[-1][1] == embedding[-1][2], "the progress bar reaches the end"
    meta = pg.vectors.get(user_collection(ada["id"]))[0].metadata
    assert {"owner_id", "sample_id", "position", "sample_title", "created"} <= set(meta)
    assert pg.library.check_consistency() == []


def test_bad_upload_changes_nothing(pg):
    ada = pg.people.create_profile("Ada")
    pg.library.add_sample(ada["id"], text=RIVER)
    before = (pg.db.query("SELECT count(*) AS n FROM chunks")[0]["n"], pg.vectors.count(user_collection(ada["id"])))
    for data, name in [(b"", "e.txt"), (b"\x00\x01\x02" * 100, "b.txt"), (b"%PDF-1.4 broken", "t.pdf")]:
        with pytest.raises(IngestError):
            pg.library.add_sample(ada["id"], filename=name, data=data)
    with pytest.raises(InvalidInput, match="already in your samples"):
        pg.library.add_sample(ada["id"], text=RIVER)
    after = (pg.db.query("SELECT count(*) AS n FROM chunks")[0]["n"], pg.vectors.count(user_collection(ada["id"])))
    assert before == after
    assert len(pg.library.list_samples(ada["id"])) == 1


def test_dense_bm25_and_hybrid_find_the_relevant_sample(pg):
    ada = pg.people.create_profile("Ada")
    pg.library.add_sample(ada["id"], text=RIVER, title="farm diary")
    pg.library.add_sample(ada["id"], text=KITCHEN, title="baking notes")
    for retriever in ("dense", "bm25", "hybrid"):
        hits = pg.conversations.retrieve(ada["id"], "how do you bake sourdough bread?", "user",
                                         RetrievalOptions(retriever, k=2))
        assert hits[0].sample_title == "baking notes", retriever
        assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
        assert all(h.retriever == retriever and h.owner_name == "Ada" for h in hits)
    hits = pg.conversations.retrieve(ada["id"], "bread", "user", RetrievalOptions("dense", k=2, threshold=0.99))
    assert hits == [], "a high threshold drops weak matches"
    hits = pg.conversations.retrieve(ada["id"], "bread", "user", RetrievalOptions("dense", k=2, mmr=True))
    assert len({h.chunk_id for h in hits}) == len(hits)


def test_global_mode_retrieves_nothing_and_persona_mode_needs_a_persona(pg):
    ada = pg.people.create_profile("Ada")
    pg.library.add_sample(ada["id"], text=RIVER)
    assert pg.conversations.retrieve(ada["id"], "flood", "global") == []
    with pytest.raises(InvalidInput, match="persona"):
        pg.conversations.retrieve(ada["id"], "flood", "persona")


def test_sharing_consent_controls_what_the_persona_group_can_retrieve(pg):
    pid = pg.create_persona_with_examples("Farmers", "You are talking with people who farm.", examples=[
        "Harvest starts when the barley turns gold; we check the moisture every morning."])["id"]
    ada = pg.people.create_profile("Ada", persona_id=pid)
    bob = pg.people.create_profile("Bob", persona_id=pid)
    pg.library.add_sample(ada["id"], text=RIVER)
    owners = lambda: {h.owner_id for h in pg.conversations.retrieve(bob["id"], "flood water sheep", "persona",  # noqa: E731
                                                     RetrievalOptions("hybrid", k=10))}
    assert ada["id"] not in owners(), "sharing is off by default"
    pg.people.update_profile(ada["id"], share_with_persona=True)
    assert ada["id"] in owners()
    pg.library.add_sample(ada["id"], text=KITCHEN)
    assert pg.vectors.count(persona_collection(pid)) == 1 + 2, "new samples of a sharing member reach the group"
    pg.people.update_profile(ada["id"], share_with_persona=False)
    assert ada["id"] not in owners()
    assert pg.library.check_consistency() == []


def test_deleting_a_profile_leaves_nothing_in_either_store(pg):
    pid = pg.create_persona_with_examples("Cooks", "People who cook.", examples=["Salt the pasta water well."])["id"]
    ada = pg.people.create_profile("Ada", persona_id=pid, share_with_persona=True)
    bob = pg.people.create_profile("Bob", persona_id=pid, share_with_persona=True)
    for who in (ada, bob):
        pg.library.add_sample(who["id"], text=RIVER + who["display_name"])
        pg.library.add_sample(who["id"], text=KITCHEN + who["display_name"])
    session = pg.conversations.new_session(ada["id"])
    turn = pg.conversations.start_turn(session["id"], "bread?", "user")
    with pytest.raises(Exception):
        list(turn.stream())  # no model server: the turn is still logged
    assert sqlite_mentions(pg, ada["id"]) and chroma_mentions(pg, ada["id"])
    pg.people.delete_profile(ada["id"])
    assert sqlite_mentions(pg, ada["id"]) == []
    assert chroma_mentions(pg, ada["id"]) == []
    assert pg.vectors.count(user_collection(bob["id"])) == 2, "other people's data is untouched"
    assert pg.library.check_consistency() == []
    with pytest.raises(NotFound):
        pg.people.get_profile(ada["id"])


def test_user_mode_never_returns_another_users_chunk_randomized(pg):
    """Many users with similar writing, random persona membership and sharing, random queries in every mode."""
    rng = random.Random(7)
    topics = ["river flood sheep", "bread dough oven", "chess opening gambit", "violin practice scales",
              "garden tomatoes compost", "marathon training miles", "stars telescope night"]
    personas = [pg.create_persona_with_examples(f"Group {i}", f"People in group {i}.", examples=[f"Group {i} talks about "
                                  f"{topics[i]} every week."])["id"] for i in range(3)]
    users = []
    for i in range(24):
        persona = rng.choice(personas + [None])
        u = pg.people.create_profile(f"User {i}", persona_id=persona, share_with_persona=rng.random() < 0.5)
        for t in rng.sample(topics, 2):
            pg.library.add_sample(u["id"], text=f"{u['display_name']} writes about {t}. " * rng.randint(1, 4) +
                          " ".join(rng.sample(" ".join(topics).split(), 8)))
        users.append(pg.people.get_profile(u["id"]))
    sharing = {p: {u["id"] for u in users if u["persona_id"] == p and u["share_with_persona"]} for p in personas}
    checked = 0
    for _ in range(120):
        u = rng.choice(users)
        query = " ".join(rng.sample(" ".join(topics).split(), 3))
        opts = RetrievalOptions(rng.choice(["dense", "bm25", "hybrid"]), k=rng.randint(1, 10), mmr=rng.random() < .3)
        hits = pg.conversations.retrieve(u["id"], query, "user", opts)
        assert all(h.owner_id == u["id"] for h in hits)
        assert pg.conversations.retrieve(u["id"], query, "global", opts) == []
        if u["persona_id"]:
            allowed = sharing[u["persona_id"]] | {u["persona_id"]}
            assert all(h.owner_id in allowed for h in pg.conversations.retrieve(u["id"], query, "persona", opts))
        checked += len(hits)
    assert checked > 200, "the test looked at many hits"


def test_a_crash_mid_ingestion_is_repaired_at_start_up(pg, settings, embedder):
    ada = pg.people.create_profile("Ada")
    kept = pg.library.add_sample(ada["id"], text=RIVER)
    # What a crash between "record written" and "marked ready" leaves: a pending row, its chunks, some vectors,
    # plus vectors nobody recorded.
    with sqlite3.connect(settings.db_path) as db:
        db.execute("INSERT INTO samples (id, owner_kind, owner_id, title, status, created) "
                   "VALUES ('smp_crash', 'profile', ?, 'half', 'pending', 'now')", (ada["id"],))
        db.execute("INSERT INTO chunks (id, sample_id, owner_kind, owner_id, position, text, tokens) "
                   "VALUES ('smp_crash-0000', 'smp_crash', 'profile', ?, 0, 'half', 1)", (ada["id"],))
    vec = np.ones((2, 384), dtype=np.float32) / np.sqrt(384)
    pg.vectors.add(user_collection(ada["id"]), ["smp_crash-0000", "smp_ghost-0000"], vec, ["half", "ghost"],
                   [{"owner_id": ada["id"], "sample_id": "smp_crash"}, {"owner_id": ada["id"], "sample_id": "x"}])
    assert pg.library.check_consistency() != []
    restarted = Playground(settings, embedder=embedder)
    assert restarted.repair_report["unfinished_samples"] == 1
    assert restarted.library.check_consistency() == []
    assert [s["id"] for s in restarted.library.list_samples(ada["id"])] == [kept["id"]]
