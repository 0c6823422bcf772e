"""The FAISS index kinds: exact flat, HNSW and IVF-PQ, chosen by size with ``auto``; saved and reloaded."""

import faiss
import numpy as np
import pytest

from llmkb.errors import LLMKBError
from llmkb.retrieval.index import EXACT_UP_TO, DenseIndex, choose_kind


def clustered(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(20, dim))
    return (centres[rng.integers(20, size=n)] + 0.3 * rng.normal(size=(n, dim))).astype(np.float32)


@pytest.mark.parametrize("kind, least", [("hnsw", 0.9), ("ivfpq", 0.6)])
def test_approximate_kinds_find_most_of_the_exact_top_10(kind, least):
    vectors, queries = clustered(3000), clustered(50, seed=1)
    ids = [f"item{i}" for i in range(len(vectors))]
    exact = DenseIndex.build(vectors, ids, "flat").search(queries, 10)
    approx = DenseIndex.build(vectors, ids, kind).search(queries, 10)
    overlap = np.mean([len({i for i, _ in a} & {i for i, _ in e}) / 10 for a, e in zip(approx, exact)])
    assert overlap >= least
    assert all(len(row) == 10 for row in approx)


def test_auto_is_exact_up_to_its_bound():
    assert choose_kind(EXACT_UP_TO) == "flat" and choose_kind(EXACT_UP_TO + 1) == "ivfpq"
    index = DenseIndex.build(clustered(100), [str(i) for i in range(100)], "auto")
    assert type(faiss.downcast_index(index.index.index)).__name__ == "IndexFlatIP"


def test_ivfpq_refuses_a_catalogue_too_small_to_train_and_unknown_kinds_are_named():
    with pytest.raises(LLMKBError, match="at least 256 documents"):
        DenseIndex.build(clustered(100), [str(i) for i in range(100)], "ivfpq")
    with pytest.raises(LLMKBError, match="choose one of flat, hnsw, ivfpq"):
        DenseIndex.build(clustered(10), [str(i) for i in range(10)], "annoy")


def test_an_ivfpq_index_saves_reloads_and_reads_back_its_vectors(tmp_path):
    vectors = clustered(1000)
    index = DenseIndex.build(vectors, [str(i) for i in range(1000)], "ivfpq")
    index.save(tmp_path, {"kind": "ivfpq"})
    again = DenseIndex.load(tmp_path, {"kind": "ivfpq"})
    assert again.search(vectors[:3], 5) == index.search(vectors[:3], 5)
    assert again.vectors().shape == (1000, 32)  # decoded approximations of the normalised vectors
