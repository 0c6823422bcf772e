"""The end-to-end recommender as evaluation systems: they read the stages, the candidate cache and a ranking that
was tuned or trained beforehand (``llmkb.fitting``); they never train.

- ``rag``: the full pipeline (retriever → LLM scoring over the KB prompt → fused ranking → post-processing);
- ``rag-no-llm``: the same fusion without the LLM signal (retriever + dialogue + popularity);
- ``rag-ranker``: the learned ranker (``llmkb.ranking.learned``: LambdaRank over every signal, without the LLM's) in
  place of the fusion, as the demo serves it;
- ``llm-zeroshot``: the LLM lists titles from the dialogue alone (no KB), mapped to the catalogue by fuzzy matching;
- ``rag-no-postprocess``: the LLM lists titles with the top KB documents in its prompt, matched exactly only
  (no fuzzy matching), then the harness fills the list from popularity as for every system.

Each runs the recommender's own stages (``llmkb.pipeline.stages``) on the samples. Candidates and LLM scores come
from the per-split cache (``llmkb.fitting.cache``), and generations are cached beside them the same way.

``llmkb.evaluation.systems`` registers them with the baselines (``SYSTEMS``, ``make_system``).
"""

from __future__ import annotations

from llmkb.data.records import Sample
from llmkb.errors import LLMKBError
from llmkb.evaluation.harness import RANKED_LENGTH
from llmkb.fitting.cache import cached_candidates, candidate_cache, sample_cache
from llmkb.pipeline.order import order
from llmkb.pipeline.stages import Stages
from llmkb.postprocess import TitleMatcher
from llmkb.ranking import Ranker


class Fused:
    """``rag`` / ``rag-no-llm`` / ``rag-ranker``: the ranking of the given fusion weights or learned ranker, put in
    its final order as chat puts it (``llmkb.pipeline.order``: its first ``config.k`` new items constrained by each
    context's explicit request and dislikes, unless the config turns constraints off, and filled from the
    popularity under the same constraints), except that the mentioned movies keep their places; samples are
    LLM-scored only where the ranking needs it (as in chat). ``split`` None: contexts that are not the split's
    samples (simulated conversations), scored without the cache."""

    batch_size = 8
    batch_invariant = False

    def __init__(self, stages: Stages, ranking: Ranker, split: str | None):
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
        # the whole ranking, filled so that the protocol's length remains after the harness or the simulator leaves
        # out the dialogue's movies (the movies the simulated user turned down are among them)
        return [order(ids, state, stages, max(len(ids), RANKED_LENGTH + len(state.mentioned)))
                for ids, state in zip(ranked, states)]


class Generated:
    """``llm-zeroshot`` / ``rag-no-postprocess``: the titles the LLM writes, mapped to catalogue ids."""

    batch_size = 8
    batch_invariant = False

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
