"""Dense retrieval over the KB: a sentence-transformers encoder, a FAISS index, and the query builder.

>>> from llmkb.data import SEEKER, Turn, load_dataset
>>> dataset = load_dataset("redial", data_dir)
>>> retriever = DenseRetriever.for_dataset(dataset, encoder_path, progress=False)  # default: the packaged MiniLM
>>> best = retriever.rank([[Turn(SEEKER, "Any animated movie with Tom Hanks?")]], k=3)[0]  # (item id, cosine)
>>> len(best), all(item in dataset.catalog for item, _ in best)
(3, True)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from llmkb.data.dataset import Dataset
from llmkb.data.records import Turn
from llmkb.errors import ModelError
from llmkb.kb import build_kb, load_kb
from llmkb.kb.documents import KBDocument
from llmkb.models import default_retriever_path
from llmkb.paths import artifacts_dir
from llmkb.retrieval.index import DenseIndex, choose_kind, model_fingerprint, texts_fingerprint
from llmkb.retrieval.query import QueryBuilder, QueryConfig

MAX_SEQ_LENGTH = 128  # tokens; documents average about 130 tokens, and 2 CPU cores set the budget


def load_encoder(path: str | Path | None = None, max_seq_length: int = MAX_SEQ_LENGTH):
    """A sentence-transformers model from a local directory (default: the packaged all-MiniLM-L6-v2)."""
    from sentence_transformers import SentenceTransformer

    path = Path(path) if path is not None else default_retriever_path()
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise ModelError(f"{path} is not a sentence-transformers model directory (no modules.json or config.json); "
                         "pass a directory written by `llmkb train-retriever` or SentenceTransformer.save()")
    try:
        model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    except Exception as exc:  # the library raises many kinds; the user needs the path and the reason
        raise ModelError(f"could not load the retriever from {path}: {exc}") from exc
    model.max_seq_length = max_seq_length
    return model


class DenseRetriever:
    def __init__(self, model, model_path: Path, documents: list[KBDocument], query_builder: QueryBuilder,
                 index_kind: str = "flat", cache_dir: Path | None = None, progress: bool = True,
                 encode_documents: Callable[[list[str]], np.ndarray] | None = None):
        """``encode_documents``: how the documents are encoded when the index is built (default: ``model.encode``
        here; ``llmkb kb index --workers`` passes Ray Data's, :mod:`llmkb.scale.catalogue`)."""
        self.model, self.query_builder, self.progress = model, query_builder, progress
        self.documents, self.model_path, self.index_kind = documents, Path(model_path), index_kind
        texts = [doc.text for doc in documents]
        key = self.index_key(model_path, texts, index_kind, model.max_seq_length)
        index = DenseIndex.load(cache_dir, key) if cache_dir is not None else None
        if index is None:
            embeddings = encode_documents(texts) if encode_documents else \
                model.encode(texts, batch_size=64, show_progress_bar=progress, convert_to_numpy=True)
            index = DenseIndex.build(embeddings, [doc.item_id for doc in documents], index_kind)
            if cache_dir is not None:
                index.save(cache_dir, {**key, "model_path": str(model_path), "items": len(texts)})
        self.index = index

    @classmethod
    def for_dataset(cls, dataset: Dataset, model_path: str | Path | None = None, query: QueryConfig = QueryConfig(),
                    index_kind: str = "flat", progress: bool = True,
                    encode_documents: Callable[[list[str]], np.ndarray] | None = None) -> "DenseRetriever":
        """Build (or reuse from ``artifacts/index``) everything the retriever needs for one dataset."""
        model_path = Path(model_path) if model_path is not None else default_retriever_path()
        model = load_encoder(model_path)
        documents = load_kb(build_kb(dataset)[0])
        builder = QueryBuilder.for_dataset(dataset, query, documents)
        index_kind = choose_kind(len(documents)) if index_kind == "auto" else index_kind
        return cls(model, model_path, documents, builder, index_kind,
                   cls.cache_dir(dataset.name, model_path, index_kind), progress, encode_documents)

    @staticmethod
    def cache_dir(dataset: str, model_path: Path, index_kind: str) -> Path:
        """Where the index of ``model_path`` over ``dataset``'s KB is cached."""
        return artifacts_dir() / "index" / dataset / f"{model_fingerprint(model_path)[:16]}-{index_kind}"

    @staticmethod
    def index_key(model_path: Path, texts: list[str], index_kind: str, max_seq_length: int) -> dict:
        """What a cached index must have been built from to be reused."""
        return {"model": model_fingerprint(model_path), "documents": texts_fingerprint(texts), "kind": index_kind,
                "max_seq_length": max_seq_length}

    def query_tokens(self, query: str) -> int:
        """Tokens the encoder reads for ``query`` (after truncation to its limit)."""
        return min(len(self.model.tokenizer(query)["input_ids"]), self.model.max_seq_length)

    def encode(self, queries: Sequence[str]) -> np.ndarray:
        """The query texts' embeddings."""
        return self.model.encode(list(queries), batch_size=64, convert_to_numpy=True,
                                 show_progress_bar=self.progress and len(queries) > 256)

    def search(self, queries: Sequence[str], k: int = 50) -> list[list[tuple[str, float]]]:
        """The ``k`` best (item id, cosine) per query text, best first."""
        return self.index.search(self.encode(queries), k)

    def rank(self, contexts: Sequence[Sequence[Turn]], k: int = 50) -> list[list[tuple[str, float]]]:
        """:meth:`search` with each dialogue's query."""
        return self.search([self.query_builder.build(context) for context in contexts], k)
