"""A FAISS index over KB documents: inner product on L2-normalised embeddings, ids mapped to catalogue items.

``kind="flat"`` is exact (the default at this catalogue size); ``hnsw`` (a graph over the full vectors) and ``ivfpq``
(inverted lists of product-quantised codes, the candidates re-ranked on 8-bit scalar-quantised vectors: under a
third of flat's memory) are approximate, for large catalogues; ``auto`` (:func:`choose_kind`) picks by size. The
settings come from the 1,000,000-item measurements in docs/results/scale.md ("FAISS at 1,000,000 items").
Indexes are saved with a manifest and reused when the model and the documents are unchanged.

>>> index = DenseIndex.build(np.eye(4, dtype=np.float32), ["a", "b", "c", "d"], kind="hnsw")
>>> index.search(np.array([[0.9, 0.1, 0, 0]], dtype=np.float32), k=2)[0][0][0]
'a'
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import faiss
import numpy as np

from llmkb.data.io import atomic_write_json, atomic_write_text
from llmkb.errors import LLMKBError

KINDS = ("flat", "hnsw", "ivfpq")
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 40, 1024  # neighbours per node; build and search beam widths
IVF_PROBE = 64  # inverted lists searched per query
PQ_BYTES_PER_DIM = 1 / 8  # product quantiser: one 8-bit code per 8 dimensions (48 bytes for 384)
RERANK = 8  # ivfpq: RERANK × k candidates re-ranked on the 8-bit vectors
EXACT_UP_TO = 200_000  # ``auto``: exact search up to this many items (about 35 ms a query on 2 cores)


def choose_kind(items: int) -> str:
    """``auto``'s index kind for ``items`` documents: exact while a query is fast enough, then IVF-PQ with
    re-ranking (at 1M items: recall@50 0.95 at 1.5 ms and 426 MiB, against HNSW's 0.91 at 4.4 ms and 1.7 GiB).

    >>> choose_kind(6_924), choose_kind(1_000_000)
    ('flat', 'ivfpq')
    """
    return "flat" if items <= EXACT_UP_TO else "ivfpq"


def ivf_lists(items: int) -> int:
    """Inverted lists for ``items`` vectors: about 4·sqrt(n), a power of two, at least 1.

    >>> ivf_lists(1_000_000), ivf_lists(10_000)
    (4096, 512)
    """
    return max(1, 2 ** round(np.log2(4 * np.sqrt(items))))


def train(index: faiss.Index, vectors: np.ndarray) -> None:
    """IVF-PQ's coarse centroids and codebooks, from a seeded sample of 64 vectors per list (no-op when trained)."""
    if not index.is_trained:
        sample = np.random.default_rng(0).permutation(len(vectors))[:64 * ivf_lists(len(vectors))]
        index.train(vectors[np.sort(sample)])


def make_index(dim: int, kind: str, items: int, rerank: bool = True) -> faiss.Index:
    """An empty inner-product index of ``kind`` for ``items`` vectors of ``dim`` (IVF-PQ still to be trained;
    ``rerank`` False: without its re-ranking, as measured beside it)."""
    if kind == "flat":
        return faiss.IndexFlatIP(dim)
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction, index.hnsw.efSearch = HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH
        return index
    if kind == "ivfpq":
        if items < 256:
            raise LLMKBError(f"an ivfpq index needs at least 256 documents to train its codebooks, not {items}; "
                             "use flat (exact) at this size")
        codes = max(1, round(dim * PQ_BYTES_PER_DIM))
        while dim % codes:
            codes -= 1
        ivf = faiss.IndexIVFPQ(faiss.IndexFlatIP(dim), dim, ivf_lists(items), codes, 8, faiss.METRIC_INNER_PRODUCT)
        ivf.nprobe = IVF_PROBE
        if not rerank:
            return ivf
        index = faiss.IndexRefine(ivf, faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_8bit,
                                                                  faiss.METRIC_INNER_PRODUCT))
        index.k_factor = RERANK
        return index
    raise LLMKBError(f"unknown index kind {kind!r}; choose one of {', '.join(KINDS)} or auto")


def model_fingerprint(model_path: str | Path) -> str:
    """Cheap identity of a model directory: names, sizes and mtimes of its files."""
    path = Path(model_path)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return hashlib.sha256(json.dumps([(str(p.relative_to(path) if path.is_dir() else p.name), p.stat().st_size,
                                       int(p.stat().st_mtime)) for p in files]).encode()).hexdigest()


def texts_fingerprint(texts: list[str]) -> str:
    return hashlib.sha256("\x1e".join(texts).encode()).hexdigest()


class DenseIndex:
    def __init__(self, index: faiss.Index, item_ids: list[str]):
        self.index, self.item_ids = index, item_ids

    @classmethod
    def build(cls, embeddings: np.ndarray, item_ids: list[str], kind: str = "flat") -> "DenseIndex":
        vectors = np.ascontiguousarray(embeddings, dtype=np.float32)
        faiss.normalize_L2(vectors)
        kind = choose_kind(len(vectors)) if kind == "auto" else kind
        inner = make_index(vectors.shape[1], kind, len(vectors))
        train(inner, vectors)
        index = faiss.IndexIDMap2(inner)
        index.add_with_ids(vectors, np.arange(len(item_ids), dtype=np.int64))
        return cls(index, list(item_ids))

    def search(self, queries: np.ndarray, k: int) -> list[list[tuple[str, float]]]:
        vectors = np.ascontiguousarray(queries, dtype=np.float32)
        faiss.normalize_L2(vectors)
        scores, ids = self.index.search(vectors, min(k, len(self.item_ids)))
        return [[(self.item_ids[i], float(s)) for i, s in zip(row_ids, row_scores) if i >= 0]
                for row_ids, row_scores in zip(ids, scores)]

    def vectors(self) -> np.ndarray:
        """The stored (L2-normalised) embeddings, in ``item_ids`` order (``ivfpq``: its 8-bit approximations)."""
        return faiss.downcast_index(self.index.index).reconstruct_n(0, self.index.ntotal)

    def cosines(self, query: np.ndarray, items: list[str]) -> list[float]:
        """The cosine of one query embedding to each of ``items`` (exact, whatever the index kind)."""
        if not hasattr(self, "_rows"):
            self._stored, self._rows = self.vectors(), {item: n for n, item in enumerate(self.item_ids)}
        vector = np.asarray(query, dtype=np.float32)
        vector = vector / max(float(np.linalg.norm(vector)), 1e-9)
        return (self._stored[[self._rows[i] for i in items]] @ vector).tolist()

    def save(self, folder: Path, manifest: dict) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / ".index.faiss.tmp"
        faiss.write_index(self.index, str(tmp))
        tmp.replace(folder / "index.faiss")
        atomic_write_text(folder / "item_ids.json", json.dumps(self.item_ids))
        atomic_write_json(folder / "manifest.json", manifest)  # last: marks the cache complete

    @classmethod
    def load(cls, folder: Path, expected: dict) -> "DenseIndex | None":
        """The cached index when its manifest matches ``expected`` (cache key fields), else None."""
        try:
            manifest = json.loads((folder / "manifest.json").read_text())
        except (OSError, json.JSONDecodeError):
            return None
        if any(manifest.get(key) != value for key, value in expected.items()):
            return None
        return cls(faiss.read_index(str(folder / "index.faiss")), json.loads((folder / "item_ids.json").read_text()))
