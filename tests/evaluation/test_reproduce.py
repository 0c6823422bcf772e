"""``llmkb reproduce``: the plan's steps and estimates, skipping done steps, --force, failures, the tables it writes
and its command line. No step runs llmkb: the step runner is injected."""

import argparse
import json
import sys
from pathlib import Path

import pytest

from llmkb.evaluation import reproduce
from llmkb.cli import reproduce as reproduce_command
from llmkb.evaluation.reproduce import (StepFailed, data_source, format_plan, plan,
                                        report_path, run_plan, subprocess_runner, total_minutes, write_tables)


@pytest.fixture(autouse=True)
def artifacts(tmp_path, monkeypatch) -> Path:
    """Each test its own artifacts folder: done-markers made by one test never mark another's steps done."""
    monkeypatch.setenv("LLMKB_ARTIFACTS", str(tmp_path / "artifacts"))
    return tmp_path / "artifacts"


def commands(steps) -> list[str]:
    return [step.command for step in steps]


def evaluated(steps) -> set[tuple[str, ...]]:
    """(dataset, protocol, system[-without-SOURCE][, excl]) of every evaluate step."""
    def system(argv):
        return argv[6] + (f"-without-{argv[argv.index('--without') + 1]}" if "--without" in argv else "")

    return {(s.argv[2], s.argv[4], system(s.argv), *(("excl",) if "--exclude-mentioned" in s.argv else ()))
            for s in steps if s.argv[0] == "evaluate"}


def record_runs(ran: list, status: int = 0):
    """A runner that records the steps and writes their done-marker, as the real commands do."""
    def run(step):
        ran.append(step.name)
        if step.marker is not None and status == 0:
            step.marker.parent.mkdir(parents=True, exist_ok=True)
            step.marker.write_text("{}")
        return status
    return run


def test_default_plan_in_order(artifacts):
    steps = plan()
    cmds = commands(steps)
    assert cmds[:3] == ["llmkb data fetch", "llmkb kb build", "llmkb calibrate-retriever --dataset inspired"]
    conversation = [c for c in cmds if c.startswith(("llmkb train-replies", "llmkb evaluate-conversation"))]
    assert cmds[-len(conversation):] == conversation and conversation[0] == "llmkb train-replies"  # after the lists
    assert "llmkb evaluate-conversation --dataset redial --system llm-trained --samples 300" in conversation
    assert len(conversation) == 1 + 2 * 3  # the training, then datasets × reply writers
    cmds = cmds[: -len(conversation)]
    assert cmds.index("llmkb calibrate-retriever --dataset redial") > max(
        i for i, c in enumerate(cmds) if "--dataset inspired" in c)  # INSPIRED first
    assert not any("train-retriever" in c or "--system retriever " in c + " " for c in cmds)
    systems = ["popularity", "copy-context", "bm25", "retriever-zeroshot", "retriever-calibrated", "rag-no-llm",
               "rag-ranker", "rag", "llm-zeroshot", "rag-no-postprocess",
               *(f"rag-ranker-without-{source}" for source in ("graph", "item2vec", "co_mention", "kb", "retriever"))]
    for dataset in ("inspired", "redial"):
        served = systems + ["rag-ranker-without-movielens"] * (dataset == "redial")  # MovieLens: ReDial only
        expected = {(dataset, p, s) for s in served for p in ("std", "dedup")}
        expected |= {(dataset, "dedup", s, "excl") for s in ("bm25", "retriever-zeroshot", "retriever-calibrated")}
        assert {e for e in evaluated(steps) if e[0] == dataset} == expected
        assert (f"llmkb evaluate-requests --dataset {dataset} --no-llm --per-type 25 --variants all --out "
                f"{artifacts / 'requests' / f'{dataset}-no-llm-report.json'}") in cmds
    simulations = [c for c in cmds if c.startswith("llmkb simulate")]
    assert len(simulations) == 2 * 2 * 3 * 3  # datasets × users × settings × systems
    assert "llmkb simulate --dataset redial --system rag-ranker --simulator llm --setting cold-start" in simulations
    # per dataset: calibration, 15 systems × 2 protocols, 3 excl runs, requests; ReDial also ablates MovieLens (× 2)
    assert len(steps) == 2 + 2 * (1 + 15 * 2 + 3 + 1) + 2 + len(simulations) + len(conversation)
    assert cmds.index("llmkb evaluate --dataset inspired --protocol std --system popularity") < \
        cmds.index("llmkb evaluate --dataset inspired --protocol std --system rag")
    bm25 = next(s for s in steps if s.command.endswith("--protocol dedup --system bm25 --exclude-mentioned"))
    assert bm25.marker == artifacts / "runs" / "inspired-dedup-test-bm25-excl.report.json"
    calibrate = steps[2]
    assert calibrate.marker == artifacts / "retriever" / "inspired" / "calibrated" / "calibration.json"
    assert 3.5 * 60 < total_minutes(steps) < 7 * 60  # hours on 2 cores


def test_quick_plan_is_inspired_without_llm_systems_and_under_30_minutes():
    steps = plan(["inspired"], quick=True)
    assert not any("redial" in c for c in commands(steps))
    systems = {e[2] for e in evaluated(steps)}
    assert systems == {"popularity", "copy-context", "bm25", "retriever-zeroshot", "retriever-calibrated",
                       "rag-no-llm", "rag-ranker"}
    assert "llmkb evaluate-requests" in " ".join(commands(steps))
    assert {c.split("--simulator ")[1].split()[0] for c in commands(steps) if "simulate" in c} == {"kb"}
    assert total_minutes(steps) <= 30
    assert total_minutes(plan(["inspired"])) > 30  # the LLM systems are what --quick saves


def test_full_finetune_adds_training_before_the_fine_tuned_retriever():
    steps = plan(full_finetune=True)
    cmds = commands(steps)
    train = cmds.index("llmkb train-retriever --dataset inspired --max-steps 120 --eval-steps 40")
    assert train < cmds.index("llmkb evaluate --dataset inspired --protocol std --system retriever")
    assert "llmkb train-retriever --dataset redial" in cmds
    assert steps[train].marker.parts[-3:] == ("retriever", "inspired", "training.json")
    assert {e for e in evaluated(steps) if e[2] == "retriever"} == {
        (d, p, "retriever", *x) for d in ("inspired", "redial") for p, *x in [("std",), ("dedup",), ("dedup", "excl")]}
    assert total_minutes(steps) - total_minutes(plan()) == pytest.approx(28 + 41 + 6)


def test_only_keeps_those_systems_and_the_set_up_they_need():
    steps = plan(["redial"], only=["bm25", "rag"])
    assert commands(steps)[:3] == ["llmkb data fetch", "llmkb kb build", "llmkb calibrate-retriever --dataset redial"]
    assert evaluated(steps) == {("redial", "std", "bm25"), ("redial", "dedup", "bm25"),
                                ("redial", "dedup", "bm25", "excl"), ("redial", "std", "rag"), ("redial", "dedup", "rag")}
    assert len(steps) == 3 + 5
    assert "calibrate-retriever" not in " ".join(commands(plan(["redial"], only=["popularity"])))
    assert commands(plan(["inspired"], only=["requests"]))[-1].startswith("llmkb evaluate-requests --dataset inspired")
    with pytest.raises(reproduce.LLMKBError, match="retriever.*--full-finetune"):
        plan(only=["retriever"])
    with pytest.raises(reproduce.LLMKBError, match="unknown nonsense"):
        plan(only=["nonsense"])


def test_source_and_data_dir_reach_the_commands(tmp_path, monkeypatch):
    steps = plan(["inspired"], source=Path("/mirror"), data_dir=Path("/d"))
    assert steps[0].command == "llmkb --data-dir /d data fetch --source /mirror"
    assert all(s.command_line[:2] == ["--data-dir", "/d"] for s in steps)
    assert evaluated(steps) == evaluated(plan(["inspired"]))  # argv: the subcommand and its arguments
    monkeypatch.setenv("LLMKB_DATA_SOURCE", "/elsewhere")
    assert data_source() == Path("/elsewhere")
    monkeypatch.delenv("LLMKB_DATA_SOURCE")
    (tmp_path / "repo").mkdir()
    monkeypatch.chdir(tmp_path / "repo")
    assert data_source() is None  # no ../shared/data beside it
    (tmp_path / "shared" / "data").mkdir(parents=True)
    assert data_source() == Path("../shared/data")


def test_done_steps_are_skipped_and_said_so(capsys):
    steps = plan(["inspired"], quick=True)
    done = steps[4]
    done.marker.parent.mkdir(parents=True)
    done.marker.write_text("{}")
    ran = []
    assert run_plan(steps, record_runs(ran)) == []
    assert done.name not in ran and len(ran) == len(steps) - 1
    assert ran[:2] == ["data fetch", "kb build"]
    out = capsys.readouterr().out
    assert f"[5/{len(steps)}] done, skipped: {done.command} ({done.marker} exists)" in out
    assert f"[1/{len(steps)}] llmkb data fetch (est. 1 min)" in out
    # everything is done now, except what runs each time
    ran.clear()
    run_plan(steps, record_runs(ran))
    assert ran == ["data fetch", "kb build"]
    assert total_minutes(steps) == 1 + 3
    assert "30 steps, 2 to run: about 4 min" in format_plan(steps)
    assert format_plan(steps).splitlines()[4].startswith("[ 5/30] done ")


def test_a_limited_report_is_not_done(artifacts):
    step = next(s for s in plan(["inspired"]) if s.name == "inspired-std-test-rag")
    step.marker.parent.mkdir(parents=True)
    step.marker.write_text(json.dumps({"limit": 60}))  # `llmkb evaluate --limit 60` writes the same path
    assert not step.done()
    step.marker.write_text(json.dumps({"limit": None}))
    assert step.done()


def test_force_runs_done_steps_again():
    steps = plan(["inspired"], quick=True)
    run_plan(steps, record_runs([]))
    ran = []
    run_plan(steps, record_runs(ran), force=True)
    assert ran == [s.name for s in steps]
    assert total_minutes(steps, force=True) == total_minutes(plan(["inspired"], quick=True), force=True) <= 30


def test_a_failing_step_stops_the_plan_with_its_command():
    steps = plan(["inspired"], quick=True)
    fail = subprocess_runner([sys.executable, "-c", "import sys; sys.exit(1)"])  # a real process that exits 1
    ran = []

    def run(step):
        ran.append(step.name)
        return fail(step) if step.name == "kb build" else 0

    with pytest.raises(StepFailed) as error:
        run_plan(steps, run)
    assert ran == ["data fetch", "kb build"]
    message = str(error.value)
    assert f"[2/{len(steps)}] kb build failed (exit status 1): llmkb kb build" in message
    assert "run `llmkb reproduce` again" in message


def test_keep_going_runs_the_rest_and_returns_the_failures(capsys):
    steps = plan(["inspired"], quick=True)
    ran = []
    failed = run_plan(steps, lambda step: ran.append(step) or (3 if "bm25" in step.name else 0), keep_going=True)
    assert [s.command for s in failed] == [s.command for s in steps if "bm25" in s.name] and len(failed) == 3
    assert len(ran) == len(steps)
    assert "failed (exit status 3)" in capsys.readouterr().out


def fake_report(system: str) -> dict:
    metrics = dict.fromkeys(["recall@1", "recall@10", "recall@50", "ndcg@10", "mrr@50", "pair_recall@10",
                             "pair_recall@50"], 0.5)
    return {"protocol": "inspired-std", "split": "test", "system": system, "exclude_mentioned": False, "limit": None,
            "metrics": {"samples": 227, "pairs": 252, **metrics}, "command": f"llmkb evaluate --system {system}",
            "date": "2026-12-01"}


def test_tables_come_from_the_plans_reports_only(artifacts):
    for system, stem in [("bm25", "inspired-std-test-bm25"), ("rag", "inspired-std-test-rag"),
                         ("rag-no-llm", "inspired-std-test-rag-no-llm-no-constraints")]:  # the last: an ablation
        path = artifacts / "runs" / f"{stem}.report.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(fake_report(system)))
    assert report_path("inspired", "std", "rag") == artifacts / "runs" / "inspired-std-test-rag.report.json"
    out = write_tables()
    assert out == artifacts / "results" / "tables.md"
    text = out.read_text()
    assert text.startswith("# Results tables\n") and "from 2 reports" in text
    assert "### inspired-std (test: 227 samples, 252 pairs)" in text
    assert "| bm25 | 0.500" in text and "| rag | 0.500" in text and "rag-no-llm" not in text
    assert text.index("| bm25 |") < text.index("| rag |")


def parse(*argv):
    parser = argparse.ArgumentParser(prog="llmkb")
    parser.add_argument("--data-dir", type=Path, default=Path("data"))
    reproduce_command.add(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["reproduce", *argv])


def test_command_line(capsys, artifacts):
    args = parse("--quick", "--only", "bm25,popularity", "--keep-going")
    assert args.run is reproduce_command.cmd_reproduce and args.quick and args.keep_going
    assert args.only == ["bm25", "popularity"] and args.datasets is None and not args.force
    assert parse("--datasets", "redial").datasets == ["redial"]
    with pytest.raises(SystemExit):
        parse("--datasets", "movielens")
    args.list = True
    args.run(args)
    out = capsys.readouterr().out
    assert "llmkb evaluate --dataset inspired --protocol dedup --system bm25 --exclude-mentioned" in out
    assert "redial" not in out and "rag" not in out
    assert out.splitlines()[-1].startswith("7 steps, 7 to run: about 8 min")
    parse("--tables-only").run(parse("--tables-only"))
    assert (artifacts / "results" / "tables.md").is_file()


def test_help_says_hours_resume_and_quick(capsys):
    with pytest.raises(SystemExit):
        parse("--help")
    text = " ".join(capsys.readouterr().out.split())
    hours, quick = total_minutes(plan(), force=True) / 60, total_minutes(plan(["inspired"], quick=True), force=True)
    assert f"about {hours:.1f} h from scratch" in text and 4 <= hours <= 7 and "with --full-finetune" in text
    assert "It resumes" in text and "--quick: INSPIRED only" in text and f"about {quick:.0f} min" in text
