"""What several commands share: the dataset and protocol choices (from ``llmkb.data``), the recommender's options, and
turning them into a ``RecommenderConfig`` and its stages at the edge."""

from __future__ import annotations

import argparse
from pathlib import Path

from llmkb.data import DATASETS, PROTOCOLS
from llmkb.errors import LLMKBError

__all__ = ["DATASETS", "PROTOCOLS", "HelpFormatter", "add_command", "add_recommender_options", "add_system_options",
           "dataset_of", "left_out_sources", "ranking_stages", "recommender_config"]


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's default shown in ``--help``, unless its help already says it or there is none (``None``)."""

    def _get_help_string(self, action):
        if action.default is None or "(default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def add_command(commands, name: str, about: str, summary_ends: str = " (") -> argparse.ArgumentParser:
    """A subcommand described by ``about`` in its ``--help``; the list of commands shows ``about`` up to the first
    ``summary_ends``."""
    return commands.add_parser(name, help=about.split(summary_ends)[0], description=about,
                               formatter_class=HelpFormatter)


def dataset_of(args):
    from llmkb.data import load_dataset

    return load_dataset(args.dataset, args.data_dir)


def recommender_config(args, use_llm: bool = True, **overrides):
    """The ``RecommenderConfig`` of the recommender options (``add_recommender_options``), with ``overrides``."""

    from llmkb.pipeline import RecommenderConfig

    return RecommenderConfig(
        dataset=args.dataset, retriever=args.retriever, llm=args.llm, use_llm=use_llm and not args.no_llm,
        lora=args.lora, weights=getattr(args, "weights", None), llm_candidates=args.llm_candidates,
        kb_candidates=not args.no_kb_candidates, constraints=not args.no_constraints, data_dir=args.data_dir,
        behaviour=getattr(args, "movielens", None), ranker=getattr(args, "ranker", None), **overrides)


def ranking_stages(args, use_llm: bool = True):
    """The recommender's stages for ranking (evaluation, tuning, training): no 8-bit reply copy."""
    from llmkb.pipeline import Stages

    return Stages.load(recommender_config(args, use_llm, reply_runtime="float32"))


def left_out_sources(spec: str | None) -> tuple[str, ...]:
    """``"graph,kb"`` → the candidate sources an ablation leaves out."""
    from llmkb.ranking.candidates import SOURCES

    chosen = tuple(dict.fromkeys(part.strip() for part in (spec or "").split(",") if part.strip()))
    unknown = [source for source in chosen if source not in SOURCES]
    if unknown:
        raise LLMKBError(f"unknown candidate source(s) {', '.join(unknown)}; choose from {', '.join(SOURCES)}")
    return chosen


def add_recommender_options(parser) -> None:
    """The options that build a recommender (``recommender_config``)."""
    parser.add_argument("--retriever", type=Path, default=None,
                        help="retriever model dir (default: the calibrated retriever when built by `llmkb "
                             "calibrate-retriever`, else the fine-tuned one when trained, else the packaged "
                             "all-MiniLM-L6-v2; for retriever-zeroshot: the packaged one)")
    parser.add_argument("--llm", type=Path, default=None,
                        help="LLM: a local HF model dir or .gguf file (default: packaged SmolLM2-135M-Instruct)")
    parser.add_argument("--lora", type=Path, default=None, help="LoRA adapter dir from `llmkb train-llm`")
    parser.add_argument("--no-llm", action="store_true", help="retriever and dialogue signals only; template replies")
    parser.add_argument("--no-kb-candidates", action="store_true",
                        help="ablation: no candidates from the KB's index of the linked preferences")
    parser.add_argument("--movielens", action=argparse.BooleanOptionalAction, default=None,
                        help="MovieLens's item-item model (EASE on its ratings) proposes candidates and gives the "
                             "ranker features (default: on for redial, where it gained on valid; off for inspired)")
    parser.add_argument("--no-constraints", action="store_true",
                        help="ablation: the latest explicit request and the dislikes do not constrain the list")
    parser.add_argument("--llm-candidates", type=int, default=10,
                        help="the LLM scores this many top retrieved and top co-mentioned candidates, and the mentioned movies")


def add_system_options(parser) -> None:
    """How ``evaluate`` and ``simulate`` build the system they run."""
    add_recommender_options(parser)
    parser.add_argument("--weights", type=Path, default=None,
                        help="fusion weights JSON for rag from `llmkb tune-fusion` (default: those tuned for this "
                             "setup and protocol, tuned on the validation split first when missing)")
    parser.add_argument("--ranker", type=Path, default=None,
                        help="rag-ranker's learned ranker JSON, e.g. one of `llmkb train-ranker --num-leaves N` "
                             "(default: the one trained for this setup and protocol, trained first when missing)")
    parser.add_argument("--retune", action="store_true",
                        help="tune rag's fusion weights (rag-ranker: train its ranker) again (scores are cached)")
    parser.add_argument("--tune-samples", type=int, default=None,
                        help="tune the fusion on the first N validation samples only (default: all; LLM scoring "
                             "costs seconds per sample on a CPU)")
    parser.add_argument("--without", default=None,
                        help="rag-ranker ablation: a comma list of candidate sources the ranker is trained and "
                             "run without (retriever, co_mention, kb, item2vec, graph, movielens, mentioned)")
    parser.add_argument("--query", default="all",
                        help="query parts for bm25/retriever: 'all' or a comma list of mentions,sentiment,"
                             "preferences,dialogue,roles")
