"""Load-test a running demo: N concurrent sessions × T turns through ``gradio_client``; p50/p95 turn latency.

    python app.py --no-warmup &                      # in another shell, or any running demo
    python scripts/load_test.py --url http://127.0.0.1:7860/ --sessions 20 --turns 5

Each session is its own client (its own server-side conversation). A turn counts as an error when the call raises
or the reply is empty or the polite internal-error message. Writes a JSON report (default
artifacts/load_test/<date>.json) and exits 1 when any turn failed.

>>> percentile([3.0, 1.0, 2.0, 10.0], 0.5), percentile([3.0, 1.0, 2.0, 10.0], 0.95)
(3.0, 10.0)
>>> reply_text(("", [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Try Heat (1995)."}]))
'Try Heat (1995).'
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from llmkb.data.io import atomic_write_json
from llmkb.paths import artifacts_dir

TURNS = [
    "Hi! I loved The Matrix, any other sci-fi movies?",
    "I also enjoyed Inception. Something with a twist?",
    "Maybe something funnier, like a comedy.",
    "I don't like horror movies.",
    "Thanks! One more family movie like Toy Story?",
    "What about something with Tom Hanks?",
]
FAILURE = "something went wrong"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def reply_text(result) -> str:
    """The last assistant message of the /respond outputs (message box, chat, cards, cost, status)."""
    content = result[1][-1]["content"] if result[1] else ""
    return content if isinstance(content, str) else " ".join(part.get("text", "") for part in content)


def session(url: str, index: int, turns: int, dataset: str, backbone: str) -> list[dict]:
    from gradio_client import Client

    client = Client(url, verbose=False)
    records = []
    for t in range(turns):
        message = TURNS[(index + t) % len(TURNS)]
        started = time.perf_counter()
        try:
            reply = reply_text(client.predict(message, dataset, backbone, api_name="/respond"))
            error = None if reply and FAILURE not in reply else f"bad reply: {reply!r}"
        except Exception as exc:  # report every failure, keep the other sessions going
            error = f"{type(exc).__name__}: {exc}"
        records.append({"session": index, "turn": t, "seconds": time.perf_counter() - started, "error": error})
    return records


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default="http://127.0.0.1:7860/")
    p.add_argument("--sessions", type=int, default=20)
    p.add_argument("--turns", type=int, default=5)
    p.add_argument("--dataset", default="redial")
    p.add_argument("--backbone", default="dense")
    p.add_argument("--out", type=Path, default=None, help="report JSON (default artifacts/load_test/<UTC time>.json)")
    args = p.parse_args(argv)

    stamp = datetime.now(timezone.utc)
    started = time.perf_counter()
    with ThreadPoolExecutor(args.sessions) as pool:
        futures = [pool.submit(session, args.url, i, args.turns, args.dataset, args.backbone) for i in range(args.sessions)]
        records = [r for f in futures for r in f.result()]
    wall = time.perf_counter() - started
    seconds = [r["seconds"] for r in records if r["error"] is None]
    errors = [r for r in records if r["error"] is not None]
    report = {
        "date": stamp.isoformat(timespec="seconds"), "command": " ".join(sys.argv), "url": args.url,
        "sessions": args.sessions, "turns_per_session": args.turns, "dataset": args.dataset, "backbone": args.backbone,
        "turns": len(records), "errors": len(errors), "wall_seconds": wall,
        "turns_per_minute": 60 * len(records) / wall,
        "latency_seconds": {"p50": percentile(seconds, 0.50), "p95": percentile(seconds, 0.95),
                            "mean": statistics.fmean(seconds), "max": max(seconds)} if seconds else None,
        "error_samples": [r["error"] for r in errors[:5]],
        "records": records,
    }
    out = args.out or artifacts_dir() / "load_test" / f"{stamp:%Y%m%dT%H%M%SZ}.json"
    atomic_write_json(out, report)
    lat = report["latency_seconds"] or {}
    print(f"{len(records)} turns ({args.sessions} sessions × {args.turns}), {len(errors)} errors, {wall:.0f} s wall; "
          f"turn latency p50 {lat.get('p50', float('nan')):.1f} s, p95 {lat.get('p95', float('nan')):.1f} s, "
          f"max {lat.get('max', float('nan')):.1f} s\nreport: {out}")
    for error in report["error_samples"]:
        print(f"error: {error}", file=sys.stderr)
    return 1 if errors else 0
