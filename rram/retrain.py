"""Progressive retraining: effective weights Δ·(α·N + λ(t)·D) with λ decaying 1 → 0 (RRAM.md §1.6).

Gradients reach the latent float weights through the straight-through estimator in
``CrossbarLinear``; α, Δ and the keep masks are re-derived every ``refresh_every`` steps and at the
end, when λ = 0 and the model uses key information only. A compensated method (GPTQ) keeps the scales
its latent weight was compensated for; only its codes follow the latent weight. The task loss is the caller's.

Example::

    >>> import torch, rram
    >>> from rram.retrain import RetrainConfig, Retraining, retrain
    >>> model = rram.convert(torch.nn.Sequential(torch.nn.Linear(128, 4)), rram.RRAMConfig())
    >>> x, y = torch.randn(32, 128), torch.randint(0, 4, (32,))
    >>> loss = lambda m, b: torch.nn.functional.cross_entropy(m(b[0]), b[1])
    >>> losses = retrain(model, loss, [(x, y)], RetrainConfig(steps=5, lr=1e-3))
    >>> len(losses), float(model[0].lam)
    (5, 0.0)
    >>> RetrainConfig.for_steps(8).refresh_every   # the scripts' policy: re-derive 4 times
    2
    >>> len(Retraining(loss, [(x, y)], RetrainConfig.for_steps(3, lr=1e-3)).run(model))
    3
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from rram.nn.convert import crossbar_modules

SCHEDULES = ("linear", "cosine")


@dataclass(frozen=True)
class RetrainConfig:
    """steps: optimizer steps (the budget). schedule: λ decay shape. refresh_every: steps between
    re-derivations of α/Δ/masks. lr, weight_decay: AdamW. max_grad_norm: clipping (0 = off)."""

    steps: int = 100
    lr: float = 1e-5
    schedule: str = "linear"
    refresh_every: int = 25
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ValueError(f"steps={self.steps}: must be >= 1")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule={self.schedule!r}: use one of {SCHEDULES}")
        if self.refresh_every < 1:
            raise ValueError(f"refresh_every={self.refresh_every}: must be >= 1")

    @classmethod
    def for_steps(cls, steps: int, lr: float = 1e-5, schedule: str = "linear") -> RetrainConfig:
        """A budget of ``steps`` with α/Δ/masks re-derived four times along the way (every steps // 4)."""
        return cls(steps=steps, lr=lr, schedule=schedule, refresh_every=max(1, steps // 4))


def lambda_at(step: int, total: int, schedule: str = "linear") -> float:
    """λ at 0-based ``step`` of ``total``: 1 at the first step, exactly 0 at the last."""
    p = min(1.0, step / max(1, total - 1))
    if schedule == "linear":
        return 1.0 - p
    if schedule == "cosine":
        return 0.0 if p >= 1.0 else 0.5 * (1.0 + math.cos(math.pi * p))
    raise ValueError(f"schedule={schedule!r}: use one of {SCHEDULES}")


def set_lambda(model: nn.Module, lam: float) -> None:
    for _, m in crossbar_modules(model):
        m.set_lambda(lam)


def refresh(model: nn.Module) -> None:
    """Re-derive Δ, α and masks of every crossbar layer from its latent weight (compensated layers keep theirs)."""
    for _, m in crossbar_modules(model):
        m.refresh()


def _cycle(batches: Iterable) -> Iterator:
    while True:
        empty = True
        for b in batches:
            empty = False
            yield b
        if empty:
            raise ValueError("retrain got no batches: pass a non-empty list or DataLoader")


def retrain(
    model: nn.Module,
    loss_fn: Callable[[nn.Module, object], Tensor],
    batches: Iterable,
    config: RetrainConfig | None = None,
    progress: bool = False,
) -> list[float]:
    """Run ``config.steps`` steps of ``loss_fn(model, batch)`` (batches cycled); returns the losses.

    Leaves the model in eval mode with λ = 0 and freshly derived α (key information only).
    """
    config = config or RetrainConfig()
    if not crossbar_modules(model):
        raise ValueError("model has no CrossbarLinear modules: call rram.convert before retrain")
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    model.train()
    losses: list[float] = []
    it = _cycle(batches)
    bar = tqdm(range(config.steps), desc="rram.retrain", disable=not progress)
    for step in bar:
        set_lambda(model, lambda_at(step, config.steps, config.schedule))
        loss = loss_fn(model, next(it))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if config.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
        opt.step()
        losses.append(float(loss.detach()))
        bar.set_postfix(loss=f"{losses[-1]:.4f}")
        if (step + 1) % config.refresh_every == 0:
            refresh(model)
    set_lambda(model, 0.0)
    refresh(model)
    model.eval()
    return losses


@dataclass
class Retraining:
    """A retraining budget for ``rram.experiment``: the task loss, its batches (cycled) and the schedule."""

    loss_fn: Callable[[nn.Module, object], Tensor]
    batches: Iterable
    config: RetrainConfig = field(default_factory=RetrainConfig)

    def run(self, model: nn.Module, progress: bool = False) -> list[float]:
        return retrain(model, self.loss_fn, self.batches, self.config, progress)
