"""The fake embedder (tests/support/fake_embedder.py) keeps the promises the tests that use it lean on: the real
embedder's shape and dtype, unit vectors (also for empty text), the same vector for the same text in every process,
and texts sharing words closer than texts sharing none."""

import subprocess
import sys

import numpy as np

from tests.conftest import ROOT
from tests.support.fake_embedder import DIMENSION, FakeEmbedder


def test_vectors_have_the_real_embedders_shape_and_unit_length():
    texts = ["My boat is called Tern.", "", "   ", "!!!", "ok ok"]
    v = FakeEmbedder().embed(texts)
    assert v.shape == (len(texts), DIMENSION) == (5, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-6)
    assert FakeEmbedder().embed([]).shape == (0, 384)


def test_shared_words_rank_above_no_shared_words():
    e = FakeEmbedder()
    query, near, far = e.embed(["How should I water tomatoes?", "Watering tomatoes early keeps leaves dry.",
                                "The committee adjourned until Thursday."])
    assert query @ near > query @ far + 0.3


def test_the_same_text_gets_the_same_vector_in_another_process():
    code = "from tests.support.fake_embedder import vector; print(' '.join(map(repr, vector('herons').tolist())))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert np.array_equal(np.array([float(x) for x in out.split()], dtype=np.float32),
                          FakeEmbedder().embed(["herons"])[0])


def test_progress_is_reported_per_batch():
    seen: list[tuple[int, int]] = []
    FakeEmbedder().embed(["a b c"] * 5, batch_size=2, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(2, 5), (4, 5), (5, 5)]
