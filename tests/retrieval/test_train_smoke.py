"""Fine-tuning end to end on the tiny world with a tiny random BERT: 2 steps through the real Trainer."""

import json
import warnings

import pytest
from sentence_transformers import SentenceTransformer
from tiny_models import write_tiny_sentence_transformer

from llmkb.data import load_dataset
from llmkb.kb import build_kb, load_kb
from llmkb.retrieval import DenseRetriever, QueryBuilder
from llmkb.retrieval.train import TrainConfig, train_retriever, training_rows


@pytest.fixture(scope="module")
def tiny_bert_dir(tmp_path_factory, tiny_root):
    return write_tiny_sentence_transformer(tmp_path_factory.mktemp("tiny-bert"), tiny_root)


def test_two_training_steps_write_a_model_and_a_curve(tiny_root, tiny_bert_dir, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = load_dataset("inspired", tiny_root)
        documents = load_kb(build_kb(dataset, tmp_path / "kb")[0])
    model = SentenceTransformer(str(tiny_bert_dir), device="cpu")
    builder = QueryBuilder.for_dataset(dataset)
    base = DenseRetriever(model, tiny_bert_dir, documents, builder, progress=False)

    rows = training_rows(dataset.samples("train"), base, hard_negatives=True, seed=0)
    gold_docs = {doc.text for doc in documents if doc.item_id in {g for s in dataset.samples("train") for g in s.gold}}
    assert len(rows) == 3 and all(row["positive"] in gold_docs for row in rows)
    assert all(row["negative"] != row["positive"] for row in rows)  # false negatives filtered

    summary = train_retriever(dataset, base, tmp_path / "out",
                              TrainConfig(max_steps=2, batch_size=2, eval_steps=1, learning_rate=1e-3))
    assert (tmp_path / "out" / "model" / "modules.json").is_file()
    saved = json.loads((tmp_path / "out" / "training.json").read_text())
    assert saved["training_rows"] == 3 and saved["config"]["max_steps"] == 2
    assert any("eval_valid_cosine_recall@50" in entry for entry in saved["curve"])
    assert summary["best_valid_recall@50"] is not None
    reloaded = DenseRetriever(SentenceTransformer(str(tmp_path / "out" / "model"), device="cpu"), tmp_path / "out" / "model",
                              documents, builder, progress=False)
    assert len(reloaded.rank([dataset.samples("test")[0].context], k=5)[0]) == 5
