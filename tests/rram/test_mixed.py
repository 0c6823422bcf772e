"""Mixed precision: sensitivity, greedy allocation under a budget, per-layer configs that ``convert`` takes."""

import torch

import rram
from rram.mixed import allocate_bits, budget_configs, dense_crossbars, layer_configs, layer_sensitivity


def two_layers():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(256, 256), torch.nn.Linear(256, 256))
    with torch.no_grad():
        model[1].weight.mul_(10)  # the larger layer has the larger error: it gets the extra bits
    return model


def test_allocation_and_per_layer_configs():
    model, cfg = two_layers(), rram.RRAMConfig()
    sens = layer_sensitivity(model, cfg, (4, 6))
    assert sens["0"][4][1] == 16 and sens["0"][6][1] == 24 and sens["0"][6][0] < sens["0"][4][0]
    assert allocate_bits(sens, 32) == {"0": 4, "1": 4}
    assert allocate_bits(sens, 40) == {"0": 4, "1": 6}
    assert allocate_bits(sens, 10**6) == {"0": 6, "1": 6}
    configs = layer_configs(cfg, {"0": 4, "1": 6})
    assert configs == {"0": cfg, "1": rram.RRAMConfig.build(key_bits=6)}
    assert rram.model_cost(rram.convert(model, configs)).crossbars == 40


def test_budget_as_fraction_of_dense_crossbars():
    model, cfg = two_layers(), rram.RRAMConfig()
    assert dense_crossbars(model, cfg) == 64 and dense_crossbars(model, cfg, exclude=["1"]) == 32
    runs = budget_configs(model, cfg, [6, 4], budgets=[0.5, 0.625])
    assert list(runs) == ["reconstruct-mixed4-6b-0.5", "reconstruct-mixed4-6b-0.625"]
    assert [c.method.reconstruct.key_bits for c in runs["reconstruct-mixed4-6b-0.625"].values()] == [4, 6]
    assert [c.method.reconstruct.key_bits for c in runs["reconstruct-mixed4-6b-0.5"].values()] == [4, 4]
