"""Rank candidate titles by how likely the LLM finds them as the answer to a prompt.

Each candidate is scored by the log-likelihood of its tokens given the prompt: ``sum_logprob`` (total) and
``mean_logprob`` (per token, fair between short and long titles). The prompt runs through the model once; its
KV cache is then expanded over a batch of right-padded candidates, so N candidates cost one forward pass over
their own tokens instead of N passes over prompt + title.

>>> model, tokenizer  # doctest: +ELLIPSIS
(LlamaForCausalLM(...), ...)
>>> scores = score_candidates(model, tokenizer, "Recommend a heist movie: ", ["Heat (1995)", "Alien (1979)"])
>>> [s.n_tokens for s in scores]  # the doctests' tiny tokenizer has one token per byte
[11, 12]
>>> sorted(rank_candidates(scores))  # candidate indices, best first (by mean log-prob)
[0, 1]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import DynamicCache

from llmkb.errors import LLMKBError


@dataclass(frozen=True)
class CandidateScore:
    text: str
    sum_logprob: float
    mean_logprob: float
    n_tokens: int


@torch.no_grad()
def score_candidates(
    model, tokenizer, prompt: str, candidates: Sequence[str], batch_size: int = 64, suffix: str = ""
) -> list[CandidateScore]:
    """Log-likelihood of each ``candidate + suffix`` as the continuation of ``prompt``, in input order.

    ``prompt`` is tokenized without special tokens (render it with the chat template first); pass e.g.
    ``suffix=tokenizer.eos_token`` to also score that the answer ends after the title ("Alien" vs "Aliens").
    """
    if not candidates:
        return []
    prompt_ids = tokenizer(prompt, add_special_tokens=False, return_tensors="pt").input_ids
    if prompt_ids.shape[1] == 0:
        raise LLMKBError("the prompt is empty; score candidates against a rendered prompt (see generation.prompt)")
    token_lists = [tokenizer.encode(c + suffix, add_special_tokens=False) for c in candidates]
    for text, ids in zip(candidates, token_lists):
        if not ids:
            raise LLMKBError(f"candidate {text!r} has no tokens; drop empty titles before scoring")
    device = next(model.parameters()).device
    prefix = model(prompt_ids.to(device), use_cache=True, logits_to_keep=1)
    first_logprobs = torch.log_softmax(prefix.logits[:, -1].float(), dim=-1)  # (1, V): predicts token 0
    scores = []
    for begin in range(0, len(candidates), batch_size):
        batch = token_lists[begin : begin + batch_size]
        sums, counts = _score_batch(model, prefix.past_key_values, first_logprobs, batch, prompt_ids.shape[1], device)
        scores += [
            CandidateScore(candidates[begin + i], float(s), float(s / n), int(n)) for i, (s, n) in enumerate(zip(sums, counts))
        ]
    return scores


def rank_candidates(scores: Sequence[CandidateScore], by: str = "mean") -> list[int]:
    """Indices of ``scores`` best first, by ``"mean"`` or ``"sum"`` log-prob; ties keep input order."""
    if by not in ("mean", "sum"):
        raise LLMKBError(f"rank by 'mean' or 'sum', not {by!r}")
    key = (lambda i: -scores[i].mean_logprob) if by == "mean" else (lambda i: -scores[i].sum_logprob)
    return sorted(range(len(scores)), key=key)


def _score_batch(model, prefix_cache, first_logprobs, token_lists, prompt_len, device):
    """Sum of log-probs and token counts for one batch of candidates, reusing the prompt's cache."""
    size, width = len(token_lists), max(map(len, token_lists))
    ids = torch.full((size, width), 0, dtype=torch.long)
    mask = torch.zeros((size, width), dtype=torch.long)
    for row, tokens in enumerate(token_lists):
        ids[row, : len(tokens)] = torch.tensor(tokens)
        mask[row, : len(tokens)] = 1
    ids, mask = ids.to(device), mask.to(device)
    cache = _expand_cache(prefix_cache, size, model.config)
    attention = torch.cat([torch.ones((size, prompt_len), dtype=torch.long, device=device), mask], dim=1)
    positions = torch.arange(prompt_len, prompt_len + width, device=device).expand(size, width)
    hidden = model.get_decoder()(
        input_ids=ids, attention_mask=attention, position_ids=positions, past_key_values=cache, use_cache=True
    ).last_hidden_state  # (B, W, H); position t predicts token t + 1
    # the vocabulary projection dominates on CPU: run it only where a real next token is predicted
    inner = mask[:, 1:].bool()
    inner_logprobs = torch.log_softmax(model.get_output_embeddings()(hidden[:, :-1][inner]).float(), dim=-1)
    token_logprobs = first_logprobs[0, ids[:, 0]].clone()  # token 0 comes from the prompt's last position
    token_logprobs += torch.zeros((size, width - 1), device=device).masked_scatter(
        inner, inner_logprobs.gather(-1, ids[:, 1:][inner].unsqueeze(-1)).squeeze(-1)
    ).sum(dim=1)
    return token_logprobs.tolist(), mask.sum(dim=1).tolist()


def _expand_cache(prefix_cache, size: int, config) -> DynamicCache:
    """A fresh cache holding the prompt's keys/values as batch-``size`` views (the forward pass appends to it)."""
    layers = [(layer.keys.expand(size, -1, -1, -1), layer.values.expand(size, -1, -1, -1)) for layer in prefix_cache.layers]
    return DynamicCache(layers, config=config)
