"""Recommender systems the harness can evaluate. Each returns, per sample, candidate ids best first (any length);
the harness completes every list to exactly 50 distinct catalogue ids.

- ``popularity``: mention counts in training dialogues;
- ``copy-context``: movies already mentioned, most recent first (then popularity, in the harness);
- ``bm25``: BM25 (bm25s) over KB documents with the query text;
- ``retriever-zeroshot`` / ``retriever-calibrated`` / ``retriever``: the dense retriever: the packaged base, with
  the calibration map (``llmkb calibrate-retriever``), or fully fine-tuned (``llmkb train-retriever``).
"""

from __future__ import annotations

from pathlib import Path

from llmkb.data.dataset import Dataset
from llmkb.data.records import Sample
from llmkb.kb import build_kb, load_kb
from llmkb.errors import ModelError
from llmkb.retrieval import DenseRetriever, QueryBuilder, QueryConfig
from llmkb.retrieval.artifacts import calibrated_path, finetuned_path

SYSTEMS = ("popularity", "copy-context", "bm25", "retriever-zeroshot", "retriever-calibrated", "retriever")
CANDIDATES = 100


class Popularity:
    batch_invariant = True  # a sample's ranking does not depend on the others in its batch (llmkb.scale shards)

    def __init__(self, dataset: Dataset):
        self.ranking = dataset.popularity

    def rank(self, samples: list[Sample]) -> list[list[str]]:
        return [self.ranking[:CANDIDATES] for _ in samples]


class CopyContext:
    batch_invariant = True

    def rank(self, samples: list[Sample]) -> list[list[str]]:
        return [list(sample.mentioned) for sample in samples]


class BM25:
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
    def __init__(self, retriever: DenseRetriever):
        self.retriever = retriever

    def rank(self, samples: list[Sample]) -> list[list[str]]:
        return [[item for item, _ in row] for row in self.retriever.rank([s.context for s in samples], CANDIDATES)]


def make_system(name: str, dataset: Dataset, retriever_path: str | Path | None = None,
                query: QueryConfig = QueryConfig()):
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
    raise ValueError(f"unknown system {name!r}; choose one of {', '.join(SYSTEMS)}")
