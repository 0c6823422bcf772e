"""``llmkb chat``: the served recommender in the terminal."""

from __future__ import annotations

import sys
from pathlib import Path

from llmkb.cli.options import DATASETS, HelpFormatter, add_recommender_options, recommender_config
from llmkb.errors import LLMKBError


def add(commands) -> None:
    """Add ``chat`` to the ``llmkb`` subcommands."""
    chat = commands.add_parser("chat", help="chat with the recommender in the terminal",
                               formatter_class=HelpFormatter)
    chat.add_argument("--dataset", choices=DATASETS, default="redial", help="catalogue to recommend from")
    add_recommender_options(chat)
    chat.add_argument("--weights", type=Path, default=None,
                      help="fusion weights JSON (default: those `llmkb tune-fusion` wrote for this setup, dedup's "
                           "first, else the built-in weights); the learned ranker `llmkb train-ranker` wrote for this "
                           "setup ranks instead when there is one")
    chat.add_argument("--k", type=int, default=5, help="recommendations per turn")
    chat.add_argument("--keep-mentioned", action="store_true", help="allow movies already mentioned")
    chat.add_argument("--float32-reply", action="store_true",
                      help="write replies with the float32 LLM instead of its 8-bit copy (exact, ~2-3x slower on a "
                           "CPU)")
    chat.add_argument("--llm-scoring", action="store_true",
                      help="the LLM also scores the candidates (a fusion signal; ~0.7 s a turn). Off by default: its "
                           "tuned weight is 0 on most setups (docs/results/ranking.md)")
    chat.add_argument("--base-replies", action="store_true",
                      help="replies from the base LLM, not the trained reply writer (`llmkb train-replies`)")
    chat.add_argument("--no-build", action="store_true",
                      help="use what is built; do not calibrate the retriever or tune the weights first")
    chat.set_defaults(run=cmd_chat)


def cmd_chat(args) -> None:
    from llmkb.app.build import build_served
    from llmkb.app.session import llm_label, ranking_label
    from llmkb.pipeline import Recommender
    from llmkb.pipeline.tuned import with_tuned_ranking
    from llmkb.fitting.reply_data import with_reply_writer

    print(f"Loading the {args.dataset} recommender (the first run builds the KB, the index, the LLM cache, the "
          "calibrated retriever and the tuned weights: about 5 minutes on 2 cores)...", file=sys.stderr)
    if not (args.no_build or args.retriever):
        build_served(args.dataset, args.data_dir)
    config = with_tuned_ranking(recommender_config(args, k=args.k, exclude_mentioned=not args.keep_mentioned,
                                        reply_runtime="float32" if args.float32_reply else "int8",
                                        llm_scoring=args.llm_scoring))
    recommender = Recommender(with_reply_writer(config) if not args.base_replies else config)
    print(f"Retriever {recommender.config.retriever}; {llm_label(recommender)}; {ranking_label(recommender.config)}. "
          "Tell me about movies you like; 'reset' starts over, 'quit' ends.")
    turns = []
    while True:
        try:
            message = input("you> ").strip()
        except EOFError:
            break
        if message.lower() in {"quit", "exit"}:
            break
        if message.lower() == "reset":
            turns = []
            print("(new conversation)")
            continue
        try:
            found = recommender.rank(turns, message)
        except LLMKBError as exc:
            print(f"bot> {exc}")
            continue
        if found.detected:
            print(f"     (recognised: {', '.join(found.detected)})")
        for rank, rec in enumerate(found.items, start=1):  # the list first, as the demo shows the cards first
            cues = f"  ({'; '.join(rec.cues)})" if rec.cues else ""
            print(f"  {rank}. {rec.item.display}  [{rec.score:.2f}]{cues}  {rec.evidence[:160]}")
        out = recommender.reply(found)
        print(f"bot> {out.said}")
        turns = out.turns
