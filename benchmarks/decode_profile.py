#!/usr/bin/env python
"""Where a reply's time goes on this CPU: the LLM's prompt reading and its token-by-token decoding, by weight type
and thread count (issue 34 item 6: "speed without losing quality").

    python benchmarks/decode_profile.py [--prompt-tokens 300] [--tokens 20]

Loads the packaged SmolLM2-135M (float32, as the reply writer is served; a merged LoRA changes no shape), reads a
prompt of ``--prompt-tokens`` random tokens once, then decodes ``--tokens`` greedy tokens one at a time with the
key/value cache, for float32, bfloat16 and float16 weights with 1 and 2 torch threads. It also times one token's
matrix products alone, which read every weight once, and prints the memory bandwidth they reach. Prints JSON
(also written to artifacts/benchmarks/decode-profile.json).
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings

import torch

from llmkb.data.io import atomic_write_json
from llmkb.generation.llm import load_llm
from llmkb.machine import cpu_name
from llmkb.paths import artifacts_dir


@torch.no_grad()
def profile(model, prompt: torch.Tensor, tokens: int) -> dict:
    """Seconds to read ``prompt`` and per decoded token (greedy, with the cache)."""
    started = time.perf_counter()
    out = model(prompt, use_cache=True, logits_to_keep=1)
    read = time.perf_counter() - started
    cache, token = out.past_key_values, out.logits[:, -1:].argmax(-1)
    started = time.perf_counter()
    for _ in range(tokens):
        out = model(token, past_key_values=cache, use_cache=True)
        cache, token = out.past_key_values, out.logits[:, -1:].argmax(-1)
    return {"prompt_s": round(read, 3), "token_ms": round((time.perf_counter() - started) / tokens * 1e3, 1)}


@torch.no_grad()
def weight_reads(model) -> dict:
    """One token's matrix products alone: every linear layer's weight times one vector, as decoding does."""
    weights = [m.weight for m in model.modules() if isinstance(m, torch.nn.Linear)]
    vectors = {w.shape[1]: torch.randn(1, w.shape[1], dtype=w.dtype) for w in weights}
    for w in weights:
        torch.nn.functional.linear(vectors[w.shape[1]], w)
    started = time.perf_counter()
    for w in weights:
        torch.nn.functional.linear(vectors[w.shape[1]], w)
    seconds = time.perf_counter() - started
    size = sum(w.numel() * w.element_size() for w in weights)
    return {"matmul_ms": round(seconds * 1e3, 1), "weights_mb": round(size / 1e6), "gb_per_s": round(size / seconds / 1e9, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompt-tokens", type=int, default=300, help="prompt length (a reply prompt is ~220)")
    parser.add_argument("--tokens", type=int, default=20, help="decoded tokens timed per setting")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    model, _ = load_llm()
    prompt = torch.randint(100, 40_000, (1, args.prompt_tokens), generator=torch.Generator().manual_seed(0))
    rows = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for dtype in (torch.float32, torch.bfloat16, torch.float16):
            model.to(dtype)
            rows.append({"threads": threads, "weights": str(dtype).removeprefix("torch."),
                         **profile(model, prompt, args.tokens), **weight_reads(model)})
            print(json.dumps(rows[-1]), flush=True)
    result = {"benchmark": f"SmolLM2-135M: a {args.prompt_tokens}-token prompt read once, then {args.tokens} tokens "
                           "decoded one at a time", "rows": rows, "torch": torch.__version__,
              "machine": f"{cpu_name()}, {os.cpu_count()} cores", "load_average": os.getloadavg(),
              "date": time.strftime("%Y-%m-%d")}
    atomic_write_json(artifacts_dir() / "benchmarks" / "decode-profile.json", result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
