#!/usr/bin/env python
"""Speed-up of ``llmkb evaluate --workers N``: the same run on 1 and on 2 Ray workers, side by side.

    python benchmarks/scale_speedup.py --dataset inspired --system rag --runs process,1x2,2x1,1x1

Each run is WORKERSxCPUS: workers, and the CPUs (torch threads) each gets (``--cpus-per-worker``), or ``process``:
one process without Ray, as ``llmkb evaluate`` runs by default. On a 2-core
machine 1x2 against 2x1 is the same cores used two ways; 1x1 against 2x1 is what adding a worker with its own core
gives, as adding a node to a cluster does.

Each run starts from an empty LLM-score cache (``artifacts/rag-cache`` is what makes a second run free), in a
scratch artifacts folder that links the built KB, index, retrievers, fusion weights and rankers of ``artifacts/``,
so every run ranks with the same system as ``llmkb evaluate`` does there and scores every sample with the LLM.
Wall time covers everything the command does, Ray's start included. Checks that the predictions of every run are
identical, and writes the times, the ratio and the CPU as JSON (artifacts/benchmarks/scale-speedup-DATASET-SYSTEM.json).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from llmkb.data.io import atomic_write_json
from llmkb.machine import cpu_name
from llmkb.paths import artifacts_dir

BUILT = ("kb", "index", "retriever", "fusion", "ranker", "lora")  # reused; the rag-cache is not


def timed_run(args, spec: str, scratch: Path) -> dict:
    workers, cpus = map(int, spec.split("x")) if spec != "process" else (0, os.cpu_count())
    out = scratch / spec
    out.mkdir()
    for name in BUILT:
        if (artifacts_dir() / name).exists():
            (out / name).symlink_to((artifacts_dir() / name).resolve())
    predictions = out / "predictions.jsonl"
    command = [sys.executable, "-m", "llmkb.cli", "evaluate", "--dataset", args.dataset, "--system", args.system,
               "--predictions", str(predictions)] + \
        (["--workers", str(workers), "--cpus-per-worker", str(cpus)] if workers else []) + \
        (["--limit", str(args.limit)] if args.limit else []) + (["--data-dir", str(args.data_dir)] if args.data_dir else [])
    started = time.perf_counter()
    subprocess.run(command, check=True, env={**os.environ, "LLMKB_ARTIFACTS": str(out)})
    seconds = time.perf_counter() - started
    report = json.loads(next(out.glob("*.report.json")).read_text())
    return {"run": spec, "workers": workers, "cpus_per_worker": cpus, "seconds": round(seconds, 1),
            "ranking_seconds": report["seconds"], "metrics": {k: report["metrics"][k] for k in
                                                                          ("samples", "recall@10", "recall@50")},
            "models": report["models"], "predictions": predictions.read_text()}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=["redial", "inspired"], default="inspired")
    parser.add_argument("--system", default="rag", help="an `llmkb evaluate --system` (rag: with LLM scoring)")
    parser.add_argument("--runs", default="process,1x2,2x1,1x1",
                        help="comma-separated WORKERSxCPUS or process, run in this order")
    parser.add_argument("--limit", type=int, default=None, help="the first N samples only")
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="scale-speedup-") as scratch:
        runs = [timed_run(args, spec, Path(scratch)) for spec in args.runs.split(",")]
    predictions = [run.pop("predictions") for run in runs]
    identical = all(text == predictions[0] for text in predictions)
    result = {"dataset": args.dataset, "system": args.system, "limit": args.limit, "cpu": cpu_name(),
              "cores": os.cpu_count(), "date": time.strftime("%Y-%m-%d"), "command": " ".join(sys.argv),
              "runs": runs, "identical_predictions": identical,
              "speedup": {f"{a['run']} / {b['run']}": round(a["seconds"] / b["seconds"], 2)
                          for a in runs for b in runs if 0 < a["workers"] < b["workers"]}}
    out = artifacts_dir() / "benchmarks" / f"scale-speedup-{args.dataset}-{args.system}.json"
    atomic_write_json(out, result)
    print(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
