"""The Writing samples page's per-visitor cost of one big public profile: the embedding map reads each shown
profile's chunks with ``chunk_vectors(limit=300)``. Measured for a profile of ``--big`` chunks against one of 300
in the same run (vectors written straight into Chroma, no embedding model needed); the ratio big/small should stay
near 1 (target ≤ 1.5): the cost no longer grows with a profile's size.

    .venv/bin/python bench/samples_page.py --big 30000
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from common import p, timed

from playground.library.samples import WritingLibrary
from playground.stores.vectors import VectorStore, user_collection


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--big", type=int, default=30000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        vectors = VectorStore(Path(tmp) / "chroma")
        for who, n in (("small", 300), ("big", args.big)):
            ids = [f"{who}-{i}" for i in range(n)]
            vectors.add(user_collection(who), ids, rng.standard_normal((n, 384)).astype(np.float32),
                        [f"chunk {i} of {who}" for i in range(n)], [{"owner_id": who, "position": i} for i in range(n)])
        lib = WritingLibrary.__new__(WritingLibrary)  # only the vector store is used by chunk_vectors
        lib.vectors = vectors
        ms = {who: [t * 1000 for t in timed(lambda w=who: lib.chunk_vectors(w, limit=300), args.repeat)]
              for who in ("small", "big")}
    for who, values in ms.items():
        print(f"chunk_vectors {who}: p50 {p(values, 0.5):.1f} ms")
    print(f"ratio big/small: {p(ms['big'], 0.5) / p(ms['small'], 0.5):.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
