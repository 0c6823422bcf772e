"""``llmkb rram prune``: its arguments and defaults, which model a --model value names, and end-to-end runs on the
tiny data with tiny models (the real models run in tests/rram/test_integration_models.py)."""

import argparse
import json

import pytest

from llmkb.errors import LLMKBError
from llmkb.app.backbone import RECIPE, Point, Recipe
from llmkb.cli.rram import add as add_rram_commands, cmd_prune
from llmkb.prune import PruneConfig, method_configs, model_kind
from tiny_models import write_tiny_llm, write_tiny_sentence_transformer


def parser() -> argparse.ArgumentParser:
    """What ``llmkb.cli`` builds around ``add_rram_commands``."""
    p = argparse.ArgumentParser(prog="llmkb")
    p.add_argument("--data-dir", default=None)
    add_rram_commands(p.add_subparsers(dest="command", required=True))
    return p


def test_defaults_are_those_of_the_old_scripts():
    args = parser().parse_args(["rram", "prune", "--model", "llm", "--out", "out"])
    assert args.run is cmd_prune and str(args.out) == "out"
    assert {k: v for k, v in vars(args).items() if k not in ("run", "out", "command", "action", "data_dir")} == {
        "model": "llm", "rows": 128, "cols": 128, "bits_per_cell": 2, "encoding": "differential", "dac_bits": 1,
        "technology": "isaac32", "input_bits": 8, "skip_zero_slices": False, "weight_bits": 8, "key_bits": (4,), "sparsity": (0.5,), "prune_fraction": (0.0,),
        "scales": "integer", "mixed_bits": (5, 7), "mixed_budget": (), "mixed_families": "reconstruct", "methods": "all",
        "tolerance": None,
        "steps": 0, "lr": 1e-5, "batch_size": 8, "schedule": "linear", "calibrate": 4, "no_retrain_dense": False,
        "skip_float": False, "dataset": "inspired", "split": "valid", "report_split": None, "seed": 0, "budget": None, "protocol": "std", "metric": "recall@50",
        "window": 256, "eval_windows": 64, "include_head": False, "workers": None, "cpus_per_worker": None, "address": None}
    args = parser().parse_args(["rram", "prune", "--model", "retriever", "--out", "o", "--key-bits", "3,4,5",
                                "--mixed-budget", "0.5,0.6", "--tolerance", "0.01"])
    assert args.key_bits == (3, 4, 5) and args.mixed_budget == (0.5, 0.6) and args.tolerance == 0.01
    args = parser().parse_args(["rram", "prune", "--model", "llm", "--out", "o", "--families", "gptq-mse", "--mixed", "0.6",
                                "--mixed-families", "reconstruct,gptq-mse"])
    assert (args.methods, args.mixed_budget, args.mixed_families) == ("gptq-mse", (0.6,), "reconstruct,gptq-mse")
    assert PruneConfig.from_args(args) == PruneConfig(model="llm", out="o", methods="gptq-mse", mixed_budget=(0.6,),
                                                      mixed_families="reconstruct,gptq-mse")


@pytest.mark.parametrize("recipe", [RECIPE, Recipe(retriever=Point("gptq", 5), llm=Point("reconstruct", mixed_budget=0.5))])
@pytest.mark.parametrize("kind", ["retriever", "llm"])
def test_a_backbone_recipe_is_the_command_it_records(recipe, kind, tmp_path):
    """The demo builds a PruneConfig directly; the command its report records must parse to the same config."""
    args = parser().parse_args(["--data-dir", str(tmp_path), *recipe.args(kind, tmp_path / "m", "redial", tmp_path / "o")])
    assert PruneConfig.from_args(args) == recipe.prune_config(kind, tmp_path / "m", "redial", tmp_path / "o", tmp_path)


def test_help_shows_defaults(capsys):
    with pytest.raises(SystemExit):
        parser().parse_args(["rram", "prune", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--model {retriever,llm,PATH}" in out and "(default: recall@50)" in out and "llm only" in out


def test_model_kind(tiny_root, tmp_path):
    assert model_kind("retriever") == ("retriever", None) and model_kind("llm") == ("llm", None)
    st = write_tiny_sentence_transformer(tmp_path / "st", tiny_root)
    assert model_kind(str(st)) == ("retriever", st)
    llm = write_tiny_llm(tmp_path / "llm")
    assert model_kind(str(llm)) == ("llm", llm)
    (tmp_path / "gguf").mkdir()
    (tmp_path / "gguf" / "m.gguf").write_bytes(b"")
    assert model_kind(str(tmp_path / "gguf" / "m.gguf"))[0] == model_kind(str(tmp_path / "gguf"))[0] == "llm"
    with pytest.raises(LLMKBError, match="does not exist"):
        model_kind(str(tmp_path / "missing"))
    with pytest.raises(LLMKBError, match="neither a sentence-transformers directory"):
        model_kind(str(tmp_path))


def test_method_flags_become_configs():
    def configs(*flags):
        return method_configs(PruneConfig.from_args(parser().parse_args(["rram", "prune", "--model", "llm", "--out", "o",
                                                                         *flags])))

    assert set(configs("--methods", "quantize,dense")) == {"dense", "quantize-4b"}
    assert configs("--rows", "256", "--cols", "256")["reconstruct-4b"].method.reconstruct.group_size == 256
    with pytest.raises(LLMKBError, match=r"unknown --methods \['prune'\]"):
        configs("--methods", "prune")
    with pytest.raises(LLMKBError, match="key_bits=9"):
        configs("--key-bits", "9")
    assert set(configs("--methods", "gptq,reconstruct+gptq", "--skip-zero-slices")) == {
        "dense", "gptq-4b", "reconstruct+gptq-4b"}
    assert configs("--skip-zero-slices", "--input-bits", "6")["dense"].crossbar.input_cycles == 6
    with pytest.raises(LLMKBError, match="need each layer's input Hessian: pass --calibrate N"):
        configs("--methods", "gptq", "--calibrate", "0")


def run(tmp_path, tiny_root, *flags) -> dict:
    args = parser().parse_args(["--data-dir", str(tiny_root), "rram", "prune", "--out", str(tmp_path / "out"), *flags])
    args.run(args)
    return json.loads((tmp_path / "out" / "report.json").read_text())


def test_llm_end_to_end(tiny_root, tmp_path):
    llm = write_tiny_llm(tmp_path / "llm")
    rep = run(tmp_path, tiny_root, "--model", str(llm), "--methods", "reconstruct", "--window", "16",
              "--eval-windows", "4", "--split", "test", "--steps", "2", "--calibrate", "1", "--mixed-budget", "1", "--mixed-bits", "4,6", "--tolerance", "0.5")
    assert [r["name"] for r in rep["results"]] == ["dense", "reconstruct-4b", "reconstruct-mixed4-6b-1"]
    assert rep["metric"] == "perplexity" and not rep["higher_is_better"] and rep["model"] == str(llm)
    assert rep["meta"]["eval_windows"] == 4 and rep["meta"]["split"] == "test" and rep["meta"]["retrain_dense"] and rep["meta"]["float_accuracy"] > 1
    assert all(r["extra"]["retrain_steps"] == 2 for r in rep["results"])
    assert not any(layer["name"] == "lm_head" for layer in rep["results"][0]["layers"])
    assert (tmp_path / "out" / "report.md").is_file() and (tmp_path / "out" / "pareto.png").is_file()


def test_llm_gptq_report_split_and_resume(tiny_root, tmp_path):
    llm = write_tiny_llm(tmp_path / "llm")
    flags = ["--model", str(llm), "--methods", "gptq,reconstruct+gptq", "--window", "16", "--eval-windows", "4",
             "--split", "test", "--report-split", "train", "--calibrate", "1", "--tolerance", "100", "--skip-float",
             "--key-bits", "6", "--steps"]
    rep = run(tmp_path, tiny_root, *flags, "2", "--budget", "0")
    assert [r["name"] for r in rep["results"]] == ["dense"] and rep["meta"]["not_run"] == ["reconstruct+gptq-6b", "gptq-6b"]
    rep = run(tmp_path, tiny_root, *flags, "2")  # resumes: dense is read back
    assert [r["name"] for r in rep["results"]] == ["dense", "reconstruct+gptq-6b", "gptq-6b"]
    assert all(len(r["extra"]["report"]["units"]) == 4 and r["extra"]["cpu_seconds"] > 0 for r in rep["results"])
    found = rep["frontier"]
    assert found["selection"]["equal_accuracy"]["ours_family"] == "reconstruct+gptq"
    lo, hi = found["report"]["intervals"]["accuracy:dense"]
    assert lo <= rep["results"][0]["extra"]["report"]["accuracy"] <= hi
    assert "On the report split (train)" in (tmp_path / "out" / "report.md").read_text()
    with pytest.raises(LLMKBError, match=r"other settings \(steps\)"):
        run(tmp_path, tiny_root, *flags, "3")


def test_retriever_end_to_end(tiny_root, tmp_path, monkeypatch):
    monkeypatch.setenv("LLMKB_ARTIFACTS", str(tmp_path / "artifacts"))
    st = write_tiny_sentence_transformer(tmp_path / "st", tiny_root)
    rep = run(tmp_path, tiny_root, "--model", str(st), "--methods", "quantize", "--dataset", "inspired",
              "--rows", "16", "--steps", "1", "--batch-size", "2", "--skip-float")
    assert [r["name"] for r in rep["results"]] == ["dense", "quantize-4b"]
    assert rep["metric"] == "recall@50 (inspired-std valid)" and "recall@10" in rep["results"][0]["extra"]["metrics"]
    with pytest.raises(LLMKBError, match="not a harness metric"):
        run(tmp_path / "again", tiny_root, "--model", str(st), "--methods", "quantize", "--rows", "16", "--metric",
            "recall@7")
