"""A deterministic stand-in for the all-MiniLM-L6-v2 embedder, for tests of logic that does not depend on how good
the embeddings are (consent, erasure bookkeeping, study records, validation, CLI arguments).

Each text becomes a hashed bag of words: every word (lower-cased, with a plural or -ing ending cut off) adds ±1 to
one of 384 dimensions chosen by a stable hash, and the vector is scaled to unit length, as the real model's are. So
texts that share words score higher than texts that share none, which is enough for "the passage about herons is
found by a question about herons", and nothing more: tests whose assertion depends on semantic similarity (dense
ranking, style, attribution, evaluation numbers, fact recall) keep the real model.

It answers the same ``Embedder`` protocol (``name``, ``dimension``, ``embed``), in milliseconds and without
importing torch. Token counting is not the embedder's job (``playground.models.embeddings.Tokenizer`` reads the real
model's ``tokenizer.json`` in milliseconds), so chunking is the same as with the real model.

    python -m tests.support.fake_embedder ARGS…   runs ``python -m playground ARGS…`` with this embedder
"""

from __future__ import annotations

import hashlib
import re
import runpy
import sys
from typing import Callable, Sequence

import numpy as np

DIMENSION = 384  # the real model's, so anything sized for it (Chroma collections, stored vectors) fits
_WORD = re.compile(r"\w+")
# What an empty or wordless text hashes as: the real model gives such a text a unit vector too, never zeros
# (a zero vector has no cosine).
_NOTHING = "\x00nothing"


def _stem(word: str) -> str:
    for suffix in ("ing", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _slot(word: str) -> tuple[int, float]:
    # blake2b, not hash(): the same word lands in the same slot in every process (a CLI child, a second Playground).
    h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
    return h % DIMENSION, 1.0 if (h >> 32) & 1 else -1.0


def vector(text: str) -> np.ndarray:
    """The unit vector of one text."""
    v = np.zeros(DIMENSION, dtype=np.float32)
    words = [_stem(w) for w in _WORD.findall(text.lower())] or [_NOTHING]
    for w in words:
        i, sign = _slot(w)
        v[i] += sign
    norm = float(np.linalg.norm(v))
    if norm == 0.0:  # every word cancelled out: fall back to the empty text's vector
        return vector("")
    return v / norm


class FakeEmbedder:
    """Hashed bag-of-words vectors with the interface of ``SentenceTransformerEmbedder``."""

    name = "fake-hashed-bag-of-words"
    dimension = DIMENSION
    loaded = True

    def __init__(self) -> None:
        self.calls = 0  # embed() calls, so a test can tell the embedder was (or was not) asked
        self.texts = 0  # texts embedded over all calls

    def embed(self, texts: Sequence[str], batch_size: int = 32,
              progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        self.calls += 1
        self.texts += len(texts)
        total = len(texts)
        if not total:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        out = np.vstack([vector(t) for t in texts]).astype(np.float32)
        if progress:  # reported per batch, as the real embedder does
            for start in range(0, total, batch_size):
                progress(min(start + batch_size, total), total)
        return out


def main(argv: list[str]) -> None:
    """``python -m playground`` with every Playground the CLI builds using ``FakeEmbedder``."""
    from playground import front_door

    if not hasattr(front_door, "SentenceTransformerEmbedder"):
        raise SystemExit("tests.support.fake_embedder: playground.front_door no longer builds its embedder from "
                         "SentenceTransformerEmbedder; point main() at what it uses now.")
    setattr(front_door, "SentenceTransformerEmbedder", lambda _path: FakeEmbedder())
    sys.argv = ["playground", *argv]
    runpy.run_module("playground", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
