"""Load-test a running demo: concurrent sessions × turns through ``gradio_client``; throughput, p50/p95 turn latency.

One level (the original report):

    python app.py --no-warmup &                      # in another shell, or any running demo
    python scripts/load_test.py --url http://127.0.0.1:7860/ --sessions 20 --turns 5

A concurrency sweep (the levels one after the other; a JSON report, a PNG plot and a markdown table):

    python scripts/load_test.py --url http://127.0.0.1:7860/ --concurrency 1,2,5,10,20 --turns 5

Re-plot (and re-print the table of) a sweep report, no server needed:

    python scripts/load_test.py --replot artifacts/load_test/sweep-<UTC time>.json --plot docs/load.png

Each session is its own client (its own server-side conversation), connected before its first timed turn. A turn
counts as an error when the call raises or the reply is empty or the polite internal-error message; latencies are of
the turns that succeeded, throughput counts every turn. Exits 1 when any turn failed.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from llmkb.data.io import atomic_write_json
from llmkb.machine import cpu_name
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
TABLE_HEADER = "| concurrency | turns | errors | wall s | turns/min | p50 s | p95 s |\n" + "|---:" * 7 + "|"

Turn = Callable[[int], None]
"""One session's turn ``t`` (0, 1, …): returns when it succeeded, raises when it failed."""
OpenSession = Callable[[int], Turn]
"""Connects session ``index`` and returns its turn function; it may raise (then all its turns fail)."""


class BadReply(Exception):
    """The demo answered, but with an empty reply or its polite internal-error message."""


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank ``q`` quantile of ``values`` (not empty).

    >>> percentile([3.0, 1.0, 2.0, 10.0], 0.5), percentile([3.0, 1.0, 2.0, 10.0], 0.95)
    (3.0, 10.0)
    """
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def reply_text(result) -> str:
    """The last assistant message of the /respond outputs (message box, chat, cards, cost, status).

    >>> reply_text(("", [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Try Heat (1995)."}]))
    'Try Heat (1995).'
    """
    content = result[1][-1]["content"] if result[1] else ""
    return content if isinstance(content, str) else " ".join(part.get("text", "") for part in content)


def positive_int(text: str) -> int:
    """A positive whole number (an argparse type)."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return number


def concurrency_levels(text: str) -> list[int]:
    """Parse ``--concurrency``: comma-separated positive whole numbers, run in the order given.

    >>> concurrency_levels("1,2, 5,10,20")
    [1, 2, 5, 10, 20]
    >>> concurrency_levels("1,0")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: expected comma-separated positive whole numbers such as 1,2,5,10,20, got '1,0'
    """
    try:
        return [positive_int(part) for part in text.split(",")]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive whole numbers such as 1,2,5,10,20, got {text!r}") from None


def demo_sessions(url: str, dataset: str, backbone: str) -> OpenSession:
    """Sessions against the demo at ``url``: one ``gradio_client.Client`` each, turns from ``TURNS``."""

    def open_session(index: int) -> Turn:
        from gradio_client import Client

        client = Client(url, verbose=False)

        def turn(t: int) -> None:
            reply = reply_text(client.predict(TURNS[(index + t) % len(TURNS)], dataset, backbone, api_name="/respond"))
            if not reply or FAILURE in reply:
                raise BadReply(repr(reply))

        return turn

    return open_session


def run_session(index: int, turns: int, open_session: OpenSession) -> list[dict]:
    """Session ``index``'s ``turns`` turns, one record each: session, turn, seconds, error (None when it succeeded)."""
    try:
        turn = open_session(index)
    except Exception as exc:  # a session that cannot connect fails all its turns; the others go on
        return [{"session": index, "turn": t, "seconds": 0.0, "error": f"connect: {type(exc).__name__}: {exc}"}
                for t in range(turns)]
    records = []
    for t in range(turns):
        started = time.perf_counter()
        try:
            turn(t)
            error = None
        except Exception as exc:  # report every failure, keep the other sessions going
            error = f"{type(exc).__name__}: {exc}"
        records.append({"session": index, "turn": t, "seconds": time.perf_counter() - started, "error": error})
    return records


def summarize(sessions: int, turns: int, records: list[dict], wall: float) -> dict:
    """One level's numbers from its turn records (latencies of the turns that succeeded) and its wall seconds.

    >>> records = [{"seconds": s, "error": None} for s in (1.0, 2.0, 3.0)] + [{"seconds": 9.0, "error": "boom"}]
    >>> level = summarize(2, 2, records, wall=8.0)
    >>> level["turns"], level["errors"], level["turns_per_minute"], level["latency_seconds"]
    (4, 1, 30.0, {'p50': 2.0, 'p95': 3.0, 'mean': 2.0, 'max': 3.0})
    """
    seconds = [r["seconds"] for r in records if r["error"] is None]
    errors = [r["error"] for r in records if r["error"] is not None]
    return {
        "sessions": sessions, "turns_per_session": turns, "turns": len(records), "errors": len(errors),
        "wall_seconds": wall, "turns_per_minute": 60 * len(records) / wall,
        "latency_seconds": {"p50": percentile(seconds, 0.50), "p95": percentile(seconds, 0.95),
                            "mean": statistics.fmean(seconds), "max": max(seconds)} if seconds else None,
        "error_samples": errors[:5],
        "records": records,
    }


def run_level(sessions: int, turns: int, open_session: OpenSession) -> dict:
    """``sessions`` concurrent sessions × ``turns`` turns; their ``summarize``."""
    started = time.perf_counter()
    with ThreadPoolExecutor(sessions) as pool:
        per_session = list(pool.map(lambda i: run_session(i, turns, open_session), range(sessions)))
    return summarize(sessions, turns, [r for records in per_session for r in records], time.perf_counter() - started)


def markdown_table(levels: list[dict]) -> str:
    """The summary table of ``summarize`` levels, one row each, to paste into docs.

    >>> level = {"sessions": 5, "turns": 25, "errors": 1, "wall_seconds": 61.04, "turns_per_minute": 24.57,
    ...          "latency_seconds": {"p50": 9.81, "p95": 14.2}}
    >>> print(markdown_table([level, {**level, "errors": 25, "latency_seconds": None}]))
    | concurrency | turns | errors | wall s | turns/min | p50 s | p95 s |
    |---:|---:|---:|---:|---:|---:|---:|
    | 5 | 25 | 1 | 61.0 | 24.6 | 9.81 | 14.20 |
    | 5 | 25 | 25 | 61.0 | 24.6 | – | – |
    """
    rows = [TABLE_HEADER]
    for level in levels:
        latency = level["latency_seconds"] or {}
        p50, p95 = (f"{latency[q]:.2f}" if q in latency else "–" for q in ("p50", "p95"))
        rows.append(f"| {level['sessions']} | {level['turns']} | {level['errors']} | {level['wall_seconds']:.1f} | "
                    f"{level['turns_per_minute']:.1f} | {p50} | {p95} |")
    return "\n".join(rows)


def plot_sweep(report: dict, path: str | Path) -> Path:
    """Throughput and p50/p95 turn latency against concurrency, as a PNG written atomically to ``path``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from rram.files import atomic_write

    levels = report["levels"]
    x = [level["sessions"] for level in levels]
    nan = float("nan")
    fig = Figure(figsize=(10, 4), layout="constrained")
    FigureCanvasAgg(fig)
    throughput, latency = fig.subplots(1, 2)
    throughput.plot(x, [level["turns_per_minute"] for level in levels], "o-")
    throughput.set_ylabel("throughput (turns/min)")
    for q, style in (("p50", "o-"), ("p95", "s--")):
        latency.plot(x, [(level["latency_seconds"] or {}).get(q, nan) for level in levels], style, label=q)
    latency.set_ylabel("turn latency (s)")
    latency.legend()
    for ax in (throughput, latency):
        ax.set_xscale("log")
        ax.set_xticks(x, [str(n) for n in x])
        ax.minorticks_off()
        ax.set_xlabel("concurrent sessions")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    fig.suptitle(f"Demo load test, {report.get('date', '?')}, {report.get('cpu', '?')}")
    return atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=120))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default="http://127.0.0.1:7860/", help="the running demo (default %(default)s)")
    p.add_argument("--sessions", type=positive_int, default=20, metavar="N",
                   help="concurrent sessions of the single level (default %(default)s; ignored with --concurrency)")
    p.add_argument("--concurrency", type=concurrency_levels, metavar="N,N,…",
                   help="sweep: run each of these session counts in turn, e.g. 1,2,5,10,20 (replaces --sessions)")
    p.add_argument("--turns", type=positive_int, default=5, metavar="N", help="turns per session (default %(default)s)")
    p.add_argument("--dataset", default="redial", help="the demo's dataset choice (default %(default)s)")
    p.add_argument("--backbone", default="dense", help="the demo's backbone choice (default %(default)s)")
    p.add_argument("--out", type=Path, default=None, metavar="PATH",
                   help="report JSON (default artifacts/load_test/<UTC time>.json, sweep-<UTC time>.json for a sweep)")
    p.add_argument("--plot", type=Path, default=None, metavar="PATH",
                   help="sweep or --replot: the PNG to write (default: the report's path with .png)")
    p.add_argument("--replot", type=Path, default=None, metavar="REPORT.json",
                   help="no load test: print the table of this sweep report and plot it")
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if args.plot and not (args.concurrency or args.replot):
        p.error("--plot goes with --concurrency or --replot")
    if args.replot:
        report = json.loads(args.replot.read_text(encoding="utf-8"))
        print(markdown_table(report["levels"]))
        print(f"plot: {plot_sweep(report, args.plot or args.replot.with_suffix('.png'))}")
        return 0

    stamp = datetime.now(timezone.utc)
    head = {"date": stamp.isoformat(timespec="seconds"),
            "command": shlex.join(sys.argv if argv is None else [sys.argv[0], *argv]),
            "url": args.url, "cpu": cpu_name(), "dataset": args.dataset, "backbone": args.backbone}
    open_session = demo_sessions(args.url, args.dataset, args.backbone)
    folder = artifacts_dir() / "load_test"
    if not args.concurrency:
        return single_level(args, head, open_session, args.out or folder / f"{stamp:%Y%m%dT%H%M%SZ}.json")
    return sweep(args, head, open_session, args.out or folder / f"sweep-{stamp:%Y%m%dT%H%M%SZ}.json")


def single_level(args, head: dict, open_session: OpenSession, out: Path) -> int:
    report = {**head, **run_level(args.sessions, args.turns, open_session)}
    atomic_write_json(out, report)
    lat = report["latency_seconds"] or {}
    print(f"{report['turns']} turns ({args.sessions} sessions × {args.turns}), {report['errors']} errors, "
          f"{report['wall_seconds']:.0f} s wall; turn latency p50 {lat.get('p50', float('nan')):.1f} s, "
          f"p95 {lat.get('p95', float('nan')):.1f} s, max {lat.get('max', float('nan')):.1f} s\nreport: {out}")
    print_errors(report)
    return 1 if report["errors"] else 0


def sweep(args, head: dict, open_session: OpenSession, out: Path) -> int:
    report = {**head, "turns_per_session": args.turns, "levels": []}
    for sessions in args.concurrency:
        level = run_level(sessions, args.turns, open_session)
        report["levels"].append(level)
        atomic_write_json(out, report)  # after every level: a sweep cut short keeps what it measured
        print(f"concurrency {sessions}: {level['turns']} turns, {level['errors']} errors, "
              f"{level['wall_seconds']:.0f} s", file=sys.stderr)
        print_errors(level)
    print(markdown_table(report["levels"]))
    print(f"report: {out}\nplot: {plot_sweep(report, args.plot or out.with_suffix('.png'))}")
    return 1 if any(level["errors"] for level in report["levels"]) else 0


def print_errors(level: dict) -> None:
    for error in level["error_samples"]:
        print(f"error: {error}", file=sys.stderr)
