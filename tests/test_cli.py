import argparse
import json
import re

from llmkb.cli import build_parser, main


def test_kb_show_and_unknown_title(tiny_root, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LLMKB_ARTIFACTS", str(tmp_path))
    assert main(["--data-dir", str(tiny_root), "kb", "show", "toy story"]) == 0
    assert capsys.readouterr().out.startswith("[1001] Toy Story (1995).")
    assert main(["--data-dir", str(tiny_root), "kb", "show", "Heat"]) == 0  # two movies share the title
    assert capsys.readouterr().out.count("Heat (19") == 2
    assert main(["--data-dir", str(tiny_root), "kb", "show", "Zzyzx Road"]) == 2
    assert "no movie titled 'Zzyzx Road'" in capsys.readouterr().err


def test_help_states_each_default_once_and_never_as_none():
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    for name, command in {"llmkb": parser, **commands}.items():
        text = " ".join(command.format_help().split())  # argparse wraps lines
        assert "(default: None)" not in text, name
        assert not re.search(r"\(default[^()]*(\([^()]*\)[^()]*)*\) \(default", text), name


def test_missing_data_is_a_clear_error_not_a_traceback(tmp_path, capsys):
    assert main(["--data-dir", str(tmp_path / "empty"), "kb", "build", "--dataset", "redial"]) == 2
    assert "file not found (run `llmkb data fetch --source DIR` first)" in capsys.readouterr().err


def test_data_stats(tiny_root, capsys):
    assert main(["--data-dir", str(tiny_root), "data", "stats"]) == 0
    out = capsys.readouterr().out
    assert "| redial | test | 2 | 12 | 3 | 4 | 3 | 3 |" in out


def test_simulate_writes_transcripts_and_a_report(tiny_root, tmp_path, capsys):
    out = tmp_path / "sim.transcripts.jsonl"
    argv = ["--data-dir", str(tiny_root), "simulate", "--dataset", "redial", "--system", "popularity",
            "--setting", "cold-start", "--targets", "2", "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "2 targets" in printed and "S@1" in printed and "scored 0" in printed
    report = json.loads((tmp_path / "sim.report.json").read_text())
    assert report["metrics"]["targets"] == 2 and report["system"] == "popularity" and report["simulator"] == "kb"
    assert len(out.read_text().splitlines()) == 2
    assert main([*argv[:-2], "--rounds", "0"]) == 2 and "--rounds" in capsys.readouterr().err


def test_kb_index_builds_the_index_the_retriever_then_loads(tiny_root, tiny_models, capsys):
    argv = ["--data-dir", str(tiny_root), "kb", "index", "--dataset", "redial", "--retriever",
            str(tiny_models["retriever"])]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "redial: flat index of" in out and "documents by" in out  # auto: exact at this size
    from llmkb.retrieval import DenseRetriever

    folder = DenseRetriever.cache_dir("redial", tiny_models["retriever"], "flat")
    assert (folder / "manifest.json").is_file()
    assert main([*argv, "--kind", "ivfpq"]) == 2 and "at least 256 documents" in capsys.readouterr().err
