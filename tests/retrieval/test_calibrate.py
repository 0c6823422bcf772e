"""Embedding calibration: the map learns, the calibrated model is an ordinary retriever whose cached index is what
encoding the documents with it gives, builds are reused, and an interrupted encoding resumes."""

import numpy as np
import pytest
import torch

from llmkb.data import load_dataset
from llmkb.retrieval import artifacts as retriever_artifacts
from llmkb.retrieval.artifacts import best_available, calibrated_path, calibration_record
from llmkb.retrieval.calibrate import CalibrationConfig, encode_cached, ensure_calibrated, recall_at, train_map
from llmkb.retrieval.retriever import DenseRetriever


@pytest.fixture()
def calibrated(tiny_root, tiny_models):
    dataset = load_dataset("inspired", tiny_root)
    base = DenseRetriever.for_dataset(dataset, tiny_models["retriever"], progress=False)
    return dataset, base, ensure_calibrated(dataset, base, CalibrationConfig(epochs=3), progress=False)


def test_the_map_learns_a_hidden_rotation_and_keeps_the_best_epoch():
    torch.manual_seed(0)
    documents = torch.nn.functional.normalize(torch.randn(200, 16), dim=-1)
    rotation = torch.linalg.qr(torch.randn(16, 16))[0]
    gold = torch.arange(200)
    queries = documents[gold] @ rotation.T + 0.05 * torch.randn(200, 16)  # each query: its document, rotated
    pairs = torch.stack([torch.arange(150), gold[:150]], dim=1)
    valid_golds = [{int(g)} for g in gold[150:]]
    at, curve = train_map(queries[:150], queries[150:], documents, pairs, valid_golds,
                          CalibrationConfig(epochs=40, patience=40, batch_size=32, learning_rate=1e-2), progress=False)
    assert curve[0]["epoch"] == 0 and curve[0]["loss"] is None
    best = max(curve, key=lambda p: p["valid_recall@50"])
    assert best["valid_recall@50"] > curve[0]["valid_recall@50"]
    assert recall_at(at(best["epoch"]), queries[150:], documents, valid_golds, k=1) > \
        recall_at(at(0), queries[150:], documents, valid_golds, k=1)


def test_the_calibrated_index_is_the_calibrated_model_encoding_the_documents(calibrated):
    dataset, base, path = calibrated
    assert path == calibrated_path("inspired") and (path / "modules.json").is_file()
    served = DenseRetriever.for_dataset(dataset, path, progress=False)  # loads the index calibration wrote
    texts = [d.text for d in served.documents]
    assert np.allclose(served.index.vectors(), served.model.encode(texts, convert_to_numpy=True), atol=1e-5)
    record = calibration_record(path)
    assert record["base"] == str(base.model_path) and record["training_pairs"] > 0
    assert record["valid_recall@50"]["best"] >= record["valid_recall@50"]["base"]
    assert [p["epoch"] for p in record["curve"]][:2] == [0, 1]


def test_a_current_build_is_reused_and_a_changed_input_rebuilds(calibrated):
    dataset, base, path = calibrated
    written = (path.parent / "calibration.json").stat().st_mtime_ns
    assert ensure_calibrated(dataset, base, CalibrationConfig(epochs=3), progress=False) == path
    assert (path.parent / "calibration.json").stat().st_mtime_ns == written
    ensure_calibrated(dataset, base, CalibrationConfig(epochs=2), progress=False)
    assert calibration_record(path)["config"]["epochs"] == 2


def test_best_available_is_the_calibration_of_the_current_base_only(calibrated, monkeypatch, tiny_models):
    _, base, path = calibrated
    monkeypatch.setattr(retriever_artifacts, "calibration_base", lambda dataset: base.model_path)
    assert best_available("inspired") == path
    monkeypatch.setattr(retriever_artifacts, "calibration_base", lambda dataset: tiny_models["llm"])  # another base
    assert best_available("inspired") == tiny_models["llm"]


def test_an_interrupted_encoding_resumes_from_its_chunks(calibrated, tmp_path):
    _, base, _ = calibrated
    cache = tmp_path / "queries-key.npy"
    cache.parent.mkdir(exist_ok=True)
    done = np.full((256, base.index.vectors().shape[1]), 7.0, dtype=np.float32)  # chunk 0, from the interrupted run
    np.save(cache.with_name("queries-key.part0000.npy"), done)
    texts = [f"query {i}" for i in range(300)]
    embedded = encode_cached(base, texts, cache, None, progress=False)
    assert embedded.shape[0] == 300 and (embedded[:256] == 7.0).all() and not (embedded[256:] == 7.0).all()
    assert cache.is_file() and not list(tmp_path.glob("*.part*.npy"))
    assert (encode_cached(base, ["other"], cache, None, progress=False) == embedded).all()  # cached whole
