"""Every system the harness can evaluate, in one registry (``SYSTEMS``), each a :class:`System`: per sample, candidate
ids best first (any length); the harness completes every list to exactly 50 distinct catalogue ids.

The baselines are built from the dataset alone (here); the recommender's own systems from its stages and a ranking
that was tuned or trained beforehand (``llmkb.evaluation.rag``; ``llmkb.fitting`` loads or fits the ranking at the
command's edge, never here).

>>> [name for name, entry in SYSTEMS.items() if entry.ranking == "learned"], SYSTEMS["bm25"].stages
(['rag-ranker'], False)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from llmkb.data.dataset import Dataset
from llmkb.data.records import Sample
from llmkb.kb import build_kb, load_kb
from llmkb.errors import LLMKBError, ModelError
from llmkb.evaluation.harness import System
from llmkb.evaluation.rag import Fused, Generated
from llmkb.pipeline.stages import Stages
from llmkb.ranking import Ranker
from llmkb.retrieval import DenseRetriever, QueryBuilder, QueryConfig
from llmkb.retrieval.artifacts import calibrated_path, finetuned_path

CANDIDATES = 100
BATCH = 256  # samples per call of a fast system's rank


@dataclass(frozen=True)
class Entry:
    about: str
    stages: bool = False  # built on the recommender's stages (else on the dataset alone)
    ranking: str | None = None  # "fusion" or "learned": what it ranks with, given to it ready
    llm: bool = False  # its stages load the LLM
    conversational: bool = True  # ranks any context, not only a split's samples (the simulated users talk to it)


SYSTEMS = {
    "popularity": Entry("mention counts in training dialogues"),
    "copy-context": Entry("movies already mentioned, most recent first (then popularity, in the harness)"),
    "bm25": Entry("BM25 (bm25s) over the KB documents with the query text"),
    "retriever-zeroshot": Entry("the packaged dense retriever"),
    "retriever-calibrated": Entry("the dense retriever with its calibration map (llmkb calibrate-retriever)"),
    "retriever": Entry("the fully fine-tuned dense retriever (llmkb train-retriever)"),
    "rag": Entry("the full pipeline: retriever, LLM scoring over the KB prompt, fused ranking, post-processing",
                 stages=True, ranking="fusion", llm=True),
    "rag-no-llm": Entry("the same fusion without the LLM signal", stages=True, ranking="fusion"),
    "rag-ranker": Entry("the learned ranker in place of the fusion, as the demo serves it", stages=True,
                        ranking="learned"),
    "llm-zeroshot": Entry("the LLM lists titles from the dialogue alone, fuzzy-matched to the catalogue", stages=True,
                          llm=True, conversational=False),
    "rag-no-postprocess": Entry("the LLM lists titles with the top KB documents in its prompt, matched exactly",
                                stages=True, llm=True, conversational=False),
}


class Popularity:
    batch_size = BATCH
    batch_invariant = True

    def __init__(self, dataset: Dataset):
        self.ranking = dataset.popularity

    def rank(self, samples: list[Sample]) -> list[list[str]]:
        return [self.ranking[:CANDIDATES] for _ in samples]


class CopyContext:
    batch_size = BATCH
    batch_invariant = True

    def rank(self, samples: list[Sample]) -> list[list[str]]:
        return [list(sample.mentioned) for sample in samples]


class BM25:
    batch_size = BATCH
    batch_invariant = True

    def __init__(self, dataset: Dataset, query: QueryConfig = QueryConfig()):
        import bm25s

        documents = load_kb(build_kb(dataset)[0])
        self.item_ids = [doc.item_id for doc in documents]
        self.retriever = bm25s.BM25()
        self.retriever.index(bm25s.tokenize([doc.text for doc in documents], stopwords="en", show_progress=False),
                             show_progress=False)
        self.builder = QueryBuilder.for_dataset(dataset, query, documents)

    def rank(self, samples: list[Sample]) -> list[list[str]]:
        import bm25s

        queries = bm25s.tokenize([self.builder.build(s.context) for s in samples], stopwords="en", show_progress=False)
        ids, _ = self.retriever.retrieve(queries, k=min(CANDIDATES, len(self.item_ids)), show_progress=False)
        return [[self.item_ids[i] for i in row] for row in ids]


class Dense:
    batch_size = BATCH
    batch_invariant = False

    def __init__(self, retriever: DenseRetriever):
        self.retriever = retriever

    def rank(self, samples: list[Sample]) -> list[list[str]]:
        return [[item for item, _ in row] for row in self.retriever.rank([s.context for s in samples], CANDIDATES)]


def make_system(name: str, dataset: Dataset, retriever_path: str | Path | None = None,
                query: QueryConfig = QueryConfig(), stages: Stages | None = None, ranking: Ranker | None = None,
                split: str | None = None) -> System:
    """System ``name`` of ``SYSTEMS``. A baseline reads ``dataset`` (``retriever_path``, ``query``: the dense ones'
    model and query); the recommender's systems read ``stages``, their ``ranking`` (fusion weights or the learned
    ranker, as ``SYSTEMS[name].ranking`` says) and ``split`` (None: contexts that are not a split's samples)."""
    entry = SYSTEMS.get(name)
    if entry is None:
        raise LLMKBError(f"unknown system {name!r}; choose one of {', '.join(SYSTEMS)}")
    if entry.stages:
        if stages is None or (entry.ranking and ranking is None):
            raise LLMKBError(f"{name} needs the recommender's stages{' and its ranking' * bool(entry.ranking)}: "
                             "see llmkb.fitting's fusion_weights() and learned_ranker()")
        if entry.ranking:
            return Fused(stages, ranking, split)
        return Generated(stages, with_kb=name == "rag-no-postprocess", exact=name == "rag-no-postprocess", split=split)
    if name == "popularity":
        return Popularity(dataset)
    if name == "copy-context":
        return CopyContext()
    if name == "bm25":
        return BM25(dataset, query)
    if name == "retriever-zeroshot":
        return Dense(DenseRetriever.for_dataset(dataset, retriever_path, query))
    if name in ("retriever", "retriever-calibrated"):
        trained, command = (finetuned_path, "train-retriever") if name == "retriever" else \
            (calibrated_path, "calibrate-retriever")
        path = Path(retriever_path) if retriever_path else trained(dataset.name)
        if not (path / "modules.json").is_file():
            raise ModelError(f"{name} needs a model at {path}; build it with `llmkb {command} --dataset "
                             f"{dataset.name}` or pass --retriever DIR")
        return Dense(DenseRetriever.for_dataset(dataset, path, query))
