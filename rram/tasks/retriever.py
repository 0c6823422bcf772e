"""Sentence-transformer retrievers: batches of (query, document) text pairs and their in-batch contrastive loss.

The loss is sentence-transformers' own ``MultipleNegativesRankingLoss`` (InfoNCE, van den Oord et al. 2018):
cosine similarity of every query with every document of the batch × ``scale``, and cross-entropy towards each
query's own document. The evaluation is the caller's (e.g. the recall of a ranking task).

Example (a two-word static-embedding model built in memory)::

    >>> import torch
    >>> from tokenizers import Tokenizer, models, pre_tokenizers
    >>> from sentence_transformers import SentenceTransformer
    >>> from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    >>> from rram.tasks.retriever import contrastive_loss, pair_batches
    >>> words = Tokenizer(models.WordLevel({"[UNK]": 0, "cats": 1, "dogs": 2}, unk_token="[UNK]"))
    >>> words.pre_tokenizer = pre_tokenizers.Whitespace()
    >>> model = SentenceTransformer(modules=[StaticEmbedding(words, embedding_dim=8)], device="cpu")
    >>> pairs = [("cats", "cats"), ("dogs", "dogs"), ("cats", "dogs")]
    >>> pair_batches(pairs, 2)                      # the last, incomplete batch is dropped
    [[('cats', 'cats'), ('dogs', 'dogs')]]
    >>> contrastive_loss(model, pairs[:2]).shape
    torch.Size([])
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

SCALE = 20.0  # sentence-transformers' default: temperature 0.05


def pair_batches(pairs: list[tuple[str, str]], size: int) -> list[list[tuple[str, str]]]:
    """Consecutive batches of ``size`` pairs; an incomplete last batch is dropped (it would have fewer negatives)."""
    return [pairs[i : i + size] for i in range(0, len(pairs) - size + 1, size)]


def contrastive_loss(model: nn.Module, batch: list[tuple[str, str]], scale: float = SCALE) -> Tensor:
    """In-batch multiple-negatives ranking loss of a ``SentenceTransformer`` on (query, document) pairs."""
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    queries, documents = zip(*batch)
    features = [model.preprocess(list(queries)), model.preprocess(list(documents))]
    return MultipleNegativesRankingLoss(model, scale=scale)(features, torch.arange(len(batch)))
