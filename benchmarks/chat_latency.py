#!/usr/bin/env python
"""Latency of one chat turn of the full recommender (retrieve → LLM scoring → fusion → 40-token reply) on this CPU.

    python benchmarks/chat_latency.py --dataset redial --turns 30
Runs the opening seeker turns of validation dialogues through ``Recommender.recommend`` one at a time (after two
warm-up turns) and prints p50/p95 per stage and in total, and how many replies fell back to the template (the LLM
named none of the items), as JSON (also written to artifacts/benchmarks/).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import time
import warnings

import torch

from llmkb.data.io import atomic_write_json
from llmkb.data.records import SEEKER
from llmkb.paths import artifacts_dir
from llmkb.pipeline import Recommender, RecommenderConfig
from llmkb.pipeline.fusion import with_tuned_weights


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=["redial", "inspired"], default="redial")
    parser.add_argument("--turns", type=int, default=30, help="timed turns")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch CPU threads")
    parser.add_argument("--llm-weight", type=float, default=None,
                        help="override the LLM score's fusion weight (0 skips LLM scoring; default: the tuned weights, "
                             "as chat uses them)")
    parser.add_argument("--float32-reply", action="store_true", help="write replies with the float32 LLM, not int8")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    torch.set_num_threads(args.threads)
    config = with_tuned_weights(RecommenderConfig(dataset=args.dataset, reply_int8=not args.float32_reply))
    recommender = Recommender(config, progress=False)
    if args.llm_weight is not None:
        recommender.weights = dataclasses.replace(recommender.weights, llm=args.llm_weight)
    openers = [turn.text for d in recommender.stages.dataset.valid for turn in d.turns[:1] if turn.role == SEEKER]
    if len(openers) < args.turns + 2:
        raise SystemExit(f"only {len(openers)} seeker openers in the validation split; ask for fewer --turns")
    totals, stages, templated = [], {}, 0
    for i, text in enumerate(openers[: args.turns + 2]):
        started = time.perf_counter()
        out = recommender.respond([], text)
        if i >= 2:  # warm-up turns are not timed
            totals.append(time.perf_counter() - started)
            templated += out.templated
            for stage, seconds in out.seconds.items():
                stages.setdefault(stage, []).append(seconds)
    result = {
        "benchmark": f"one chat turn, {args.dataset} catalogue, full recommender with a "
                     f"{recommender.config.reply_tokens}-token reply", "turns": len(totals),
        "p50_s": round(percentile(totals, 50), 3), "p95_s": round(percentile(totals, 95), 3),
        "stages_p50_s": {k: round(percentile(v, 50), 3) for k, v in stages.items()},
        "template_replies": templated,  # turns where the LLM named none of the recommended items
        "llm_weight": recommender.weights.llm, "reply_int8": recommender.config.reply_int8,
        "setup": recommender.config.setup, "weights": str(recommender.config.weights), "threads": args.threads,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "load_average": os.getloadavg(), "date": time.strftime("%Y-%m-%d"),
    }
    atomic_write_json(artifacts_dir() / "benchmarks" / f"chat-latency-{args.dataset}.json", result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
