"""The learned ranker's training data: candidates and features for the training samples, computed out of fold.

A training sample's own dialogue must not shape its features, or the ranker learns to trust signals that are far
weaker on unseen dialogues. So the training dialogues are split into ``FOLDS`` folds (by a hash of the dialogue
id), and each fold's samples get what the other folds alone give: popularity, co-mentions, item2vec and the graph
embedding (``TrainingPriors.from_dialogues``); the KB documents' co-mention text ("Often mentioned with"), so that
a sample's own dialogue does not bring its gold movie's document closer to its query; and, when the served retriever
is a calibrated one, a calibration map trained on the other folds' samples (the calibrated map reaches Recall@50 .61
on the training queries it was fitted on and .39 on validation). Candidate generation is then the one test uses
(``CandidateFinder``).

Each fold's matrices are cached under ``artifacts/ranker/DATASET/folds`` by their inputs, so an interrupted build
resumes at the fold it was on.

>>> fold_of("20001") == fold_of("20001"), {fold_of(str(n)) for n in range(50)} == set(range(FOLDS))
(True, True)
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from llmkb.data.io import atomic_write_json
from llmkb.data.records import Sample
from llmkb.kb.documents import KBDocument, build_documents, co_mention_counts
from llmkb.models import default_retriever_path
from llmkb.paths import artifacts_dir
from llmkb.pipeline.stages import CandidateFinder, Stages
from llmkb.priors.items import cache_graphs
from llmkb.priors.training import TrainingPriors, items_cache
from llmkb.ranking.features import FEATURES, FEATURES_VERSION, feature_matrix
from llmkb.retrieval import DenseRetriever
from llmkb.retrieval.artifacts import calibration_record
from llmkb.retrieval.calibrate import CalibrationConfig, query_embeddings, train_map
from llmkb.retrieval.index import DenseIndex

FOLDS = 5
Report = Callable[[float], None]


def fold_of(dialogue_id: str, folds: int = FOLDS) -> int:
    return int(hashlib.sha1(dialogue_id.encode()).hexdigest(), 16) % folds


@dataclass
class SampleRows:
    """Candidates and features of samples, stacked: ``features[offsets[n]:offsets[n + 1]]`` are sample n's rows."""

    sample_ids: list[str]
    ids: list[list[str]]  # each sample's candidate ids
    features: np.ndarray  # (all candidates × FEATURES), float32

    @property
    def offsets(self) -> np.ndarray:
        return np.cumsum([0, *map(len, self.ids)])

    def rows(self, n: int) -> np.ndarray:
        start, end = self.offsets[n], self.offsets[n + 1]
        return self.features[start:end]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        with open(tmp, "wb") as out:
            np.savez(out, features=self.features, sample_ids=np.array(self.sample_ids),
                     ids=np.array(["\x1f".join(ids) for ids in self.ids]))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> SampleRows:
        with np.load(path) as stored:
            return cls([str(s) for s in stored["sample_ids"]], [str(row).split("\x1f") if str(row) else []
                                                                for row in stored["ids"]], stored["features"])

    @classmethod
    def concat(cls, parts: Sequence[SampleRows]) -> SampleRows:
        return cls([s for p in parts for s in p.sample_ids], [ids for p in parts for ids in p.ids],
                   np.concatenate([p.features for p in parts]) if parts else np.zeros((0, len(FEATURES)), np.float32))


class MappedRetriever:
    """A retriever made of the base encoder's cached query embeddings and a calibration map: what the calibrated
    retriever would give had it been fitted on other samples. It offers what ``CandidateFinder`` uses.
    ``documents``: the base encoder's document vectors to map (default: its index's)."""

    def __init__(self, linear: torch.nn.Linear, base: DenseRetriever, embeddings: dict[str, np.ndarray],
                 documents: np.ndarray | None = None):
        self.linear, self.base, self.embeddings = linear, base, embeddings
        vectors = base.index.vectors() if documents is None else documents
        self.index = DenseIndex.build(self._map(vectors), base.index.item_ids)

    @torch.no_grad()
    def _map(self, vectors: np.ndarray) -> np.ndarray:
        return torch.nn.functional.normalize(self.linear(torch.from_numpy(np.asarray(vectors))), dim=-1).numpy()

    def encode(self, queries: Sequence[str]) -> np.ndarray:
        missing = [q for q in queries if q not in self.embeddings]
        if missing:  # not among the calibration's queries: encode them now
            self.embeddings.update(zip(missing, self.base.encode(missing)))
        return self._map(np.stack([self.embeddings[q] for q in queries]))


def document_vectors(retriever: DenseRetriever, documents: Sequence[KBDocument]) -> tuple[np.ndarray, int]:
    """``retriever``'s document vectors had its KB read ``documents`` (the same items, in the same order), and how
    many were encoded again: only those whose text differs within the encoder's window."""
    if [doc.item_id for doc in documents] != retriever.index.item_ids:
        raise ValueError("the documents are not the retriever's items in its order")
    vectors = retriever.index.vectors().copy()
    changed = [n for n, (old, new) in enumerate(zip(retriever.documents, documents)) if old.text != new.text]
    if changed:
        model = retriever.model

        def window(texts: list[str]) -> list[list[int]]:
            return model.tokenizer(texts, truncation=True, max_length=model.max_seq_length)["input_ids"]

        before = window([retriever.documents[n].text for n in changed])
        after = window([documents[n].text for n in changed])
        changed = [n for n, old, new in zip(changed, before, after) if old != new]
    if changed:
        vectors[changed] = model.encode([documents[n].text for n in changed], batch_size=64, convert_to_numpy=True,
                                        normalize_embeddings=True)
    return vectors, len(changed)


class FoldRetrievers:
    """The served retriever as it would be had one fold's dialogues been left out: ``retrievers(fold, documents)``.

    - Its KB documents are ``documents``, whose co-mention text ("Often mentioned with") the other folds give
      (:func:`document_vectors`).
    - With a calibrated served retriever, the calibration is trained again without the fold's samples (same
      settings, best epoch on valid) against those documents.
    - Otherwise it is the served encoder (in-sample when it was fine-tuned on the training dialogues: ``how`` says so).
    """

    def __init__(self, stages: Stages, progress: bool = True):
        self.encoded = 0
        self.record = calibration_record(stages.config.retriever)
        if not self.record:
            trained = Path(stages.config.retriever) != default_retriever_path()
            self.how = "the served retriever (in-sample: it was trained on these dialogues)" if trained else \
                "the served retriever (not trained on the dialogues)"
            self.base = stages.retriever
        else:
            self.config = CalibrationConfig(**self.record["config"])
            self.base = DenseRetriever.for_dataset(stages.dataset, self.record["base"], progress=progress)
            queries, self.embedded = query_embeddings(stages.dataset, self.base, self.config, progress)
            self.by_text = dict(zip(queries, self.embedded))
            self.train = stages.dataset.samples("train", "std")
            self.position = {item: n for n, item in enumerate(self.base.index.item_ids)}
            self.golds = [{self.position[g] for g in s.gold if g in self.position}
                          for s in stages.dataset.samples("valid", "std")]
            self.how = f"calibration maps trained without each fold ({FOLDS} folds, {self.record['config']})"
        self.how += "; KB co-mention text from the other folds"

    def __call__(self, fold: int, documents: Sequence[KBDocument]):
        vectors, encoded = document_vectors(self.base, documents)
        self.encoded += encoded
        if not self.record:
            retriever = copy.copy(self.base)
            retriever.index = DenseIndex.build(vectors, self.base.index.item_ids, self.base.index_kind)
            return retriever
        train, position = self.train, self.position
        kept = [n for n, s in enumerate(train) if fold_of(s.dialogue_id) != fold]
        rows = {n: row for row, n in enumerate(kept)}
        pairs = torch.tensor([(rows[n], position[g]) for n in kept for g in train[n].gold if g in position])
        linear, curve = train_map(torch.from_numpy(self.embedded[kept]), torch.from_numpy(self.embedded[len(train):]),
                                  torch.from_numpy(vectors), pairs, self.golds, self.config, progress=False)
        best = max(curve, key=lambda point: (point["valid_recall@50"], -point["epoch"]))
        return MappedRetriever(linear(best["epoch"]), self.base, self.by_text, vectors)


def training_rows(stages: Stages, report: Report | None = None, progress: bool = True) -> tuple[SampleRows, dict]:
    """Out-of-fold candidates and features of every training sample (std; dedup's samples are among them), and how
    they were made. Cached by fold."""
    dataset, catalog, facts = stages.dataset, stages.catalog, stages.facts
    train = dataset.samples("train", "std")
    key = hashlib.sha256(json.dumps([stages.config.setup, FOLDS, FEATURES, FEATURES_VERSION, dataset.file_hashes(),
                                     [s.sample_id for s in train]]).encode()).hexdigest()[:16]
    folder = artifacts_dir() / "ranker" / dataset.name / "folds"
    paths = [folder / f"{key}-fold{fold}.npz" for fold in range(FOLDS)]
    record = folder / f"{key}.json"
    if record.is_file() and all(path.is_file() for path in paths):
        return SampleRows.concat([SampleRows.load(path) for path in paths]), json.loads(record.read_text())
    made = {"folds": FOLDS, "key": key, "samples": len(train)}
    started = time.time()
    retrievers = FoldRetrievers(stages, progress)
    by_dialogue = {d.dialogue_id: d for d in dataset.train}
    missing = [fold for fold in range(FOLDS) if not paths[fold].is_file()]
    cache_graphs([(facts, co_mention_counts([d for i, d in by_dialogue.items() if fold_of(i) != fold]))
                  for fold in missing], items_cache(dataset.name), progress=progress)  # in parallel, then read
    parts = []
    for fold in tqdm(range(FOLDS), desc="out-of-fold training data", unit="fold", disable=not progress):
        if paths[fold].is_file():
            parts.append(SampleRows.load(paths[fold]))
            continue
        others = [d for i, d in by_dialogue.items() if fold_of(i) != fold]
        priors = TrainingPriors.from_dialogues(others, list(catalog), facts, cache=items_cache(dataset.name),
                                               behaviour=stages.priors.vectors.get("movielens"))
        documents = build_documents(dataset, others)  # co-mention text from the other folds alone
        finder = CandidateFinder(retrievers(fold, documents), priors, catalog, facts, stages.candidates.plots,
                                 stages.config.kb_candidates)
        samples = [s for s in train if fold_of(s.dialogue_id) == fold]
        parts.append(sample_rows(stages, finder, priors, samples))
        parts[-1].save(paths[fold])
        if report:
            report((fold + 1) / FOLDS)
    made["retriever"], made["documents_encoded"] = retrievers.how, retrievers.encoded
    made["seconds"] = round(time.time() - started, 1)
    atomic_write_json(record, made)  # last: the folds are complete
    return SampleRows.concat(parts), made


def sample_rows(stages: Stages, finder: CandidateFinder, priors: TrainingPriors, samples: Sequence[Sample],
                batch: int = 256) -> SampleRows:
    """``finder``'s candidates for ``samples`` and their features under ``priors``."""
    ids, matrices = [], []
    for start in range(0, len(samples), batch):
        chunk = samples[start:start + batch]
        states = stages.states([s.context for s in chunk])
        for state, found in zip(states, finder(states)):
            ids.append(found.ids)
            matrices.append(feature_matrix(found, state, priors, stages.facts))
    return SampleRows([s.sample_id for s in samples], ids,
                      np.concatenate(matrices) if matrices else np.zeros((0, len(FEATURES)), np.float32))
