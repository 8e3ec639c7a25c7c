"""Ingestion throughput: end-to-end chunks/s (read, chunk, embed, store) against raw SentenceTransformer.encode on
the same chunks with the same batch size, measured in the same run. Target: ratio ≥ 0.85.

Each repetition measures both back to back (alternating which goes first) into a fresh profile; the report gives
every repetition, the median ratio and the min–max of the ratios, because the machines are shared and noisy.

    .venv/bin/python bench/ingest.py [--essays 12] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

from common import federalist, fresh_playground, report_repeated


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--essays", type=int, default=12)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    pg = fresh_playground()
    essays = [r for r in federalist()][: args.essays]
    pg.warm_up()
    # Raw encode on exactly the chunks ingestion will produce (chunking is not part of the baseline).
    chunks = [c for r in essays for c in pg.chunker.split(r["text"])]
    model = pg.embedder.model  # type: ignore[attr-defined]
    bs = pg.settings.embed_batch_size
    model.encode(chunks[:bs], batch_size=bs)  # warm

    def raw() -> float:
        t0 = time.perf_counter()
        model.encode(chunks, batch_size=bs, normalize_embeddings=True, show_progress_bar=False)
        return len(chunks) / (time.perf_counter() - t0)

    def e2e(rep: int) -> float:
        user = pg.create_profile(f"Bench {rep}")  # fresh: the same text twice in one profile is refused
        t0 = time.perf_counter()
        n = 0
        for r in essays:
            n += pg.add_sample(user["id"], filename=f"{r['doc_id']}.txt", data=r["text"].encode())["n_chunks"]
        elapsed = time.perf_counter() - t0
        assert n == len(chunks)
        return n / elapsed

    pairs: list[tuple[float, float]] = []
    for rep in range(1, args.repeat + 1):
        if rep % 2:
            b = raw()
            m = e2e(rep)
        else:
            m = e2e(rep)
            b = raw()
        pairs.append((m, b))
    print(f"{len(chunks)} chunks of ≤{pg.settings.chunk_tokens} tokens from {len(essays)} essays, batch {bs}, "
          f"{args.repeat} repetitions")
    report_repeated("Ingestion (chunks/s)", [("end-to-end vs raw encode", pairs, 0.85)])


if __name__ == "__main__":
    main()
