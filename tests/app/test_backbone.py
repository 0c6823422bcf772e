"""Backbones: pruned components are built once by an `llmkb rram prune` run of the recipe, serve the crossbars'
effective weights, and carry their costs and their accuracy measured against a dense copy."""

import json

import pytest
from conftest import TINY_RECIPE

from llmkb.app.backbone import Point, build_component, dense_costs, prepare
from llmkb.models import reference_note
from llmkb.errors import ModelError
from llmkb.generation.llm import load_llm
from llmkb.retrieval.retriever import load_encoder


@pytest.fixture(scope="module")
def pruned_retriever(tiny_models, tiny_root, tmp_path_factory):
    root = tmp_path_factory.mktemp("backbones")
    return root, build_component("retriever", tiny_models["retriever"], "inspired", root, False, TINY_RECIPE, tiny_root)


def test_pruned_retriever_is_built_once_measured_and_loads(pruned_retriever, tiny_models, tiny_root):
    root, path = pruned_retriever
    cost = json.loads((path / "cost.json").read_text())
    assert cost["rram"]["energy_pj"] < cost["dense"]["energy_pj"]
    assert cost["technology"] == cost["dense"]["technology"] == cost["rram"]["technology"] == "isaac32"
    accuracy = cost["accuracy"]
    assert accuracy["metric"].startswith("recall@50 (inspired-std train)") and 0 <= accuracy["pruned"] <= 1
    assert accuracy["change"] == pytest.approx((accuracy["pruned"] - accuracy["dense"]) / accuracy["dense"])
    assert accuracy["within_tolerance"] == (accuracy["change"] >= -0.01)
    run = json.loads((path / "run" / "report.json").read_text())  # the run that measured it, kept beside it
    assert accuracy["run"] == str(path / "run" / "report.json") and "--steps 2" in run["meta"]["command"]
    assert [r["name"] for r in run["results"]] == ["dense", TINY_RECIPE.retriever.label] == ["dense", "gptq-mse-5b"]
    assert cost["method"] == "gptq-mse-5b" and accuracy["reference"] == "float weights"
    dense, pruned = load_encoder(tiny_models["retriever"]), load_encoder(path / "model")
    a, b = dense.encode(["a heist movie"]), pruned.encode(["a heist movie"])
    assert a.shape == b.shape and not (a == b).all()  # same architecture, reconstructed and retrained weights
    stamp = (path / "cost.json").stat().st_mtime_ns
    assert build_component("retriever", tiny_models["retriever"], "inspired", root, False, TINY_RECIPE,
                           tiny_root) == path
    assert (path / "cost.json").stat().st_mtime_ns == stamp
    assert [p.name for p in root.iterdir()] == [path.name]  # no temp dirs left behind


def test_pruned_llm_generates_and_says_its_perplexity(tiny_models, tiny_root, tmp_path):
    path = build_component("llm", tiny_models["llm"], "inspired", tmp_path, False, TINY_RECIPE, tiny_root)
    model, tokenizer = load_llm(path / "model")
    ids = tokenizer("hello", return_tensors="pt")["input_ids"]
    assert model(ids).logits.shape[-1] == len(tokenizer)
    cost = json.loads((path / "cost.json").read_text())
    assert cost["exclude"] == ["lm_head"] and cost["accuracy"]["metric"] == "perplexity"
    assert cost["accuracy"]["within_tolerance"] == (cost["accuracy"]["change"] <= 0.02)


def test_the_dense_backbone_needs_no_pruning(tiny_models, tmp_path):
    sources = {"retriever": tiny_models["retriever"], "llm": tiny_models["llm"]}
    dense = prepare("dense", "inspired", tmp_path, **sources, progress=False)
    assert (dense.retriever, dense.llm, dense.pruned) == (sources["retriever"], sources["llm"], ())
    assert set(dense.costs) == {"retriever", "llm"} and all(set(c) == {"dense"} for c in dense.costs.values())
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".json", ".json"]  # dense costs only, cached
    assert dense_costs("llm", sources["llm"], tmp_path) == dense.costs["llm"]["dense"]


def test_prepare_maps_backbones_to_model_paths(tiny_models, tiny_root, tmp_path):
    sources = {"retriever": tiny_models["retriever"], "llm": tiny_models["llm"]}
    half = prepare("rram-retriever", "inspired", tmp_path, **sources, progress=False, recipe=TINY_RECIPE,
                   data_dir=tiny_root)
    assert half.retriever.parent.parent == tmp_path and half.llm == sources["llm"]
    full = prepare("rram-all", "inspired", tmp_path, **sources, progress=False, recipe=TINY_RECIPE, data_dir=tiny_root)
    assert full.retriever == half.retriever and full.llm.parent.parent == tmp_path
    assert set(full.costs["llm"]) == {"dense", "rram", "accuracy"} and set(half.costs["llm"]) == {"dense"}
    with pytest.raises(ModelError, match="unknown backbone"):
        prepare("analog", "inspired", tmp_path, **sources)


def test_a_point_names_its_result_and_its_flags():
    assert Point("reconstruct", 5).label == "reconstruct-5b"
    mixed = Point("gptq-mse", mixed_budget=0.6)
    assert mixed.label == "gptq-mse-mixed5-7b-0.6"
    assert mixed.args() == ["--methods", "dense", "--mixed", "0.6", "--mixed-families", "gptq-mse", "--mixed-bits",
                            "5,7"]


def test_a_gguf_reference_is_labelled_as_re_quantization(tmp_path):
    (tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf").write_bytes(b"")
    assert reference_note(tmp_path) == "re-quantizing a 4-bit (Q4_1) model"
    assert reference_note(tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf") == "re-quantizing a 4-bit (Q4_1) model"
    assert reference_note(tmp_path / "nowhere") == "float weights"
