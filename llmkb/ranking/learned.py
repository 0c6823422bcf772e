"""The learned ranker: LightGBM LambdaRank over every candidate's features (``llmkb.ranking.features``).

``llmkb train-ranker`` trains it (``llmkb.fitting.train_ranker``); a recommender uses it when its config names the file
(``RecommenderConfig.ranker``), in place of the linear fusion. An ablation (``without``) leaves out candidate
sources: the candidates only they proposed are dropped, and so are the features that come from them (an item
representation's cosines go with its source), in training and in ranking alike.

>>> masked, kept = ablate(np.array([[0.0, np.nan, 1.0], [np.nan, 2.0, 1.0]]), ["rank_in_a", "rank_in_b", "x"],
...                       ("b",), sources=("a", "b"))
>>> kept.tolist(), masked.shape
([True, False], (1, 3))
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from llmkb.data.io import atomic_write_json
from llmkb.errors import LLMKBError
from llmkb.kb.facts import FactIndex
from llmkb.priors.training import TrainingPriors
from llmkb.ranking.candidates import SOURCES, Candidates
from llmkb.ranking.features import FEATURES, REPRESENTATIONS, feature_matrix
from llmkb.retrieval.query import TurnState


def ablated_features(without: Sequence[str], names: Sequence[str] = FEATURES) -> list[int]:
    """Indices of the features that come from the left-out sources."""
    gone = {f"rank_in_{s}" for s in without} | {name for s in without if s in (*REPRESENTATIONS, "plot")
                                                for name in names if name.startswith(f"{s}_")}
    return [n for n, name in enumerate(names) if name in gone]


def ablate(matrix: np.ndarray, names: Sequence[str], without: Sequence[str],
           sources: Sequence[str] = SOURCES) -> tuple[np.ndarray, np.ndarray]:
    """``matrix`` without the rows only left-out sources proposed and with their features missing (NaN); and the
    mask of the rows kept."""
    if not without:
        return matrix, np.ones(len(matrix), dtype=bool)
    kept_sources = [names.index(f"rank_in_{s}") for s in sources if s not in without]
    kept = ~np.isnan(matrix[:, kept_sources]).all(axis=1)
    masked = matrix[kept].copy()
    masked[:, ablated_features(without, names)] = np.nan
    if "sources" in names:  # count only the proposals of the sources kept
        masked[:, names.index("sources")] = (~np.isnan(masked[:, kept_sources])).sum(axis=1)
    return masked, kept


class LearnedRanker:
    """A trained LambdaRank booster, used at the boosting round chosen on validation."""

    needs_llm = False  # it ranks without the LLM's scores

    def __init__(self, booster, rounds: int, without: Sequence[str] = (), path: Path | None = None):
        self.booster, self.rounds, self.without, self.path = booster, rounds, tuple(without), path

    def scores(self, matrix: np.ndarray) -> np.ndarray:
        return self.booster.predict(matrix, num_iteration=self.rounds) if len(matrix) else np.zeros(0)

    def rank(self, candidates: Candidates, state: TurnState, priors: TrainingPriors,
             facts: FactIndex) -> list[tuple[str, float]]:
        """Candidates best first with their scores (those only left-out sources proposed are dropped)."""
        return self.order(candidates.ids, feature_matrix(candidates, state, priors, facts))

    def order(self, ids: Sequence[str], matrix: np.ndarray) -> list[tuple[str, float]]:
        """``ids`` (rows of the full feature ``matrix``) best first with their scores, after the ablation."""
        matrix, kept = ablate(matrix, FEATURES, self.without)
        ids = [item for item, keep in zip(ids, kept) if keep]
        scores = self.scores(matrix)
        return [(ids[i], float(scores[i])) for i in np.argsort(-scores, kind="stable")]

    def save(self, path: Path, **provenance) -> None:
        """The booster as ``PATH.txt`` beside ``PATH`` (JSON: rounds, ablation, features, provenance); the JSON is
        written last, so a file that exists is complete."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        model = path.with_suffix(".txt")
        tmp = model.with_name(f".{model.name}.tmp")
        self.booster.save_model(str(tmp))
        tmp.replace(model)
        atomic_write_json(path, {"ranker": "lightgbm lambdarank", "model": model.name, "rounds": self.rounds,
                                 "without": list(self.without), "features": list(FEATURES), **provenance})

    @classmethod
    def load(cls, path: Path) -> LearnedRanker:
        import lightgbm

        path = Path(path)
        try:
            meta = json.loads(path.read_text())
            if meta["features"] != list(FEATURES):
                raise ValueError("it was trained on other features than this version computes")
            booster = lightgbm.Booster(model_file=str(path.parent / meta["model"]))
        except (OSError, ValueError, KeyError, lightgbm.basic.LightGBMError) as error:
            raise LLMKBError(f"cannot use the learned ranker {path} ({error}); train it again with "
                             "`llmkb train-ranker --dataset D --protocol P`") from error
        return cls(booster, int(meta["rounds"]), meta.get("without", ()), path)
