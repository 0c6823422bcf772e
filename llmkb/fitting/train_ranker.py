"""Training the learned ranker: on the training split's samples (features out of fold, ``llmkb.fitting.folds``),
its boosting rounds chosen on the validation split by the objective the linear fusion is tuned for (mean Recall@1 +
Recall@10 + Recall@50 of the lists the system returns, after the request constraints).

``llmkb train-ranker --dataset D --protocol P [--without SOURCE,...]`` runs :func:`train_ranker` and writes the
ranker beside its provenance. Training samples with no gold movie among their candidates teach a ranker nothing
and are left out. Whether to rank movies the dialogue already mentioned is learned per protocol from the
``mentioned_recency`` feature; the provenance says how often the validation lists put one in their top 10.

>>> config = RankerConfig(without=("graph",))
>>> config.rounds >= max(config.checkpoints), config.params(seed=1)["objective"]
(True, 'lambdarank')
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from llmkb.data.records import Sample
from llmkb.errors import LLMKBError
from llmkb.fitting.cache import cached_candidates
from llmkb.fitting.folds import SampleRows, training_rows
from llmkb.fitting.objective import DEPTH, OBJECTIVE, objective
from llmkb.pipeline.order import order
from llmkb.pipeline.stages import Stages
from llmkb.pipeline.tuned import trained_ranker_path
from llmkb.ranking.features import FEATURES, feature_matrix
from llmkb.ranking.learned import LearnedRanker, ablate

RANKER_OBJECTIVE = f"{OBJECTIVE} on validation, after the request constraints"


@dataclass(frozen=True)
class RankerConfig:
    without: tuple[str, ...] = ()  # candidate sources left out (an ablation)
    rounds: int = 400
    checkpoints: tuple[int, ...] = (25, 50, 100, 150, 200, 300, 400)  # rounds scored on validation
    num_leaves: int = 31
    learning_rate: float = 0.05
    min_data_in_leaf: int = 50
    seed: int = 13

    def __post_init__(self) -> None:
        if max(self.checkpoints) > self.rounds:
            raise ValueError(f"checkpoints {self.checkpoints} go past the {self.rounds} rounds trained")

    def params(self, seed: int | None = None) -> dict:
        return {"objective": "lambdarank", "metric": "ndcg", "eval_at": [10, 50], "num_leaves": self.num_leaves,
                "learning_rate": self.learning_rate, "min_data_in_leaf": self.min_data_in_leaf,
                "feature_fraction": 0.8, "lambdarank_truncation_level": 50, "seed": self.seed if seed is None else seed,
                "deterministic": True, "force_row_wise": True, "num_threads": 2, "verbose": -1}


def labelled(rows: SampleRows, golds: dict[str, set[str]], without: Sequence[str]):
    """Features, 0/1 labels and group sizes of the samples in ``golds`` with a gold movie among their (kept)
    candidates, and how many samples that is."""
    matrices, labels, groups = [], [], []
    for n, (sample_id, ids) in enumerate(zip(rows.sample_ids, rows.ids)):
        gold = golds.get(sample_id)
        if not gold:
            continue
        matrix, kept = ablate(rows.rows(n), FEATURES, without)
        label = np.array([item in gold for item, keep in zip(ids, kept) if keep], dtype=float)
        if label.any():
            matrices.append(matrix)
            labels.append(label)
            groups.append(len(label))
    if not groups:
        raise LLMKBError("no training sample has a gold movie among its candidates; nothing to train the ranker on")
    return np.concatenate(matrices), np.concatenate(labels), groups


def valid_rows(stages: Stages, samples: Sequence[Sample]) -> SampleRows:
    """The validation samples' candidates (as evaluation finds them, from the score cache) and their features."""
    found = cached_candidates(stages, list(samples), "valid", llm=False)
    states = stages.states([s.context for s in samples])
    return SampleRows([s.sample_id for s in samples], [c.ids for c in found],
                      np.concatenate([feature_matrix(c, st, stages.priors, stages.facts)
                                      for c, st in zip(found, states)]))


def score_rounds(booster, rows: SampleRows, samples: Sequence[Sample], stages: Stages, without: Sequence[str],
                 checkpoints: Sequence[int]) -> dict[int, dict]:
    """Per checkpoint: the objective on ``samples`` and the share of lists with a mentioned movie in their top 10."""
    states = stages.states([s.context for s in samples])
    results = {}
    for rounds in checkpoints:
        ranker = LearnedRanker(booster, rounds, without)
        total = mentioned = 0.0
        for n, (sample, state) in enumerate(zip(samples, states)):
            ranked = order([item for item, _ in ranker.order(rows.ids[n], rows.rows(n))], state, stages, DEPTH)
            total += objective(ranked, sample.gold)
            mentioned += bool(set(ranked[:10]) & set(state.mentioned))
        results[rounds] = {"objective": round(total / len(samples), 4),
                           "mentioned_in_top10": round(mentioned / len(samples), 4)}
    return results


def train_ranker(stages: Stages, protocol: str, config: RankerConfig = RankerConfig(), out: Path | None = None,
                 report: Callable[[float], None] | None = None, progress: bool = True) -> tuple[LearnedRanker, Path]:
    """Train on the training split (out of fold), choose the rounds on valid, write the ranker to ``out`` (default:
    ``trained_ranker_path`` of this setup). Returns the ranker and its file."""
    import lightgbm

    if stages.uses_llm:
        raise LLMKBError("the learned ranker ranks without LLM scores; load the stages with llm_scoring=False")
    dataset = stages.dataset
    started = time.time()
    rows, made = training_rows(stages, (lambda f: report(0.8 * f)) if report else None, progress)
    golds = {s.sample_id: set(s.gold) for s in dataset.samples("train", protocol)}
    features, labels, groups = labelled(rows, golds, config.without)
    valid = dataset.samples("valid", protocol)
    if not valid:
        raise LLMKBError(f"{dataset.name} has no {protocol} validation samples to choose the ranker on")
    checked = valid_rows(stages, valid)
    trained_at = time.time()
    booster = lightgbm.train(config.params(), lightgbm.Dataset(features, labels, group=groups,
                                                               feature_name=list(FEATURES)),
                             num_boost_round=config.rounds,
                             callbacks=[_progress(config.rounds, progress, report)])
    training_seconds = time.time() - trained_at
    trees = booster.current_iteration()  # LightGBM stops early when no split gains any more
    checkpoints = sorted({min(rounds, trees) for rounds in config.checkpoints})
    curve = score_rounds(booster, checked, valid, stages, config.without, checkpoints)
    rounds = max(curve, key=lambda r: (curve[r]["objective"], -r))
    ranker = LearnedRanker(booster, rounds, config.without)
    gains = booster.feature_importance("gain", iteration=rounds)
    out = Path(out) if out else trained_ranker_path(dataset.name, protocol, stages.config.setup_key, config.without)
    ranker.save(out, tuned_on=f"{dataset.name}-{protocol}", objective=RANKER_OBJECTIVE, score=curve[rounds]["objective"],
                mentioned_in_top10=curve[rounds]["mentioned_in_top10"], curve=curve, config=asdict(config),
                setup=stages.config.setup, training_samples=len(groups), training_rows=len(labels),
                training_data=made, training_seconds=round(training_seconds, 1),
                seconds=round(time.time() - started, 1), valid_samples=len(valid),
                importance={name: round(float(g), 1) for name, g in sorted(zip(FEATURES, gains), key=lambda x: -x[1])},
                data_files=dataset.file_hashes(), command=" ".join(["llmkb", *sys.argv[1:]]),
                date=time.strftime("%Y-%m-%d"))
    ranker.path = out
    if report:
        report(1.0)
    return ranker, out


def _progress(total: int, progress: bool, report: Callable[[float], None] | None):
    bar = tqdm(total=total, desc="training the ranker", unit="round", disable=not progress)

    def callback(env) -> None:
        bar.update(1)
        if report:
            report(0.8 + 0.2 * (env.iteration + 1) / total)
        if env.iteration + 1 == total:
            bar.close()

    return callback


def learned_ranker(stages: Stages, protocol: str, without: tuple[str, ...] = (), retrain: bool = False,
                   progress: bool = True) -> LearnedRanker:
    """``rag-ranker``'s ranker: the config's, else the one trained for this setup (trained now when missing or
    ``retrain``)."""
    if stages.config.ranker:
        if without:
            raise LLMKBError(f"the ranker {stages.config.ranker} is given and an ablation (without "
                             f"{', '.join(without)}) is asked for; give one of them")
        return LearnedRanker.load(stages.config.ranker)
    path = trained_ranker_path(stages.config.dataset, protocol, stages.config.setup_key, without)
    if path.is_file() and not retrain:
        return LearnedRanker.load(path)
    return train_ranker(stages, protocol, RankerConfig(without=without), progress=progress)[0]
