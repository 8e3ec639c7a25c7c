"""Ingestion throughput: end-to-end chunks/s (read, chunk, embed, store) against raw SentenceTransformer.encode on
the same chunks with the same batch size, measured in the same run. Target: ratio ≥ 0.85.

Each repetition measures both back to back (rotating which goes first) into a fresh profile; the report gives
every repetition, the median ratio and the min–max of the ratios, because the machines are shared and noisy.
For information, a second row compares with raw encode called once per sample, as ingestion calls it (each upload is
embedded on its own): the baseline above sorts all samples' chunks by length together, which no single upload can.

    .venv/bin/python bench/ingest.py [--essays 12] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

from common import at_least, federalist, fresh_playground, report_repeated


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--essays", type=int, default=12)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    pg = fresh_playground()
    essays = [r for r in federalist()][: args.essays]
    pg.warm_up()
    # Raw encode on exactly the chunks ingestion will produce (chunking is not part of the baseline).
    per_sample = [pg.chunker.split(r["text"]) for r in essays]
    chunks = [c for cs in per_sample for c in cs]
    model = pg.embedder.model  # type: ignore[attr-defined]
    bs = pg.settings.embed_batch_size
    model.encode(chunks[:bs], batch_size=bs)  # warm

    def raw() -> float:
        t0 = time.perf_counter()
        model.encode(chunks, batch_size=bs, normalize_embeddings=True, show_progress_bar=False)
        return len(chunks) / (time.perf_counter() - t0)

    def raw_per_sample() -> float:
        t0 = time.perf_counter()
        for cs in per_sample:
            model.encode(cs, batch_size=bs, normalize_embeddings=True, show_progress_bar=False)
        return len(chunks) / (time.perf_counter() - t0)

    def e2e(rep: int) -> float:
        user = pg.people.create_profile(f"Bench {rep}")  # fresh: the same text twice in one profile is refused
        t0 = time.perf_counter()
        n = 0
        for r in essays:
            n += pg.library.add_sample(user["id"], filename=f"{r['doc_id']}.txt", data=r["text"].encode())["n_chunks"]
        elapsed = time.perf_counter() - t0
        assert n == len(chunks)
        return n / elapsed

    pairs: list[tuple[float, float]] = []
    per_sample_pairs: list[tuple[float, float]] = []
    for rep in range(1, args.repeat + 1):
        measure = [("raw", raw), ("per sample", raw_per_sample), ("e2e", lambda: e2e(rep))]
        k = (rep - 1) % len(measure)
        got = {name: fn() for name, fn in measure[k:] + measure[:k]}
        pairs.append((got["e2e"], got["raw"]))
        per_sample_pairs.append((got["e2e"], got["per sample"]))
    print(f"{len(chunks)} chunks of ≤{pg.settings.chunk_tokens} tokens from {len(essays)} essays, batch {bs}, "
          f"{args.repeat} repetitions")
    report_repeated("Ingestion (chunks/s)", [
        ("end-to-end vs raw encode", pairs, at_least(0.85)),
        ("end-to-end vs raw encode called once per sample", per_sample_pairs, None)])


if __name__ == "__main__":
    main()
