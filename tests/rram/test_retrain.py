"""Progressive retraining: λ schedules, loss goes down, the model ends on key information only."""

import torch
import torch.nn.functional as F

import rram
from rram.retrain import RetrainConfig, Retraining, lambda_at


def test_lambda_schedule_reaches_zero():
    for sched in ("linear", "cosine"):
        vals = [lambda_at(t, 10, sched) for t in range(10)]
        assert vals[0] == 1.0 and vals[-1] == 0.0
        assert all(a >= b for a, b in zip(vals, vals[1:]))


def test_retrain_reduces_loss_and_ends_key_only():
    torch.manual_seed(0)
    teacher = torch.nn.Linear(128, 4)
    model = torch.nn.Sequential(torch.nn.Linear(128, 4))
    rram.convert(model, rram.RRAMConfig.build(key_bits=3))
    x = torch.randn(256, 128)
    y = teacher(x).argmax(1)
    loss = lambda m, b: F.cross_entropy(m(b[0]), b[1])  # noqa: E731
    losses = Retraining(loss, [(x, y)], RetrainConfig(steps=60, lr=3e-2, refresh_every=10)).run(model)
    assert losses[-1] < losses[0]
    layer = model[0]
    assert float(layer.lam) == 0.0 and not layer.training
    assert torch.allclose(layer(x), F.linear(x, layer.target_weight(0.0), layer.bias))


def test_policy_for_steps():
    assert RetrainConfig.for_steps(16, lr=1e-4, schedule="cosine") == RetrainConfig(16, 1e-4, "cosine", refresh_every=4)
    assert RetrainConfig.for_steps(3).refresh_every == 1
