"""The ``--workers N [--address ADDR]`` options of ``llmkb evaluate``, ``simulate`` and ``rram prune``; importing
this module does not import Ray."""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

from llmkb.errors import LLMKBError


def add_scale_options(parser: argparse.ArgumentParser, what: str) -> None:
    """``--workers N [--address ADDR]``: ``what`` on Ray workers (the optional extra ``.[scale]``)."""
    group = parser.add_argument_group("scale-out (Ray, the optional extra: pip install '.[scale]')")
    group.add_argument("--workers", type=int, default=None, metavar="N",
                       help=f"run {what} on N Ray workers, each loading the models once (default: one process); "
                            "the results are the same as one process's; see docs/scale.md")
    group.add_argument("--cpus-per-worker", type=int, default=None, metavar="C",
                       help="CPUs (and torch threads) each worker gets (default: the cluster's CPUs shared equally)")
    group.add_argument("--address", default=None, metavar="ADDR",
                       help="an existing Ray cluster (e.g. ray://head:10001, or auto); default: a local cluster "
                            "started for the run")


def cluster_of(args: argparse.Namespace):
    """A context manager giving the Ray cluster of ``--workers N [--address ADDR]``, or None (one process) without
    ``--workers``."""
    if getattr(args, "workers", None) is None:
        if getattr(args, "address", None):
            raise LLMKBError("--address needs --workers N (how many Ray workers to run)")
        return contextlib.nullcontext(None)
    from llmkb.scale.cluster import connect

    return connect(args.workers, args.address, args.cpus_per_worker)


def portable(args: argparse.Namespace) -> argparse.Namespace:
    """``args`` as a Ray worker needs them: paths absolute (a worker may start in another directory)."""
    return argparse.Namespace(**{k: (v.resolve() if isinstance(v, Path) else v) for k, v in vars(args).items()})
