"""``llmkb reproduce``: every command behind the results tables, in order, resumable; then the tables.

A plan is an ordered list of ``Step``: an ``llmkb`` command line, the file whose existence marks it done (the report
or summary it writes) and a rough estimate of its minutes on 2 CPU cores, first run, caches cold (from
docs/RESULTS.md). Done steps are skipped; an interrupted step resumes from the caches its command keeps (LLM scores,
indexes, tuned weights).

>>> steps = plan(["inspired"], quick=True)
>>> [step.command for step in steps][:4]
['llmkb data fetch', 'llmkb kb build', 'llmkb calibrate-retriever --dataset inspired', 'llmkb evaluate --dataset inspired --protocol std --system popularity']
>>> total_minutes(steps) <= 30
True
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from tqdm.auto import tqdm

from llmkb.data.io import atomic_write_text
from llmkb.errors import LLMKBError
from llmkb.evaluation.tables import (conversation_table, read_reports, requests_table, results_tables,
                                     simulation_table)
from llmkb.paths import artifacts_dir
from llmkb.pipeline.config import BEHAVIOUR_DATASETS

DATASETS = ("inspired", "redial")
PROTOCOLS = ("std", "dedup")
# Minutes on 2 cores per system: (inspired std, inspired dedup, redial std, redial dedup). dedup reuses the LLM
# scores and generations std cached (same samples), so it costs little after std. Sources: RESULTS.md (rag:
# valid scoring + test scoring; llm-zeroshot 56 min and rag-no-postprocess 57 min on ReDial std; retrievers ~1 min).
ABLATED = ("movielens", "graph", "item2vec", "co_mention", "kb", "retriever")  # the learned ranker's ablations
EVALUATE_MINUTES = {
    "popularity": (0.5, 0.5, 0.5, 0.5),
    "copy-context": (0.5, 0.5, 0.5, 0.5),
    "bm25": (1, 1, 1, 1),
    "retriever-zeroshot": (1, 1, 1, 1),
    "retriever-calibrated": (1, 1, 1, 1),
    "retriever": (1, 1, 1, 1),
    "rag-no-llm": (2, 2, 5, 5),
    "rag-ranker": (3, 1, 9, 3),  # the first one trains the out-of-fold data (2.4 and 4.7 min)
    **{f"rag-ranker-without-{source}": (0.5, 0.5, 1, 1) for source in ABLATED},
    "rag": (7, 2, 65, 10),
    "llm-zeroshot": (4, 1, 56, 5),
    "rag-no-postprocess": (4, 1, 57, 5),
}
SYSTEMS = tuple(EVALUATE_MINUTES)
LLM_SYSTEMS = ("rag", "llm-zeroshot", "rag-no-postprocess")  # left out by --quick
EXCLUDE_MENTIONED = ("bm25", "retriever-zeroshot", "retriever-calibrated", "retriever")  # also run excl. on dedup
REQUESTS = "requests"  # the request benchmark's name for --only
SIMULATE = "simulate"  # the interactive evaluation's name for --only
SIMULATED = ("popularity", "retriever-calibrated", "rag-ranker")  # systems the simulated users talk to
# per run (kb: 5–45 s with start-up, 2026-12-06); the first llm run of a dataset also phrases its attributes (+3)
SIMULATE_MINUTES = {"kb": 0.3, "llm": 1}
CONVERSE = "conversation"  # the conversation task's name for --only: the reply writer and its evaluation
CONVERSATION_SYSTEMS = ("template", "llm", "llm-trained")
CONVERSATION_SAMPLES = {"redial": 300}  # a seeded subset (a float32 reply takes 1-2 s here); INSPIRED: all 227
CONVERSATION_OPTIONS = {"inspired": ("--perplexity-samples", "227")}  # every INSPIRED reply; ReDial: 200 of the 300
CONVERSATION_MINUTES = {"template": 1, "llm": 6, "llm-trained": 6}  # per dataset, perplexity included
REPLY_TRAINING_MINUTES = 25
# Which systems use what a setup step builds (--only keeps a setup step only for them).
CALIBRATED_USERS = frozenset({"retriever-calibrated", "rag-no-llm", "rag", "rag-no-postprocess", REQUESTS, SIMULATE,
                              "rag-ranker", CONVERSE,
                              *(f"rag-ranker-without-{source}" for source in ABLATED)})
FINETUNED_USERS = CALIBRATED_USERS - {"retriever-calibrated"} | {"retriever"}
CALIBRATE_MINUTES = 3  # llmkb.retrieval.calibrate: 2-3 min on ReDial
TRAIN_MINUTES = {"inspired": 28, "redial": 41}  # RESULTS.md: train-retriever
TRAIN_OPTIONS = {"inspired": ("--max-steps", "120", "--eval-steps", "40")}  # as RESULTS.md ran it
FETCH_MINUTES, KB_MINUTES, REQUESTS_MINUTES = 1, 3, 1


@dataclass(frozen=True)
class Step:
    """One ``llmkb`` command of the plan."""

    name: str
    argv: tuple[str, ...]  # the subcommand and its arguments
    marker: Path | None  # the file that marks it done; None: it runs every time (it keeps what is up to date)
    minutes: float  # rough estimate on 2 CPU cores
    serves: frozenset[str] | None = None  # the systems it is for (None: all); --only filters on it
    options: tuple[str, ...] = ()  # ``llmkb`` options before the subcommand (--data-dir)
    after: tuple[Path, ...] = ()  # markers of the steps it uses: a marker older than one of them is stale

    @property
    def command_line(self) -> list[str]:
        """What follows ``llmkb``."""
        return [*self.options, *self.argv]

    @property
    def command(self) -> str:
        return shlex.join(["llmkb", *self.command_line])

    def done(self) -> bool:
        """The marker exists and is newer than the markers of the steps it uses (a report of the calibrated
        retriever is stale once the retriever is calibrated again); an evaluation report must cover every
        sample (not a --limit run's)."""
        if self.marker is None or not self.marker.is_file():
            return False
        if any(used.is_file() and used.stat().st_mtime > self.marker.stat().st_mtime for used in self.after):
            return False
        return self.argv[0] != "evaluate" or json.loads(self.marker.read_text(encoding="utf-8")).get("limit") is None


def report_path(dataset: str, protocol: str, system: str, exclude_mentioned: bool = False) -> Path:
    """Where ``llmkb evaluate`` writes the test report of this run (``cli.cmd_evaluate``)."""
    return artifacts_dir() / "runs" / f"{dataset}-{protocol}-test-{system}{'-excl' if exclude_mentioned else ''}.report.json"


def data_source() -> Path | None:
    """The local data mirror, picked as the Makefile picks it: ``$LLMKB_DATA_SOURCE``, else ../shared/data if present."""
    if os.environ.get("LLMKB_DATA_SOURCE"):
        return Path(os.environ["LLMKB_DATA_SOURCE"])
    shared = Path("..", "shared", "data")
    return shared if shared.is_dir() else None


def plan(datasets: Iterable[str] = DATASETS, quick: bool = False, full_finetune: bool = False,
         only: Iterable[str] | None = None, source: Path | None = None, data_dir: Path | None = None) -> list[Step]:
    """The steps, in order: data fetch, kb build, then per dataset (INSPIRED first) the retriever calibration, the
    full fine-tuning (``full_finetune``), every system under both protocols and the request benchmark.
    ``quick`` leaves out the LLM systems; ``only`` keeps the steps of those systems (and the set-up they need);
    ``data_dir`` is passed to every command as ``--data-dir``."""
    steps = [Step("data fetch", ("data", "fetch", *(("--source", str(source)) if source else ())), None, FETCH_MINUTES),
             Step("kb build", ("kb", "build"), None, KB_MINUTES)]
    for dataset in sorted(datasets, key=DATASETS.index):
        steps += _dataset_steps(dataset, quick, full_finetune)
    if not quick:
        steps += _conversation_steps(sorted(datasets, key=DATASETS.index))
    if data_dir:
        steps = [replace(step, options=("--data-dir", str(data_dir))) for step in steps]
    return steps if only is None else _only(steps, set(only))


def _dataset_steps(dataset: str, quick: bool, full_finetune: bool) -> list[Step]:
    retriever = artifacts_dir() / "retriever" / dataset
    calibrated = retriever / "calibrated" / "calibration.json"
    steps = [Step(f"{dataset} calibrate-retriever", ("calibrate-retriever", "--dataset", dataset),
                  calibrated, CALIBRATE_MINUTES, CALIBRATED_USERS)]
    if full_finetune:
        steps.append(Step(f"{dataset} train-retriever", ("train-retriever", "--dataset", dataset,
                                                         *TRAIN_OPTIONS.get(dataset, ())),
                          retriever / "training.json", TRAIN_MINUTES[dataset], FINETUNED_USERS))
    uses = lambda system: (calibrated,) if system in CALIBRATED_USERS else ()  # noqa: E731
    column = 2 * DATASETS.index(dataset)  # of EVALUATE_MINUTES
    for system, minutes in EVALUATE_MINUTES.items():
        if (system == "retriever" and not full_finetune) or (quick and (system in LLM_SYSTEMS or "-without-" in system)):
            continue
        if system == "rag-ranker-without-movielens" and dataset not in BEHAVIOUR_DATASETS:
            continue  # MovieLens is not served there, so there is nothing to leave out
        for protocol, exclude in [("std", False), ("dedup", False), *[("dedup", True)] * (system in EXCLUDE_MENTIONED)]:
            path = report_path(dataset, protocol, system, exclude)
            named, _, without = system.partition("-without-")
            argv = ("evaluate", "--dataset", dataset, "--protocol", protocol, "--system", named,
                    *(("--without", without) if without else ()), *("--exclude-mentioned",) * exclude)
            lists = {CONVERSE} if (system, protocol) == ("rag-ranker", "std") else set()  # the replies' lists
            steps.append(Step(path.name.removesuffix(".report.json"), argv, path,
                              minutes[column + PROTOCOLS.index(protocol)], frozenset({system, *lists}),
                              after=uses(system)))
    out = artifacts_dir() / "requests" / f"{dataset}-no-llm-report.json"
    steps.append(Step(f"{dataset} evaluate-requests", ("evaluate-requests", "--dataset", dataset, "--no-llm",
                                                      "--per-type", "25", "--variants", "all", "--out", str(out)),
                      out, REQUESTS_MINUTES, frozenset({REQUESTS}), after=(calibrated,)))
    return steps + _simulation_steps(dataset, quick, calibrated)


def _simulation_steps(dataset: str, quick: bool, calibrated: Path) -> list[Step]:
    """Both simulated users (the kb one only with ``quick``) in both settings, with each of ``SIMULATED``."""
    from llmkb.evaluation.interactive import ROUNDS, SETTINGS, simulation_paths

    steps = []
    for simulator in ("kb",) if quick else ("kb", "llm"):
        for i, (setting, system) in enumerate((setting, system) for setting in SETTINGS for system in SIMULATED):
            report = simulation_paths(dataset, system, simulator, setting, ROUNDS[setting])[1]
            minutes = SIMULATE_MINUTES[simulator] + (3 if simulator == "llm" and i == 0 else 0)
            steps.append(Step(report.name.removesuffix(".report.json"),
                              ("simulate", "--dataset", dataset, "--system", system, "--simulator", simulator,
                               "--setting", setting), report, minutes, frozenset({SIMULATE}), after=(calibrated,)))
    return steps


def _conversation_steps(datasets: list[str]) -> list[Step]:
    """The reply writer's training (both catalogues), then the conversation task of each reply writer."""
    from llmkb.evaluation.conversation import conversation_report

    steps = [Step("train-replies", ("train-replies",), None, REPLY_TRAINING_MINUTES, frozenset({CONVERSE}))]
    for dataset in datasets:
        samples = CONVERSATION_SAMPLES.get(dataset)
        for system in CONVERSATION_SYSTEMS:
            report = conversation_report(dataset, "test", system, samples=samples)
            steps.append(Step(report.name.removesuffix(".report.json"),
                              ("evaluate-conversation", "--dataset", dataset, "--system", system,
                               *(("--samples", str(samples)) if samples else ()),
                               *CONVERSATION_OPTIONS.get(dataset, ())), report,
                              CONVERSATION_MINUTES[system], frozenset({CONVERSE}),
                              after=(report_path(dataset, "std", "rag-ranker"),)))
    return steps


def _only(steps: list[Step], only: set[str]) -> list[Step]:
    unknown = only - {*SYSTEMS, REQUESTS, SIMULATE, CONVERSE}
    if unknown:
        raise LLMKBError(f"--only: unknown {', '.join(sorted(unknown))}; choose from "
                         f"{', '.join([*SYSTEMS, REQUESTS, SIMULATE, CONVERSE])}")
    kept = [s for s in steps if s.serves is None or s.serves & only]
    missing = only - set().union(*(s.serves for s in kept if s.serves))
    if missing:
        raise LLMKBError(f"--only: {', '.join(sorted(missing))} not in this plan (`retriever` needs --full-finetune; "
                         f"--quick leaves out {', '.join(LLM_SYSTEMS)})")
    return kept


def total_minutes(steps: Iterable[Step], force: bool = False) -> float:
    """Estimated minutes of the steps still to run (every step with ``force``)."""
    return sum(s.minutes for s in steps if force or not s.done())


def format_plan(steps: list[Step], force: bool = False) -> str:
    """A line per step (done or not, its estimate, its command), then how long the rest should take."""
    lines = [f"[{i:>{len(str(len(steps)))}}/{len(steps)}] {'done  ' if s.done() and not force else 'to run'} "
             f"{s.minutes:>5g} min  {s.command}" for i, s in enumerate(steps, 1)]
    left = [s for s in steps if force or not s.done()]
    lines.append(f"{len(steps)} steps, {len(left)} to run: about {duration(total_minutes(left))} on 2 CPU cores "
                 "(rough estimates, first runs; data fetch and kb build run each time and keep what is up to date)")
    return "\n".join(lines)


def duration(minutes: float) -> str:
    """``minutes`` in words: minutes under an hour, else hours.

    >>> duration(25), duration(269)
    ('25 min', '4.5 h')
    """
    return f"{minutes:.0f} min" if minutes < 60 else f"{minutes / 60:.1f} h"


class StepFailed(LLMKBError):
    """A step's command exited with an error."""


def llmkb_command() -> list[str]:
    """The ``llmkb`` entry point beside this Python (reports then record ``llmkb ...``), else ``python -m llmkb.cli``."""
    entry = shutil.which("llmkb", path=str(Path(sys.executable).parent))
    return [entry] if entry else [sys.executable, "-m", "llmkb.cli"]


def subprocess_runner(prefix: list[str]) -> Callable[[Step], int]:
    """A step runner: ``prefix + step.command_line`` as a subprocess; returns its exit status."""
    return lambda step: subprocess.run([*prefix, *step.command_line]).returncode


def run_plan(steps: list[Step], run_step: Callable[[Step], int] | None = None, force: bool = False,
             keep_going: bool = False) -> list[Step]:
    """Run the steps not done yet (all with ``force``) in order with ``run_step`` (default: ``llmkb`` subprocesses).
    Stops at the first failure with ``StepFailed``; with ``keep_going`` runs the rest and returns the failed steps."""
    run_step = run_step or subprocess_runner(llmkb_command())
    failed = []
    with tqdm(total=len(steps), unit="step") as bar:
        for i, step in enumerate(steps, 1):
            bar.set_description_str(step.command)
            at = f"[{i}/{len(steps)}]"
            if step.done() and not force:
                tqdm.write(f"{at} done, skipped: {step.command} ({step.marker} exists)")
            else:
                tqdm.write(f"{at} {step.command} (est. {step.minutes:g} min)")
                status = run_step(step)
                if status != 0:
                    message = f"step {at} {step.name} failed (exit status {status}): {step.command}"
                    if not keep_going:
                        raise StepFailed(f"{message}\nfix it and run `llmkb reproduce` again: done steps are skipped")
                    tqdm.write(f"{message}; going on (--keep-going)")
                    failed.append(step)
                elif step.marker is not None and not step.done():
                    tqdm.write(f"warning: {step.command} succeeded but did not write {step.marker}")
            bar.update()
    return failed


def write_tables(out: Path | None = None) -> Path:
    """Write the results tables from the reports of every step any plan has (``out``: artifacts/results/tables.md)."""
    every = plan(full_finetune=True)
    evaluations = read_reports(s.marker for s in every if s.done() and s.argv[0] == "evaluate")
    requests = read_reports(s.marker for s in every if s.done() and s.argv[0] == "evaluate-requests")
    simulations = read_reports(s.marker for s in every if s.done() and s.argv[0] == "simulate")
    conversations = read_reports(s.marker for s in every if s.done() and s.argv[0] == "evaluate-conversation")
    out = out or artifacts_dir() / "results" / "tables.md"
    body = "\n\n".join(part for part in (results_tables(evaluations), requests_table(requests),
                                          simulation_table(simulations), conversation_table(conversations)) if part)
    count = len(evaluations) + len(requests) + len(simulations) + len(conversations)
    atomic_write_text(out, f"# Results tables\n\nWritten by `llmkb reproduce` on {time.strftime('%Y-%m-%d')} from "
                           f"{count} reports (docs/RESULTS.md and docs/results/ say what they mean).\n\n"
                           f"{body or '(no reports yet)'}\n")
    return out
