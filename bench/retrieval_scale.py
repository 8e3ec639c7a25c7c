"""Scoped retrieval at workshop scale: 500 users, 100,000 stored chunks.

Measures, in one run on one store:
- baseline: an unfiltered Chroma query over one collection holding all 100,000 chunks;
- user mode: `pg.conversations.retrieve(..., "user")` (one user's collection, plus the owner-name lookup);
- persona mode: a persona whose 20 members share their samples;
- for reference, what the per-user layout replaces: a `where={"owner_id": ...}` filter on the single collection.
Targets: user p50 ≤ 3 × baseline p50; persona p50 ≤ 5 × baseline p50.

The store is filled with random unit vectors written straight through the engine's storage layer (SQLite rows and
Chroma collections as ingestion writes them), because embedding 100k chunks would take an hour here and the
benchmark is about the storage layout. Queries use one precomputed query vector for every measurement, so
embedding the query (~10 ms) is excluded from both sides alike.

    .venv/bin/python bench/retrieval_scale.py [--users 500] [--chunks 100000] [--queries 200]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from common import at_most, fresh_playground, p, report


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=500)
    ap.add_argument("--chunks", type=int, default=100_000)
    ap.add_argument("--members", type=int, default=20)
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()
    from playground import RetrievalOptions
    from playground.stores.db import now
    from playground.stores.vectors import persona_collection, user_collection

    rng = np.random.default_rng(0)
    pg = fresh_playground()
    dim = 384
    per_user = args.chunks // args.users
    persona = pg.create_persona_with_examples("Bench group", "People in a benchmark.")
    t0 = time.perf_counter()
    all_ids, all_vecs, all_meta = [], [], []
    words = "river bread chess violin garden marathon stars union faction militia commerce".split()
    for u in range(args.users):
        member = u < args.members
        prof = pg.people.create_profile(f"User {u}", persona_id=persona["id"] if member else None,
                                 share_with_persona=member)
        sid = f"smp_b{u:05d}"
        ids = [f"{sid}-{i:04d}" for i in range(per_user)]
        vecs = rng.normal(size=(per_user, dim)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        texts = [" ".join(rng.choice(words, 12)) for _ in range(per_user)]
        metas = [{"owner_kind": "profile", "owner_id": prof["id"], "sample_id": sid, "sample_title": "bench",
                  "position": i, "created": now()} for i in range(per_user)]
        with pg.db.transaction() as db:
            db.execute("INSERT INTO samples (id, owner_kind, owner_id, title, status, n_chunks, created) "
                       "VALUES (?, 'profile', ?, 'bench', 'ready', ?, ?)", (sid, prof["id"], per_user, now()))
            db.executemany("INSERT INTO chunks (id, sample_id, owner_kind, owner_id, position, text, tokens) "
                           "VALUES (?, ?, 'profile', ?, ?, ?, 12)",
                           [(ids[i], sid, prof["id"], i, texts[i]) for i in range(per_user)])
        pg.vectors.add(user_collection(prof["id"]), ids, vecs, texts, metas)
        if member:
            pg.vectors.add(persona_collection(persona["id"]), ids, vecs, texts, metas)
        all_ids += ids
        all_vecs.append(vecs)
        all_meta += metas
        if u % 100 == 99:
            print(f"  {u + 1} users stored ({time.perf_counter() - t0:.0f} s)", flush=True)
    print(f"stored {len(all_ids)} chunks for {args.users} users in {time.perf_counter() - t0:.0f} s")
    everything = np.vstack(all_vecs)
    pg.vectors.add("bench-all", all_ids, everything, ["x"] * len(all_ids), all_meta)
    print(f"baseline collection of {pg.vectors.count('bench-all')} chunks built")

    q = rng.normal(size=dim).astype(np.float32)
    q /= np.linalg.norm(q)
    pg.embed_query = lambda text: q  # type: ignore[method-assign]  # the same precomputed vector everywhere
    pg.retriever.embed_query = pg.embed_query
    users = [x["id"] for x in pg.people.list_profiles()]
    member = users[0]
    col = pg.vectors._collection("bench-all")
    k = 5

    def run(fn, n):
        out = []
        for i in range(n):
            t = time.perf_counter()
            fn(i)
            out.append(time.perf_counter() - t)
        return out

    opts = RetrievalOptions("dense", k=k)
    # First query per user in this process: opens the collection handle (then cached for the process's life).
    cold = run(lambda i: pg.conversations.retrieve(users[i], "q", "user", opts), min(len(users), 100))
    for u in users:  # warm every handle, as a running server has after each user's first message
        pg.conversations.retrieve(u, "q", "user", opts)
    for _ in range(20):  # warm the baseline the same way
        col.query(query_embeddings=[q], n_results=k)
    base = run(lambda i: col.query(query_embeddings=[q], n_results=k), args.queries)
    user = run(lambda i: pg.conversations.retrieve(users[(i * 7) % len(users)], "q", "user", opts), args.queries)
    pers = run(lambda i: pg.conversations.retrieve(member, "q", "persona", opts), args.queries)
    filt = run(lambda i: col.query(query_embeddings=[q], n_results=k,
                                   where={"owner_id": users[(i * 7) % len(users)]}), min(args.queries, 60))
    ms = lambda xs: 1000 * p(xs, 0.5)  # noqa: E731
    print(f"p50 ms — unfiltered {ms(base):.2f}, user {ms(user):.2f}, persona ({args.members} sharing) {ms(pers):.2f}, "
          f"one-collection where-filter {ms(filt):.2f}")
    print(f"first query per user in a process (opens its collection): p50 {ms(cold):.2f} ms")
    print(f"p95 ms — unfiltered {1000 * p(base, .95):.2f}, user {1000 * p(user, .95):.2f}, "
          f"persona {1000 * p(pers, .95):.2f}")
    report("Scoped retrieval at scale (p50 latency)", [
        ("user mode vs unfiltered query", ms(user), ms(base), at_most(3)),
        ("persona mode vs unfiltered query", ms(pers), ms(base), at_most(5)),
        ("what the layout avoids: where-filter on one collection", ms(filt), ms(base), None),
    ])


if __name__ == "__main__":
    main()
