"""Tuning the fusion weights: a grid search on the validation split, written with its provenance.

``llmkb tune-fusion --dataset D --protocol P [--out FILE]`` runs :func:`tune_fusion`: it scores the validation
samples' candidates (the LLM scores are cached), picks the grid point that maximises mean Recall@1 + Recall@10 +
Recall@50, and writes the weights beside the setup that produced the scores, the data files' hashes, the grid and
the objective. Chat and the demo pick them up for their setup (``llmkb.pipeline.tuned.with_tuned_ranking``);
an evaluation run uses them, or tunes them first, through :func:`fusion_weights` at the command's edge.

>>> import numpy as np
>>> matrices = [np.array([[1.0, 0, 0, 0, 0, 0], [0.0, 0, 1, 0, 0, 0]])]  # two candidates × the six signals
>>> weights, score = tune(matrices, [["a", "gold"]], [["gold"]], {**GRID, "llm": (0.0,)})
>>> weights.context > 0, score
(True, 3.0)
"""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from llmkb.data.records import Sample
from llmkb.errors import LLMKBError
from llmkb.fitting.cache import cached_candidates
from llmkb.fitting.objective import DEPTH, OBJECTIVE, objective
from llmkb.pipeline.order import order
from llmkb.pipeline.stages import Stages
from llmkb.pipeline.tuned import tuned_weights_path
from llmkb.ranking.candidates import Candidates
from llmkb.ranking.fusion import FusionWeights, fuse, signals

GRID = {  # the retriever's weight is fixed at 1: only ratios matter
    "llm": (0.0, 0.1, 0.25, 0.5, 1.0, 2.0),
    "context": (0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0),  # 32: every mentioned movie before the rest
    "popularity": (0.0, 0.25, 0.5, 1.0, 2.0, 4.0),
    "co_mention": (0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0),
    "kb_match": (0.0, 0.5, 1.0, 2.0, 4.0, 8.0),
}
FINALISTS = 20  # the best grid points, re-scored on the final lists when the request constraints reorder them


def tune(matrices: Sequence[np.ndarray], candidate_ids: Sequence[list[str]], golds: Sequence[Sequence[str]],
         grid: Mapping[str, Sequence[float]] = GRID,
         rerank: Callable[[int, list[str]], list[str]] | None = None) -> tuple[FusionWeights, float]:
    """The grid point that maximises mean Recall@1 + Recall@10 + Recall@50 over the given (validation) samples.
    ``rerank(sample index, fused ids)``: what the system does to a fused list after fusion (the request
    constraints); the ``FINALISTS`` best points are then re-scored on the lists it returns."""
    if not matrices:
        raise LLMKBError("no validation samples to tune the fusion weights on")
    points = [FusionWeights(retriever=1.0, **dict(zip(grid, values))) for values in itertools.product(*grid.values())]
    vectors = np.stack([weights.vector() for weights in points], axis=1)  # signals × grid points
    totals = np.zeros(len(points))
    for matrix, ids, gold in zip(matrices, candidate_ids, golds):
        gold = set(gold)
        hit = np.array([item in gold for item in ids], dtype=float)
        ranked = hit[np.argsort(-(matrix @ vectors), axis=0, kind="stable")]  # candidates × grid points
        totals += (ranked[:1].sum(0) + ranked[:10].sum(0) + ranked[:50].sum(0)) / max(len(gold), 1)
    best = int(np.flatnonzero(totals >= totals.max() - 1e-9)[0])  # the first of equals: smaller weights first
    if rerank is None:
        return points[best], float(totals[best]) / len(matrices)
    rescored = {}
    for point in np.argsort(-totals, kind="stable")[:FINALISTS].tolist():
        rescored[point] = sum(objective(rerank(i, [ids[j] for j in fuse(matrix, points[point])]), gold)
                              for i, (matrix, ids, gold) in enumerate(zip(matrices, candidate_ids, golds)))
    best = max(rescored, key=lambda point: (round(rescored[point], 9), -point))  # ties: the earlier grid point
    return points[best], rescored[best] / len(matrices)


def tune_on(stages: Stages, rows: Sequence[Candidates], samples: Sequence[Sample],
            grid: Mapping[str, Sequence[float]] = GRID) -> tuple[FusionWeights, float]:
    """The best ``grid`` point for these samples' candidates, and its objective, scored on the lists the system
    returns (in their final order, ``llmkb.pipeline.order``, when the config applies the request constraints)."""
    matrices = [signals(c, s.mentioned, stages.priors) for c, s in zip(rows, samples)]
    rerank = None
    if stages.config.constraints:
        states = stages.states([s.context for s in samples])
        rerank = lambda i, ids: order(ids, states[i], stages, DEPTH)  # noqa: E731
    return tune(matrices, [c.ids for c in rows], [s.gold for s in samples], grid, rerank)


def tune_fusion(stages: Stages, protocol: str, out: Path | None = None, samples_limit: int | None = None,
                progress: bool = True) -> tuple[FusionWeights, Path]:
    """Tune on (the first ``samples_limit`` samples of) the validation split; write the weights and their
    provenance to ``out`` (default: ``tuned_weights_path`` of this setup). Returns the weights and the file."""
    dataset, config = stages.dataset, stages.config
    samples = dataset.samples("valid", protocol)[:samples_limit]
    rows = cached_candidates(stages, samples, "valid", progress)
    grid = GRID if stages.uses_llm else {**GRID, "llm": (0.0,)}
    weights, score = tune_on(stages, rows, samples, grid)
    out = Path(out) if out else tuned_weights_path(dataset.name, protocol, config.setup_key)
    weights.save(out, tuned_on=f"{dataset.name}-{protocol} valid ({len(samples)} samples)", objective=OBJECTIVE,
                 score=round(score, 4), setup=config.setup, grid={k: list(v) for k, v in grid.items()},
                 scored_after_constraints=f"the best {FINALISTS} grid points" if config.constraints else False,
                 data_files=dataset.file_hashes(),
                 command=" ".join(["llmkb", *sys.argv[1:]]), date=time.strftime("%Y-%m-%d"))
    return weights, out


def llm_signal(stages: Stages, protocol: str) -> str:
    """Does the LLM's score help, on the validation split? Where a gold movie is among the LLM-scored candidates:
    how often the LLM's best-scored candidate is gold, next to the retriever's best among the same candidates;
    then the best objective for each LLM weight of the grid."""
    samples = stages.dataset.samples("valid", protocol)
    rows = cached_candidates(stages, samples, "valid", progress=True)
    llm_right = retriever_right = reachable = 0
    for row, sample in zip(rows, samples):
        scored = [i for i, score in enumerate(row.llm) if score is not None]
        if not any(row.ids[i] in sample.gold for i in scored):
            continue
        reachable += 1
        llm_right += row.ids[max(scored, key=lambda i: row.llm[i])] in sample.gold
        retriever_right += row.ids[max(scored, key=lambda i: row.retriever[i])] in sample.gold
    lines = [f"  {len(samples)} valid samples, {reachable} with a gold movie among the LLM-scored candidates"]
    if reachable:
        lines.append(f"  best-scored candidate is gold: LLM {llm_right / reachable:.3f}, "
                     f"retriever {retriever_right / reachable:.3f}")
    for weight in GRID["llm"]:
        weights, score = tune_on(stages, rows, samples, {**GRID, "llm": (weight,)})
        lines.append(f"  llm weight {weight:<4}: best objective {score:.4f} (context {weights.context}, "
                     f"popularity {weights.popularity}, co-mention {weights.co_mention})")
    return "\n".join(lines)


def fusion_weights(stages: Stages, protocol: str, retune: bool = False, samples_limit: int | None = None,
                   progress: bool = True) -> tuple[FusionWeights, Path]:
    """The weights ``rag`` uses and their file: the config's, else those tuned for this setup (tuned now when
    missing or ``retune``)."""
    if stages.config.weights:
        return FusionWeights.load(stages.config.weights), Path(stages.config.weights)
    path = tuned_weights_path(stages.config.dataset, protocol, stages.config.setup_key)
    if path.is_file() and not retune:
        return FusionWeights.load(path), path
    return tune_fusion(stages, protocol, samples_limit=samples_limit, progress=progress)
