"""The end-to-end recommender as evaluation systems, with its costly LLM scores cached and its fusion tuned on valid.

- ``rag``: the full pipeline (retriever → LLM scoring over the KB prompt → fused ranking → post-processing);
- ``rag-no-llm``: the same fusion without the LLM signal (retriever + dialogue + popularity);
- ``llm-zeroshot``: the LLM lists titles from the dialogue alone (no KB), mapped to the catalogue by fuzzy matching;
- ``rag-no-postprocess``: the LLM lists titles with the top KB documents in its prompt, matched exactly only
  (no fuzzy matching), then the harness fills the list from popularity as for every system.

LLM scores and generations are appended, one JSON line per sample, to ``artifacts/rag-cache/<dataset>/``
(keyed by split, kind and recommender setup): an interrupted run resumes where it stopped, and std and dedup
(same contexts) share them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from tqdm.auto import tqdm

from llmkb.data.dataset import Dataset
from llmkb.data.records import Sample
from llmkb.paths import artifacts_dir
from llmkb.pipeline.fusion import GRID, Candidates, FusionWeights, signals, tune
from llmkb.pipeline.recommender import Recommender
from llmkb.postprocess import TitleMatcher

RAG_SYSTEMS = ("rag", "rag-no-llm", "llm-zeroshot", "rag-no-postprocess")


class SampleCache:
    """sample id → a JSON object computed for it, persisted as append-only JSON lines (a torn last line is ignored)."""

    def __init__(self, path: Path):
        self.path = path
        self.rows: dict[str, dict] = {}
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    row = json.loads(line)
                    self.rows[row.pop("sample_id")] = row
                except (ValueError, KeyError):
                    continue  # a line cut short by an interruption: recomputed below

    def get(self, samples: list[Sample], compute: Callable[[list[Sample]], list[dict]],
            progress: bool = False, batch: int = 8) -> list[dict]:
        missing = [s for s in dict.fromkeys(samples) if s.sample_id not in self.rows]
        if missing:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as out, \
                    tqdm(total=len(missing), desc="LLM scoring", unit="sample", disable=not progress) as bar:
                for start in range(0, len(missing), batch):
                    chunk = missing[start:start + batch]
                    for sample, row in zip(chunk, compute(chunk)):
                        self.rows[sample.sample_id] = row
                        out.write(json.dumps({"sample_id": sample.sample_id, **row}) + "\n")
                    out.flush()
                    os.fsync(out.fileno())
                    bar.update(len(chunk))
        return [self.rows[s.sample_id] for s in samples]


def sample_cache(recommender: Recommender, split: str, kind: str = "candidates") -> SampleCache:
    folder = artifacts_dir() / "rag-cache" / recommender.config.dataset
    return SampleCache(folder / f"{split}-{kind}-{recommender.setup_key}.jsonl")


def cached_candidates(recommender: Recommender, samples: list[Sample], split: str, progress: bool = False,
                      llm: bool = True) -> list[Candidates]:
    """Each sample's candidates, scored by the LLM unless ``llm`` is False (cached apart: "retrieved")."""
    compute = lambda chunk: [c.to_json() for c in recommender.candidates([s.context for s in chunk], llm)]  # noqa: E731
    cache = sample_cache(recommender, split, "candidates" if llm else "retrieved")
    return [Candidates.from_json(row) for row in cache.get(samples, compute, progress)]


def tune_on(recommender: Recommender, rows: list[Candidates], samples: list[Sample],
            grid: dict = GRID) -> tuple[FusionWeights, float]:
    """The best ``grid`` point for these samples' candidates, and its objective (see ``fusion.tune``)."""
    matrices = [signals(c, s.mentioned, recommender.priors) for c, s in zip(rows, samples)]
    return tune(matrices, [c.ids for c in rows], [s.gold for s in samples], grid)


def tuned_weights(recommender: Recommender, dataset: Dataset, protocol: str, progress: bool = True,
                  retune: bool = False, samples_limit: int | None = None) -> FusionWeights:
    """Fusion weights for ``protocol``, tuned on (the first ``samples_limit`` samples of) the validation split;
    saved per recommender setup and reused."""
    path = recommender.weights_path(protocol)
    if path.is_file() and not retune:
        return FusionWeights.load(path)
    samples = dataset.samples("valid", protocol)[:samples_limit]
    rows = cached_candidates(recommender, samples, "valid", progress)
    grid = {**GRID, "llm": (0.0,)} if recommender.model is None else GRID
    weights, score = tune_on(recommender, rows, samples, grid)
    weights.save(path, tuned_on=f"{dataset.name}-{protocol} valid ({len(samples)} samples)",
                 objective="mean Recall@1 + Recall@10 + Recall@50", score=round(score, 4), setup=recommender.setup)
    return weights


class Fused:
    """``rag`` / ``rag-no-llm``: the recommender's fused ranking with weights tuned on valid; samples are LLM-scored
    only where the weights need it (as in chat)."""

    batch_size = 8

    def __init__(self, recommender: Recommender, weights: FusionWeights, split: str):
        self.recommender, self.weights, self.split = recommender, weights, split

    def rank(self, samples: list[Sample]) -> list[list[str]]:
        rows = cached_candidates(self.recommender, samples, self.split, llm=self.weights.needs_llm)
        return [[item for item, _ in self.recommender.fused(c, s.mentioned, self.weights)] for c, s in zip(rows, samples)]


class Generated:
    """``llm-zeroshot`` / ``rag-no-postprocess``: the titles the LLM writes, mapped to catalogue ids."""

    batch_size = 8

    def __init__(self, recommender: Recommender, with_kb: bool, exact: bool, split: str):
        self.recommender, self.with_kb = recommender, with_kb
        self.matcher = TitleMatcher(recommender.catalog.values(), threshold=100.0, popularity=None) if exact else None
        self.cache = sample_cache(recommender, split, ("kb-" if with_kb else "no-kb-") + ("exact" if exact else "fuzzy"))

    def rank(self, samples: list[Sample]) -> list[list[str]]:
        compute = lambda chunk: [{"ids": ids} for ids in self.recommender.generated_titles(  # noqa: E731
            [s.context for s in chunk], self.with_kb, self.matcher)]
        return [row["ids"] for row in self.cache.get(samples, compute)]


def make_rag_system(name: str, recommender: Recommender, dataset: Dataset, protocol: str, split: str,
                    progress: bool = True, tune_samples: int | None = None, retune: bool = False):
    if name in ("rag", "rag-no-llm"):
        weights = tuned_weights(recommender, dataset, protocol, progress, retune, tune_samples)
        return Fused(recommender, weights, split)
    if name == "llm-zeroshot":
        return Generated(recommender, with_kb=False, exact=False, split=split)
    if name == "rag-no-postprocess":
        return Generated(recommender, with_kb=True, exact=True, split=split)
    raise ValueError(f"unknown system {name!r}; choose one of {', '.join(RAG_SYSTEMS)}")
