"""A catalogue's documents encoded with Ray Data and put in a FAISS index, for catalogues far larger than ReDial's.

:func:`encode_documents` reads the texts into a Ray Dataset and runs ``map_batches`` with one :class:`Encoder`
actor per worker, each loading the sentence-transformer once; the embeddings come back in the documents' order.
``llmkb kb index --workers N`` builds a dataset's retriever index this way, where the recommender finds it
(:func:`index_documents`). Which FAISS index to use at which size: ``llmkb.retrieval.index.choose_kind``, from the
1,000,000-item measurements in docs/results/scale.md ("FAISS at 1,000,000 items").
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from llmkb.scale.cluster import Cluster, require_ray

BATCH = 256  # documents per map_batches call


class Encoder:
    """A Ray Data actor: the sentence-transformer at ``model_path``, loaded once, encoding batches of texts."""

    def __init__(self, model_path: str, max_seq_length: int, threads: int):
        import torch

        from llmkb.retrieval.retriever import load_encoder

        torch.set_num_threads(threads)
        self.model = load_encoder(model_path, max_seq_length)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.model.encode(list(batch["text"]), batch_size=64, convert_to_numpy=True)
        return {"embedding": vectors.astype(np.float32)}


def encode_documents(texts: Sequence[str], model_path: str | Path, cluster: Cluster, max_seq_length: int,
                     progress: bool = True) -> np.ndarray:
    """The embeddings of ``texts``, in order, encoded by ``cluster.workers`` encoder actors through Ray Data."""
    ray = require_ray()
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = progress
    dataset = ray.data.from_items([{"text": text} for text in texts])
    encoded = dataset.map_batches(Encoder, fn_constructor_args=(str(model_path), max_seq_length,
                                                                cluster.cpus_per_worker),
                                  batch_size=BATCH, concurrency=cluster.workers, num_cpus=cluster.cpus_per_worker)
    return np.concatenate([batch["embedding"] for batch in encoded.iter_batches(batch_size=None,
                                                                                  batch_format="numpy")])
