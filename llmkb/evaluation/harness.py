"""Run one system under one protocol and write a predictions file and a report (PROTOCOLS.md).

Predictions: JSON Lines ``{"sample_id": ..., "ranked": [50 distinct catalogue ids, best first]}``.
Report: the protocol, the metrics (on ReDial also the user-centric SR and RDL, ``llmkb.evaluation.user_centric``), the
command line, the model paths and the data files (with hashes).
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Collection, Sequence
from typing import Protocol, runtime_checkable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from llmkb.data.dataset import Dataset
from llmkb.data.io import atomic_write_json, atomic_write_jsonl
from llmkb.data.records import Sample
from llmkb.evaluation.metrics import aggregate, sample_metrics
from llmkb.evaluation.user_centric import READING, user_centric
from llmkb.postprocess.ranking import finalize_ranking

RANKED_LENGTH = 50


class System(Protocol):
    """What the harness ranks with (``llmkb.evaluation.systems`` registers them all)."""

    batch_size: int  # samples per call of rank (slow systems take fewer, so progress shows in smaller steps)
    batch_invariant: bool  # a sample's ranking does not depend on the others in its batch (llmkb.scale shards it)

    def rank(self, samples: list[Sample]) -> list[list[str]]: ...


@runtime_checkable
class RanksElsewhere(Protocol):
    """A system that ranks all samples elsewhere (e.g. on Ray workers, :class:`llmkb.scale.ShardedSystem`) and may
    keep what it finished in ``cache_path`` to resume."""

    def rank_all(self, samples: list[Sample], cache_path: Path, fingerprint: str, progress: bool = True,
                 desc: str = "") -> list[list[str]]: ...


@dataclass
class Run:
    dataset: str
    protocol: str
    split: str
    system: str
    exclude_mentioned: bool = False
    limit: int | None = None
    models: dict[str, str] = field(default_factory=dict)


def evaluate(dataset: Dataset, run: Run, system: System | RanksElsewhere, predictions: Path, report: Path,
             progress: bool = True) -> dict:
    """Rank every sample, write the predictions and the report; returns the report plus ``per_sample`` metrics.

    ``system``: one that ranks here, or one that ranks elsewhere (:class:`RanksElsewhere`), which may keep what it
    finished in ``PREDICTIONS.partial`` to resume."""
    samples: list[Sample] = dataset.samples(run.split, run.protocol)[: run.limit]
    started = time.time()
    desc = f"{run.system} on {run.dataset}-{run.protocol} ({run.split})"
    partial = predictions.with_name(predictions.name + ".partial")
    if isinstance(system, RanksElsewhere):
        candidates = system.rank_all(samples, partial, run_fingerprint(run), progress=progress, desc=desc)
    else:
        candidates = rank_samples(system, samples, progress, desc)
    rows, per_sample = [], []
    for sample, ids in zip(samples, candidates):
        ranked = protocol_list(ids, dataset, sample.mentioned if run.exclude_mentioned else ())
        rows.append({"sample_id": sample.sample_id, "ranked": ranked})
        per_sample.append(sample_metrics(ranked, sample.gold))
    metrics = aggregate(per_sample)
    if run.dataset == "redial":  # its questionnaires give the user-centric metrics
        metrics["user_centric"] = {**user_centric(dataset.dialogues(run.split), samples,
                                                  {row["sample_id"]: row["ranked"] for row in rows}),
                                   "reading": asdict(READING)}
    atomic_write_jsonl(predictions, rows)
    result = {
        "protocol": f"{run.dataset}-{run.protocol}", "split": run.split, "system": run.system,
        "exclude_mentioned": run.exclude_mentioned, "limit": run.limit, "metrics": metrics,
        "command": command_line(),
        "models": run.models, "predictions": str(predictions),
        "data_files": dataset.file_hashes(),
        "seconds": round(time.time() - started, 1), "date": time.strftime("%Y-%m-%d"),
    }
    atomic_write_json(report, result)
    partial.unlink(missing_ok=True)
    return {**result, "per_sample": per_sample}  # per-sample metrics: returned, not written


def protocol_list(ids: Sequence[str], dataset: Dataset, exclude: Collection[str] = ()) -> list[str]:
    """What the protocols score of a system's ``ids``: ``RANKED_LENGTH`` distinct catalogue ids (50 on any real
    catalogue), none of ``exclude``, the system's first, then the rest of the catalogue by popularity (for every
    system alike)."""
    k = min(RANKED_LENGTH, len(dataset.catalog) - len(exclude))
    return finalize_ranking(ids, dataset.popularity, k, exclude=exclude, allowed=dataset.catalog)


def rank_samples(system: System, samples: list[Sample], progress: bool = True, desc: str = "") -> list[list[str]]:
    """``system``'s candidates for each sample, in order, ranked in batches of its ``batch_size`` (slow systems
    report progress in smaller steps)."""
    size = system.batch_size
    candidates: list[list[str]] = []
    with tqdm(total=len(samples), desc=desc, unit="sample", disable=not progress) as bar:
        for start in range(0, len(samples), size):
            batch = samples[start:start + size]
            candidates.extend(system.rank(batch))
            bar.update(len(batch))
    return candidates


def run_fingerprint(run: Run) -> str:
    """What makes two runs' candidates the same (the dataset, protocol, split, system and what it loads); the
    ranked-list options (``limit``, ``exclude_mentioned``) act after the candidates."""
    fields = {k: v for k, v in asdict(run).items() if k not in ("limit", "exclude_mentioned")}
    return hashlib.sha1(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:16]


def command_line() -> str:
    """The command that is running, as a report records it: ``llmkb ...`` when run through the entry point."""
    return " ".join(["llmkb", *sys.argv[1:]]) if sys.argv and sys.argv[0].endswith("llmkb") else " ".join(sys.argv)
