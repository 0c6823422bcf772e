"""Task data, accuracy measures and training losses for the two packaged models (uses llmkb).

Retriever: Recall@10 of dialogue context → next recommender turn among all held-out responses
(ReDial validation), loss = in-batch contrastive (multiple negatives ranking) on training pairs.
LLM: perplexity on held-out ReDial validation dialogues, loss = language-model loss on training ones.
"""

from __future__ import annotations

import random

import torch
import torch.nn.functional as F


def dialogue_pairs(split: str, limit: int, seed: int = 0) -> list[tuple[str, str]]:
    """(seeker turn, following recommender turn) pairs from ReDial ``split``."""
    from llmkb.data import RECOMMENDER, SEEKER, load_dataset

    pairs = []
    for d in load_dataset("redial").dialogues(split):
        for a, b in zip(d.turns, d.turns[1:]):
            if a.role == SEEKER and b.role == RECOMMENDER and a.text.strip() and b.text.strip():
                pairs.append((a.text, b.text))
    random.Random(seed).shuffle(pairs)
    return pairs[:limit]


def dialogue_texts(split: str, limit: int) -> list[str]:
    from llmkb.data import load_dataset

    dialogues = load_dataset("redial").dialogues(split)[:limit]
    return ["\n".join(f"{t.role}: {t.text}" for t in d.turns) for d in dialogues]


def embed(model, texts: list[str], batch_size: int = 64) -> torch.Tensor:
    out = []
    for i in range(0, len(texts), batch_size):
        feats = model.tokenize(texts[i : i + batch_size])
        out.append(model(feats)["sentence_embedding"])
    return F.normalize(torch.cat(out), dim=-1)


def recall_at_k(pairs: list[tuple[str, str]], k: int = 10):
    def evaluate(model) -> float:
        q = embed(model, [a for a, _ in pairs])
        r = embed(model, [b for _, b in pairs])
        top = (q @ r.T).topk(k, dim=1).indices
        return float((top == torch.arange(len(pairs)).unsqueeze(1)).any(1).float().mean())

    return evaluate


def contrastive_loss(model, batch: list[tuple[str, str]], scale: float = 20.0) -> torch.Tensor:
    q = F.normalize(model(model.tokenize([a for a, _ in batch]))["sentence_embedding"], dim=-1)
    r = F.normalize(model(model.tokenize([b for _, b in batch]))["sentence_embedding"], dim=-1)
    return F.cross_entropy(scale * q @ r.T, torch.arange(len(batch)))


def token_windows(tokenizer, texts: list[str], window: int, limit: int) -> list[torch.Tensor]:
    ids = tokenizer("\n\n".join(texts), return_tensors="pt").input_ids[0]
    return [ids[i : i + window].unsqueeze(0) for i in range(0, len(ids) - window + 1, window)][:limit]


def perplexity(windows: list[torch.Tensor]):
    def evaluate(model) -> float:
        nll = [float(model(w, labels=w).loss) for w in windows]
        return float(torch.tensor(nll).mean().exp())

    return evaluate


def lm_loss(model, batch: torch.Tensor) -> torch.Tensor:
    return model(batch, labels=batch).loss
