"""Run one system under one protocol and write a predictions file and a report (PROTOCOLS.md).

Predictions: JSON Lines ``{"sample_id": ..., "ranked": [50 distinct catalogue ids, best first]}``.
Report: the protocol, the metrics (on ReDial also the user-centric SR and RDL, ``llmkb.evaluation.user_centric``), the
command line, the model paths and the data files (with hashes).
"""

from __future__ import annotations

import sys
import time
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
BATCH = 256


@dataclass
class Run:
    dataset: str
    protocol: str
    split: str
    system: str
    exclude_mentioned: bool = False
    limit: int | None = None
    models: dict[str, str] = field(default_factory=dict)


def evaluate(dataset: Dataset, run: Run, system, predictions: Path, report: Path, progress: bool = True) -> dict:
    """Rank every sample, write the predictions and the report; returns the report plus ``per_sample`` metrics."""
    samples: list[Sample] = dataset.samples(run.split, run.protocol)[: run.limit]
    fallback = dataset.popularity
    started = time.time()
    rows, per_sample = [], []
    with tqdm(total=len(samples), desc=f"{run.system} on {run.dataset}-{run.protocol} ({run.split})",
              unit="sample", disable=not progress) as bar:
        size = getattr(system, "batch_size", BATCH)  # slow systems report progress in smaller steps
        for start in range(0, len(samples), size):
            batch = samples[start:start + size]
            for sample, candidates in zip(batch, system.rank(batch)):
                exclude = sample.mentioned if run.exclude_mentioned else ()
                k = min(RANKED_LENGTH, len(dataset.catalog) - len(exclude))  # 50 on any real catalogue
                ranked = finalize_ranking(candidates, fallback, k, exclude=exclude, allowed=dataset.catalog)
                rows.append({"sample_id": sample.sample_id, "ranked": ranked})
                per_sample.append(sample_metrics(ranked, sample.gold))
            bar.update(len(batch))
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
    return {**result, "per_sample": per_sample}  # per-sample metrics: returned, not written


def command_line() -> str:
    """The command that is running, as a report records it: ``llmkb ...`` when run through the entry point."""
    return " ".join(["llmkb", *sys.argv[1:]]) if sys.argv and sys.argv[0].endswith("llmkb") else " ".join(sys.argv)
