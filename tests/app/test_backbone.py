"""Backbones: pruned components are built once, serve the crossbars' effective weights, and carry their costs."""

import json

import pytest
import torch

import rram
from llmkb.errors import ModelError
from llmkb.generation.llm import load_llm
from llmkb.app.backbone import build_component, prepare
from llmkb.retrieval.retriever import load_encoder


def test_pruned_retriever_is_built_once_and_loads(tiny_models, tmp_path):
    path = build_component("retriever", tiny_models["retriever"], tmp_path, progress=False)
    cost = json.loads((path / "cost.json").read_text())
    assert cost["rram"]["crossbars"] <= cost["dense"]["crossbars"]
    assert cost["rram"]["energy_pj"] < cost["dense"]["energy_pj"]
    assert cost["technology"] == cost["dense"]["technology"] == cost["rram"]["technology"] == "isaac32"
    dense, pruned = load_encoder(tiny_models["retriever"]), load_encoder(path / "model")
    a, b = dense.encode(["a heist movie"]), pruned.encode(["a heist movie"])
    assert a.shape == b.shape and not (a == b).all()  # same architecture, reconstructed weights
    stamp = (path / "cost.json").stat().st_mtime_ns
    assert build_component("retriever", tiny_models["retriever"], tmp_path, progress=False) == path
    assert (path / "cost.json").stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp dirs left behind


def test_pruned_llm_generates(tiny_models, tmp_path):
    path = build_component("llm", tiny_models["llm"], tmp_path, progress=False)
    model, tokenizer = load_llm(path / "model")
    ids = tokenizer("hello", return_tensors="pt")["input_ids"]
    assert model(ids).logits.shape[-1] == len(tokenizer)
    assert json.loads((path / "cost.json").read_text())["exclude"] == ["lm_head"]


def test_prepare_maps_backbones_to_model_paths(tiny_models, tmp_path):
    sources = {"retriever": tiny_models["retriever"], "llm": tiny_models["llm"]}
    dense = prepare("dense", "redial", tmp_path, **sources, progress=False)
    assert (dense.retriever, dense.llm, dense.pruned) == (sources["retriever"], sources["llm"], ())
    half = prepare("rram-retriever", "redial", tmp_path, **sources, progress=False)
    assert half.retriever.parent.parent == tmp_path and half.llm == sources["llm"]
    full = prepare("rram-all", "redial", tmp_path, **sources, progress=False)
    assert full.retriever == half.retriever and full.llm.parent.parent == tmp_path
    assert set(full.costs) == {"retriever", "llm"} and set(full.costs["llm"]) == {"dense", "rram"}
    with pytest.raises(ModelError, match="unknown backbone"):
        prepare("analog", "redial", tmp_path, **sources)
