"""Fine-tuning end to end on the tiny world with a tiny random BERT: 2 steps through the real Trainer."""

import json
import re
import warnings

import pytest
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
from transformers import BertConfig, BertModel, BertTokenizerFast

from llmkb.data import load_dataset
from llmkb.kb import build_kb, load_kb
from llmkb.retrieval import DenseRetriever, QueryBuilder
from llmkb.retrieval.train import TrainConfig, train_retriever, training_rows


@pytest.fixture(scope="module")
def tiny_bert_dir(tmp_path_factory, tiny_root):
    folder = tmp_path_factory.mktemp("tiny-bert")
    words = sorted({w for p in tiny_root.rglob("*.json*") for w in re.findall(r"[a-z]+", p.read_text().lower())})
    (folder / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]))
    tokenizer = BertTokenizerFast(vocab_file=str(folder / "vocab.txt"))
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=256)
    BertModel(config).save_pretrained(folder / "bert")
    tokenizer.save_pretrained(folder / "bert")
    transformer = Transformer(str(folder / "bert"), max_seq_length=64)
    model = SentenceTransformer(modules=[transformer, Pooling(transformer.get_embedding_dimension())], device="cpu")
    model.save(str(folder / "st"))
    return folder / "st"


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
