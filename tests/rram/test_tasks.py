"""Task adapters on tiny models: the retriever's loss is sentence-transformers' MNRL (= the hand-written one it
replaced), the causal LM's windows, perplexity and loss."""

import copy

import pytest
import torch
import torch.nn.functional as F

import rram
from rram.tasks.causal_lm import lm_loss, perplexity, token_windows
from rram.tasks.retriever import contrastive_loss, pair_batches
from tiny_models import tiny_llama, tiny_tokenizer, write_tiny_sentence_transformer

PAIRS = [("toy story animation", "up animation pixar"), ("alien horror", "aliens action"),
         ("heat crime", "fargo crime"), ("jaws thriller", "psycho horror")]


@pytest.fixture(scope="module")
def encoder(tiny_root, tmp_path_factory):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(write_tiny_sentence_transformer(tmp_path_factory.mktemp("st"), tiny_root)), device="cpu")


def hand_written_loss(model, batch, scale=20.0):
    """The loss before ``rram.tasks``: cosine similarity × scale, cross-entropy over the in-batch documents."""
    q = F.normalize(model(model.preprocess([a for a, _ in batch]))["sentence_embedding"], dim=-1)
    r = F.normalize(model(model.preprocess([b for _, b in batch]))["sentence_embedding"], dim=-1)
    return F.cross_entropy(scale * q @ r.T, torch.arange(len(batch)))


def test_contrastive_loss_is_the_hand_written_one(encoder):
    with torch.no_grad():
        assert float(contrastive_loss(encoder, PAIRS)) == pytest.approx(float(hand_written_loss(encoder, PAIRS)), rel=1e-6)


def test_contrastive_loss_retrains_a_converted_encoder(encoder):
    model = rram.convert(copy.deepcopy(encoder), rram.RRAMConfig.build(crossbar=rram.CrossbarConfig(rows=16, cols=128)))
    losses = rram.retrain(model, contrastive_loss, pair_batches(PAIRS, 2), rram.RetrainConfig(steps=2, lr=1e-3))
    assert len(losses) == 2 and all(loss > 0 for loss in losses)


def test_pair_batches_drop_the_incomplete_batch():
    assert pair_batches(PAIRS[:3], 2) == [PAIRS[:2]] and pair_batches(PAIRS, 5) == []


def test_causal_lm_windows_perplexity_and_loss():
    tok = tiny_tokenizer()
    model = tiny_llama(len(tok))
    windows = token_windows(tok, ["hello there", "general kenobi"], window=8, limit=2)
    assert [w.shape for w in windows] == [torch.Size([1, 8])] * 2
    with torch.no_grad():
        expected = torch.tensor([float(model(w, labels=w).loss) for w in windows]).mean().exp()
    assert perplexity(windows)(model)["accuracy"] == pytest.approx(float(expected))
    assert lm_loss(model, windows[0]).requires_grad
