"""``llmkb reproduce``: every command behind the results tables, in order and resumable
(``llmkb.evaluation.reproduce``)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from pathlib import Path

from llmkb.evaluation.reproduce import (CONVERSE, DATASETS, REQUESTS, SIMULATE, SYSTEMS, StepFailed, data_source,
                                       duration, format_plan, plan, run_plan, total_minutes, write_tables)
from llmkb.paths import data_dir


def _names(choices: Iterable[str]) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        names = [name for name in text.split(",") if name]
        bad = [name for name in names if name not in choices]
        if bad or not names:
            raise argparse.ArgumentTypeError(f"{text!r}: choose from {', '.join(choices)}")
        return names
    return parse


def _estimates() -> tuple[float, float, float]:
    """Hours of the whole plan from scratch, without and with --full-finetune; minutes of --quick."""
    return (total_minutes(plan(), force=True) / 60, total_minutes(plan(full_finetune=True), force=True) / 60,
            total_minutes(plan(["inspired"], quick=True), force=True))


def _description(hours: float, finetuned: float, quick: float) -> str:
    return (f"Run every command behind the results tables of docs/RESULTS.md, in order: data fetch, kb build, then "
            f"for INSPIRED and ReDial the retriever calibration, each system under both protocols (test split) and "
            f"the request benchmark; then write artifacts/results/tables.md from the reports.\n\n"
            f"On 2 CPU cores it takes hours: about {hours:.1f} h from scratch ({finetuned:.1f} h with "
            f"--full-finetune), mostly the LLM systems on ReDial. It resumes: a step whose report exists is skipped "
            f"(--force runs it again), and an interrupted step resumes from its command's caches (LLM scores, "
            f"indexes). --quick: INSPIRED only, without the LLM systems (rag, llm-zeroshot, rag-no-postprocess): "
            f"about {quick:.0f} min. --list shows the plan and what is left.")


def add(commands) -> None:
    """Add ``reproduce`` to the subparsers of the ``llmkb`` parser (it sets ``run``)."""
    hours, finetuned, quick = _estimates()
    p = commands.add_parser("reproduce", help=f"run every command behind the results tables and write them (resumable; "
                                              f"~{hours:.1f} h on 2 cores, --quick ~{quick:.0f} min)",
                            description=_description(hours, finetuned, quick), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="INSPIRED only (unless --datasets), without the LLM systems")
    p.add_argument("--full-finetune", action="store_true",
                   help="also fine-tune the retriever (train-retriever: INSPIRED 28 min, ReDial 41 min) and "
                        "evaluate it as `retriever`")
    p.add_argument("--datasets", type=_names(DATASETS), default=None,
                   help="comma list of datasets (default: inspired,redial; inspired with --quick)")
    p.add_argument("--only", type=_names([*SYSTEMS, REQUESTS, SIMULATE]), default=None, metavar="SYSTEM[,SYSTEM]",
                   help=f"only these systems and the set-up they need ({', '.join(SYSTEMS)}, {REQUESTS}, {SIMULATE}: the "
                        f"simulated users, {CONVERSE}: the reply writer and the conversation task)")
    p.add_argument("--list", action="store_true", help="print the plan (done or not, estimates, hours left); run nothing")
    p.add_argument("--force", action="store_true", help="run the steps that are done again")
    p.add_argument("--keep-going", action="store_true",
                   help="after a failed step run the others, and report the failures at the end")
    p.add_argument("--tables-only", action="store_true", help="only write the tables from the reports there are")
    p.set_defaults(run=cmd_reproduce)


def cmd_reproduce(args) -> None:
    if args.tables_only:
        print(f"tables: {write_tables()}")
        return
    datasets = args.datasets or (["inspired"] if args.quick else list(DATASETS))
    given_data_dir = getattr(args, "data_dir", None)
    steps = plan(datasets, args.quick, args.full_finetune, args.only, source=data_source(),
                 data_dir=given_data_dir if given_data_dir and Path(given_data_dir) != data_dir() else None)
    if args.list:
        print(format_plan(steps, args.force))
        return
    print(f"{len(steps)} steps, about {duration(total_minutes(steps, args.force))} to run on 2 CPU cores")
    failed = run_plan(steps, force=args.force, keep_going=args.keep_going)
    print(f"tables: {write_tables()}")
    if failed:
        raise StepFailed(f"{len(failed)} of {len(steps)} steps failed:\n" + "\n".join(s.command for s in failed)
                         + "\nfix them and run `llmkb reproduce` again: done steps are skipped")
