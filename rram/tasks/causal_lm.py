"""Causal language models: fixed-length token windows, perplexity as the evaluation, the LM loss for retraining.

Example::

    >>> import torch
    >>> from transformers import LlamaConfig, LlamaForCausalLM
    >>> from rram.tasks.causal_lm import lm_loss, perplexity, token_windows
    >>> class Bytes:                      # any tokenizer: text → input_ids
    ...     def __call__(self, text, return_tensors="pt"):
    ...         return type("T", (), {"input_ids": torch.tensor([list(text.encode())])})()
    >>> windows = token_windows(Bytes(), ["hello", "world"], window=4, limit=10)
    >>> [w.tolist() for w in windows]     # "hello\\n\\nworld": 12 bytes, 3 windows of 4
    [[[104, 101, 108, 108]], [[111, 10, 10, 119]], [[111, 114, 108, 100]]]
    >>> torch.manual_seed(0) and None
    >>> model = LlamaForCausalLM(LlamaConfig(vocab_size=256, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
    ...                                      num_attention_heads=2, num_key_value_heads=1)).eval()
    >>> result = perplexity(windows)(model)
    >>> 100 < result["accuracy"] < 1000, len(result["units"]), lm_loss(model, windows[0]).shape   # about the vocabulary
    (True, 3, torch.Size([]))
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn


def token_windows(tokenizer, texts: list[str], window: int, limit: int) -> list[Tensor]:
    """The texts joined by blank lines, tokenized, cut into at most ``limit`` full windows of shape [1, window]."""
    ids = tokenizer("\n\n".join(texts), return_tensors="pt").input_ids[0]
    return [ids[i : i + window].unsqueeze(0) for i in range(0, len(ids) - window + 1, window)][:limit]


def perplexity(windows: list[Tensor]) -> Callable[[nn.Module], dict]:
    """evaluate(model) → {"accuracy": exp(mean over windows of the LM loss), "units": each window's loss}: lower
    is better; the units are what ``rram.frontier`` resamples (with ``meta["unit_accuracy"] = "exp_mean"``)."""

    @torch.no_grad()
    def evaluate(model: nn.Module) -> dict:
        nll = [float(model(w, labels=w).loss) for w in windows]
        return {"accuracy": float(torch.tensor(nll).mean().exp()), "units": nll}

    return evaluate


def lm_loss(model: nn.Module, batch: Tensor) -> Tensor:
    """Next-token cross-entropy of a Hugging Face causal LM on one batch of token ids."""
    return model(batch, labels=batch).loss
