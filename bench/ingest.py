"""Ingestion throughput: end-to-end chunks/s (read, chunk, embed, store) against raw SentenceTransformer.encode on
the same chunks with the same batch size, measured in the same run. Target: ratio ≥ 0.85.

    .venv/bin/python bench/ingest.py [--essays 12]
"""

from __future__ import annotations

import argparse
import time

from common import federalist, fresh_playground, report


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--essays", type=int, default=12)
    args = ap.parse_args()
    pg = fresh_playground()
    user = pg.create_profile("Bench")
    essays = [r for r in federalist()][: args.essays]
    pg.warm_up()
    # Raw encode on exactly the chunks ingestion will produce (chunking is not part of the baseline).
    chunks = [c for r in essays for c in pg.chunker.split(r["text"])]
    model = pg.embedder.model  # type: ignore[attr-defined]
    bs = pg.settings.embed_batch_size
    model.encode(chunks[:bs], batch_size=bs)  # warm
    t0 = time.perf_counter()
    model.encode(chunks, batch_size=bs, normalize_embeddings=True, show_progress_bar=False)
    raw = len(chunks) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    n = 0
    for r in essays:
        n += pg.add_sample(user["id"], filename=f"{r['doc_id']}.txt", data=r["text"].encode())["n_chunks"]
    e2e = n / (time.perf_counter() - t0)
    assert n == len(chunks)
    print(f"{n} chunks of ≤{pg.settings.chunk_tokens} tokens, batch {bs}")
    report("Ingestion (chunks/s)", [("end-to-end vs raw encode", e2e, raw, 0.85)])


if __name__ == "__main__":
    main()
