"""Each sample's candidates, computed once per split and recommender setup and kept on disk.

Candidates (and, where the ranking needs them, their LLM scores) are appended, one JSON line per sample, to
``artifacts/rag-cache/<dataset>/`` keyed by split, kind and recommender setup: an interrupted run resumes where it
stopped, and std and dedup (same contexts) share them. Fitting reads them to tune and to choose; evaluation reads
the same rows to rank.

>>> import tempfile, pathlib
>>> cache = SampleCache(pathlib.Path(tempfile.mkdtemp()) / "cache.jsonl")
>>> cache.rows
{}
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tqdm.auto import tqdm

from llmkb.data.io import AppendCache
from llmkb.data.records import Sample
from llmkb.paths import artifacts_dir
from llmkb.pipeline.stages import Stages
from llmkb.ranking.candidates import Candidates


class SampleCache(AppendCache):
    """sample id → a JSON object computed for it (an :class:`AppendCache` keyed by ``sample_id``)."""

    def __init__(self, path: Path):
        super().__init__(path, key="sample_id")

    def get(self, samples: list[Sample], compute: Callable[[list[Sample]], list[dict]],
            progress: bool = False, batch: int = 8) -> list[dict]:
        missing = [s for s in dict.fromkeys(samples) if s.sample_id not in self.rows]
        with tqdm(total=len(missing), desc="LLM scoring", unit="sample", disable=not progress or not missing) as bar:
            for start in range(0, len(missing), batch):
                chunk = missing[start:start + batch]
                self.add({sample.sample_id: row for sample, row in zip(chunk, compute(chunk))})
                bar.update(len(chunk))
        return [self.rows[s.sample_id] for s in samples]


def sample_cache(stages: Stages, split: str, kind: str = "candidates") -> SampleCache:
    folder = artifacts_dir() / "rag-cache" / stages.config.dataset
    return SampleCache(folder / f"{split}-{kind}-{stages.config.setup_key}.jsonl")


def cached_candidates(stages: Stages, samples: list[Sample], split: str, progress: bool = False,
                      llm: bool = True, cache: SampleCache | None = None) -> list[Candidates]:
    """Each sample's candidates, scored by the LLM unless ``llm`` is False (cached apart: "retrieved"). ``cache``:
    that cache, already read (callers that ask batch by batch pass it, so the file is read once)."""
    def compute(chunk: list[Sample]) -> list[dict]:
        states = stages.states([s.context for s in chunk])
        return [c.to_json() for c in stages.scored_candidates(states, llm)]

    cache = cache or candidate_cache(stages, split, llm)
    return [Candidates.from_json(row) for row in cache.get(samples, compute, progress)]


def candidate_cache(stages: Stages, split: str, llm: bool) -> SampleCache:
    return sample_cache(stages, split, "candidates" if llm else "retrieved")
