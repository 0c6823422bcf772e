"""A recommender system ranked on Ray workers, for ``llmkb evaluate --workers N``.

The samples are cut into shards at the same batch boundaries one process uses (a shard is a whole number of the
system's batches), so each worker ranks exactly the batches one process would: the candidates, and so the
predictions, are the same in content and order. A system whose ranking of a sample does not depend on the batch
around it (``batch_invariant``: popularity, copy-context, bm25) is cut into shards of ``SHARD_SAMPLES``. Each finished shard is appended to ``PREDICTIONS.partial``, keyed by
sample id and stamped with the run's fingerprint; a rerun of the same run ranks only the shards that are missing.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from pathlib import Path

from llmkb.data.io import AppendCache
from llmkb.data.records import Sample
from llmkb.evaluation.harness import rank_samples
from llmkb.scale.cluster import Cluster
from llmkb.scale.shards import run_shards, shards_of

SHARD_SAMPLES = 16  # at least this many samples per shard: small enough to balance the workers, a few batches


class BatchRanker:
    """In a worker: the system ``factory`` builds (once), ranking each shard in its own batches."""

    def __init__(self, factory: Callable[[], object]):
        self.system = factory()

    def rank(self, samples: list[Sample]) -> list[list[str]]:
        return rank_samples(self.system, samples, progress=False)


class ShardedSystem:
    """Ranks with ``factory()``'s system on ``cluster``'s workers; ``batch_size``: the system's own (None: it is
    batch-invariant)."""

    def __init__(self, factory: Callable[[], object], cluster: Cluster, batch_size: int | None):
        self.factory, self.cluster = factory, cluster
        self.shard_size = batch_size * math.ceil(SHARD_SAMPLES / batch_size) if batch_size else SHARD_SAMPLES

    def rank_all(self, samples: list[Sample], cache_path: Path, fingerprint: str, progress: bool = True,
                 desc: str = "ranking") -> list[list[str]]:
        cache = AppendCache(cache_path, key="sample_id")
        done = lambda s: s.sample_id in cache and cache[s.sample_id].get("fingerprint") == fingerprint  # noqa: E731
        shards = shards_of(samples, self.shard_size)
        todo = [(i, shard) for i, shard in enumerate(shards) if not all(done(s) for s in shard)]

        def keep(index: int, candidates: list[list[str]]) -> None:
            cache.add({s.sample_id: {"candidates": c, "fingerprint": fingerprint}
                       for s, c in zip(shards[index], candidates)})

        run_shards(todo, functools.partial(BatchRanker, self.factory), "rank", self.cluster, keep, progress, desc, "sample",
                   total=len(samples), initial=len(samples) - sum(len(s) for _, s in todo))
        return [cache[s.sample_id]["candidates"] for s in samples]
