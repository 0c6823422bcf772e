"""A FAISS index over KB documents: inner product on L2-normalised embeddings, ids mapped to catalogue items.

``kind="flat"`` is exact (the default at this catalogue size); ``kind="hnsw"`` is approximate, for large catalogues.
Indexes are saved with a manifest and reused when the model and the documents are unchanged.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import faiss
import numpy as np

from llmkb.data.io import atomic_write_json, atomic_write_text
from llmkb.errors import LLMKBError

KINDS = ("flat", "hnsw")


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
        if kind not in KINDS:
            raise LLMKBError(f"unknown index kind {kind!r}; choose one of {', '.join(KINDS)}")
        vectors = np.ascontiguousarray(embeddings, dtype=np.float32)
        faiss.normalize_L2(vectors)
        dim = vectors.shape[1]
        inner = faiss.IndexFlatIP(dim) if kind == "flat" else faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
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
        """The stored (L2-normalised) embeddings, in ``item_ids`` order."""
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
