"""Dense retrieval over a Chroma server (`chroma run` + HttpClient) against the embedded store, in one run.

For each size (default 1,000 and 10,000 chunks) two playgrounds hold the same chunks of one person (the same random
unit vectors and texts, SQLite rows and Chroma collections as ingestion writes them): one on the embedded store
under its data folder, one on a `chroma run` server this script starts on a free loopback port (its own folder,
removed at the end). Both answer the same k=5 dense user-mode queries (`Playground.retrieve`, a precomputed query
vector, so embedding is excluded on both sides), alternating embedded and server query by query so that machine
load falls on both alike. Printed: p50 and p95 per side and the ratio server / embedded (information, no target:
the server adds an HTTP round trip per query, the price of sharing one store between app processes).

    .venv/bin/python bench/retrieval_server.py [--sizes 1000,10000] [--queries 200]
"""

from __future__ import annotations

import argparse
import atexit
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
from common import fresh_playground, p, report


def start_chroma() -> tuple[str, int]:
    folder = tempfile.mkdtemp(prefix="bench-chroma-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    log = open(Path(folder) / "server.log", "wb")  # noqa: SIM115 (lives as long as the server)
    proc = subprocess.Popen([str(Path(sys.executable).parent / "chroma"), "run", "--path", f"{folder}/data",
                             "--host", "127.0.0.1", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    atexit.register(proc.wait, 30)
    atexit.register(proc.terminate)
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2):
                return "127.0.0.1", port
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"chroma run did not start:\n{(Path(folder) / 'server.log').read_text()[-3000:]}")
            time.sleep(0.2)


def fill(pg, n: int, rng: np.random.Generator) -> str:
    from playground.stores.db import now
    from playground.stores.vectors import user_collection

    prof = pg.people.create_profile("Bench writer")
    sid = "smp_bench"
    ids = [f"{sid}-{i:05d}" for i in range(n)]
    vecs = rng.normal(size=(n, 384)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    words = "river bread chess violin garden marathon stars union faction militia commerce".split()
    texts = [" ".join(rng.choice(words, 12)) for _ in range(n)]
    metas = [{"owner_kind": "profile", "owner_id": prof["id"], "sample_id": sid, "sample_title": "bench",
              "position": i, "created": now()} for i in range(n)]
    with pg.db.transaction() as db:
        db.execute("INSERT INTO samples (id, owner_kind, owner_id, title, status, n_chunks, created) "
                   "VALUES (?, 'profile', ?, 'bench', 'ready', ?, ?)", (sid, prof["id"], n, now()))
        db.executemany("INSERT INTO chunks (id, sample_id, owner_kind, owner_id, position, text, tokens) "
                       "VALUES (?, ?, 'profile', ?, ?, ?, 12)", [(ids[i], sid, prof["id"], i, texts[i]) for i in range(n)])
    pg.vectors.add(user_collection(prof["id"]), ids, vecs, texts, metas)
    return prof["id"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()
    from playground import RetrievalOptions

    host, port = start_chroma()
    opts = RetrievalOptions("dense", k=5)
    rows = []
    for n in [int(x) for x in args.sizes.split(",")]:
        sides = {}
        for side, env in (("embedded", {}), ("server", {"PLAYGROUND_CHROMA_HOST": host,
                                                        "PLAYGROUND_CHROMA_PORT": str(port)})):
            pg = fresh_playground(**env)
            rng = np.random.default_rng(n)  # the same chunks on both sides
            who = fill(pg, n, rng)
            q = rng.normal(size=384).astype(np.float32)
            q /= np.linalg.norm(q)
            pg.retriever.embed_query = lambda text, q=q: q
            for _ in range(20):  # warm: collection handle, BM25-free dense path, HTTP connection
                pg.conversations.retrieve(who, "q", "user", opts)
            sides[side] = (pg, who)
        times: dict[str, list[float]] = {"embedded": [], "server": []}
        for _ in range(args.queries):
            for side, (pg, who) in sides.items():
                t = time.perf_counter()
                hits = pg.conversations.retrieve(who, "q", "user", opts)
                times[side].append(time.perf_counter() - t)
                assert len(hits) == 5
        ms = {s: (1000 * p(v, .5), 1000 * p(v, .95)) for s, v in times.items()}
        print(f"{n:>6} chunks: embedded p50 {ms['embedded'][0]:.2f} ms (p95 {ms['embedded'][1]:.2f}), "
              f"server p50 {ms['server'][0]:.2f} ms (p95 {ms['server'][1]:.2f})", flush=True)
        rows.append((f"k=5 dense, {n:,} chunks, server vs embedded (p50 ms)", ms["server"][0], ms["embedded"][0],
                     None))
    report("Retrieval over a Chroma server vs the embedded store", rows)


if __name__ == "__main__":
    main()
