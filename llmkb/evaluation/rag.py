"""The end-to-end recommender as evaluation systems, with its costly LLM scores cached and its fusion tuned on valid.

- ``rag``: the full pipeline (retriever → LLM scoring over the KB prompt → fused ranking → post-processing);
- ``rag-no-llm``: the same fusion without the LLM signal (retriever + dialogue + popularity);
- ``rag-ranker``: the learned ranker (``llmkb.ranking``: LambdaRank over every signal, without the LLM's) in place
  of the fusion, as the demo serves it;
- ``llm-zeroshot``: the LLM lists titles from the dialogue alone (no KB), mapped to the catalogue by fuzzy matching;
- ``rag-no-postprocess``: the LLM lists titles with the top KB documents in its prompt, matched exactly only
  (no fuzzy matching), then the harness fills the list from popularity as for every system.

Each runs the recommender's own stages (``llmkb.pipeline.stages``) on the samples. LLM scores and generations are
appended, one JSON line per sample, to ``artifacts/rag-cache/<dataset>/`` (keyed by split, kind and recommender
setup): an interrupted run resumes where it stopped, and std and dedup (same contexts) share them. ``rag``'s fusion
weights are the file ``--weights`` names, else those ``llmkb tune-fusion`` wrote for this setup, else tuned now.

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
from llmkb.errors import LLMKBError
from llmkb.paths import artifacts_dir
from llmkb.pipeline.fusion import Candidates, FusionWeights, trained_ranker_path, tuned_weights_path
from llmkb.pipeline.stages import Stages
from llmkb.postprocess import TitleMatcher
from llmkb.ranking.learned import LearnedRanker

RAG_SYSTEMS = ("rag", "rag-no-llm", "rag-ranker", "llm-zeroshot", "rag-no-postprocess")


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


def fusion_weights(stages: Stages, protocol: str, retune: bool = False, samples_limit: int | None = None,
                   progress: bool = True) -> tuple[FusionWeights, Path]:
    """The weights ``rag`` uses and their file: the config's, else those tuned for this setup (tuned now when
    missing or ``retune``)."""
    from llmkb.evaluation.tuning import tune_fusion

    if stages.config.weights:
        return FusionWeights.load(stages.config.weights), Path(stages.config.weights)
    path = tuned_weights_path(stages.config.dataset, protocol, stages.config.setup_key)
    if path.is_file() and not retune:
        return FusionWeights.load(path), path
    return tune_fusion(stages, protocol, samples_limit=samples_limit, progress=progress)


class Fused:
    """``rag`` / ``rag-no-llm`` / ``rag-ranker``: the ranking of the given fusion weights or learned ranker, its
    first ``config.k`` new items constrained by each context's explicit request and dislikes as in chat (unless the
    config turns constraints off); samples are LLM-scored only where the ranking needs it (as in chat). ``split``
    None: contexts that are not the split's samples (simulated conversations), scored without the cache."""

    batch_size = 8

    def __init__(self, stages: Stages, ranking: FusionWeights | LearnedRanker, split: str | None):
        self.stages, self.ranking, self.split = stages, ranking, split
        self.cache = candidate_cache(stages, split, ranking.needs_llm) if split else None

    def rank(self, samples: list[Sample]) -> list[list[str]]:
        stages = self.stages
        states = stages.states([s.context for s in samples])
        if self.cache is None:
            rows = stages.scored_candidates(states, llm=self.ranking.needs_llm)
        else:
            rows = cached_candidates(stages, samples, self.split, llm=self.ranking.needs_llm, cache=self.cache)
        ranked = [[item for item, _ in self.ranking.rank(c, state, stages.priors, stages.facts)]
                  for c, state in zip(rows, states)]
        if not stages.config.constraints:
            return ranked
        return [stages.constrain(ids, state) for ids, state in zip(ranked, states)]


def learned_ranker(stages: Stages, protocol: str, without: tuple[str, ...] = (), retrain: bool = False,
                   progress: bool = True) -> LearnedRanker:
    """``rag-ranker``'s ranker: the config's, else the one trained for this setup (trained now when missing or
    ``retrain``)."""
    from llmkb.ranking.train import RankerConfig, train_ranker

    if stages.config.ranker and not without:
        return LearnedRanker.load(stages.config.ranker)
    path = trained_ranker_path(stages.config.dataset, protocol, stages.config.setup_key, without)
    if path.is_file() and not retrain:
        return LearnedRanker.load(path)
    return train_ranker(stages, protocol, RankerConfig(without=without), progress=progress)[0]


class Generated:
    """``llm-zeroshot`` / ``rag-no-postprocess``: the titles the LLM writes, mapped to catalogue ids."""

    batch_size = 8

    def __init__(self, stages: Stages, with_kb: bool, exact: bool, split: str):
        if stages.titles is None:
            raise LLMKBError("the generation ablations need the LLM; do not pass --no-llm")
        self.stages, self.with_kb = stages, with_kb
        self.matcher = TitleMatcher(stages.catalog.values(), threshold=100.0, popularity=None) if exact \
            else stages.matcher
        self.cache = sample_cache(stages, split, ("kb-" if with_kb else "no-kb-") + ("exact" if exact else "fuzzy"))

    def rank(self, samples: list[Sample]) -> list[list[str]]:
        compute = lambda chunk: [{"ids": ids} for ids in self.stages.titles(  # noqa: E731
            self.stages.states([s.context for s in chunk]), self.with_kb, self.matcher)]
        return [row["ids"] for row in self.cache.get(samples, compute)]


def make_rag_system(name: str, stages: Stages, protocol: str, split: str | None,
                    ranking: FusionWeights | LearnedRanker | None = None):
    """``ranking``: for ``rag`` / ``rag-no-llm`` the fusion weights (see :func:`fusion_weights`), for ``rag-ranker``
    the learned ranker (see :func:`learned_ranker`)."""
    if name in ("rag", "rag-no-llm", "rag-ranker"):
        if ranking is None:
            raise ValueError(f"{name} needs its ranking: see fusion_weights() and learned_ranker()")
        return Fused(stages, ranking, split)
    if name == "llm-zeroshot":
        return Generated(stages, with_kb=False, exact=False, split=split)
    if name == "rag-no-postprocess":
        return Generated(stages, with_kb=True, exact=True, split=split)
    raise ValueError(f"unknown system {name!r}; choose one of {', '.join(RAG_SYSTEMS)}")
