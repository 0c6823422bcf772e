"""Model surgery, the simulated module, save/load and retraining on tiny models."""

import copy

import pytest
import torch
import torch.nn.functional as F

import rram
from rram.nn.linear import CrossbarLinear
from rram.retrain import RetrainConfig, lambda_at, retrain


def test_convert_filters_by_name(tiny_llama):
    only_mlp = rram.convert(copy.deepcopy(tiny_llama), rram.RRAMConfig.build(), include=["*.mlp.*"])
    assert len(rram.crossbar_modules(only_mlp)) == 2 * 3
    rram.convert(tiny_llama, rram.RRAMConfig.build(), exclude=["lm_head"])
    names = [n for n, _ in rram.crossbar_modules(tiny_llama)]
    assert len(names) == 2 * 7 and "lm_head" not in names
    assert type(tiny_llama.lm_head) is torch.nn.Linear
    with pytest.raises(ValueError, match="no nn.Linear matched"):
        rram.convert(only_mlp, rram.RRAMConfig.build(), include=["nothing*"])


def test_module_matches_linear_with_reconstructed_weights():
    lin = torch.nn.Linear(200, 48)
    layer = CrossbarLinear.from_linear(lin, rram.RRAMConfig.build(key_bits=3))
    x = torch.randn(5, 200)
    w = rram.reconstruct(lin.weight.detach(), layer.config.method.reconstruct).key_weight()
    assert torch.allclose(layer(x), F.linear(x, w, lin.bias), atol=1e-5)
    assert not torch.allclose(layer(x), lin(x), atol=1e-3)  # 3 key bits really lose information


def test_dense_method_is_8bit_quantization():
    lin = torch.nn.Linear(64, 16)
    layer = CrossbarLinear.from_linear(lin, rram.RRAMConfig.build(method="dense"))
    step = float(lin.weight.detach().abs().max()) / 127
    assert torch.allclose(layer.target_weight(), lin.weight.detach(), atol=step / 2 + 1e-7)
    assert layer.layer_map("x").bits == 8


def test_bert_output_close_at_high_key_bits(tiny_bert):
    ids = torch.randint(0, 64, (2, 12))
    ref = tiny_bert(ids).last_hidden_state
    conv = rram.convert(copy.deepcopy(tiny_bert), rram.RRAMConfig.build(key_bits=6))
    rough = rram.convert(copy.deepcopy(tiny_bert), rram.RRAMConfig.build(key_bits=2))
    err6 = (conv(ids).last_hidden_state - ref).norm()
    err2 = (rough(ids).last_hidden_state - ref).norm()
    assert err6 < err2 and err6 / ref.norm() < 0.05


def test_save_load_roundtrip(tiny_llama, tmp_path):
    base = copy.deepcopy(tiny_llama)
    cfg = rram.RRAMConfig.build(method="row", sparsity=0.3, noise_std=0.02, input_quant=True)
    conv = rram.convert(tiny_llama, cfg, exclude=["lm_head"])
    rram.save_converted(conv, tmp_path)
    loaded = rram.load_converted(base, tmp_path).eval()
    ids = torch.randint(0, 64, (1, 10))
    assert torch.equal(conv(ids).logits, loaded(ids).logits)
    assert [n for n, _ in rram.crossbar_modules(loaded)] == [n for n, _ in rram.crossbar_modules(conv)]
    with pytest.raises(FileNotFoundError, match="save_converted"):
        rram.load_converted(base, tmp_path / "missing")


def test_noise_is_seeded_and_changes_output():
    lin = torch.nn.Linear(128, 32).eval()  # noise is programmed into the eval-mode weights
    a = CrossbarLinear.from_linear(lin, rram.RRAMConfig.build(noise_std=0.05, seed=1))
    b = CrossbarLinear.from_linear(lin, rram.RRAMConfig.build(noise_std=0.05, seed=1))
    c = CrossbarLinear.from_linear(lin, rram.RRAMConfig.build())
    x = torch.randn(3, 128)
    assert torch.equal(a(x), b(x)) and not torch.equal(a(x), c(x))


def test_adc_quant_close_but_not_identical():
    lin = torch.nn.Linear(300, 32)
    exact = CrossbarLinear.from_linear(lin, rram.RRAMConfig.build())
    adc = CrossbarLinear.from_linear(lin, rram.RRAMConfig.build(adc_quant=True))
    x = torch.randn(4, 300)
    rel = (adc(x) - exact(x)).norm() / exact(x).norm()
    assert 0 < rel < 0.05


def test_cost_of_converted_model_and_methods(tiny_llama):
    costs = {}
    for method in ("dense", "reconstruct", "quantize", "block"):
        m = rram.convert(copy.deepcopy(tiny_llama), rram.RRAMConfig.build(method=method, key_bits=4, sparsity=0.5), exclude=["lm_head"])
        costs[method] = rram.model_cost(m)
    assert costs["reconstruct"].crossbars < costs["dense"].crossbars
    assert costs["quantize"].crossbars == costs["reconstruct"].crossbars or costs["reconstruct"].crossbars < costs["quantize"].crossbars
    assert costs["block"].crossbars < costs["dense"].crossbars
    assert costs["reconstruct"].tops_per_w > costs["dense"].tops_per_w


def test_lambda_schedule_reaches_zero():
    for sched in ("linear", "cosine"):
        vals = [lambda_at(t, 10, sched) for t in range(10)]
        assert vals[0] == 1.0 and vals[-1] == 0.0
        assert all(a >= b for a, b in zip(vals, vals[1:]))


def test_gradients_reach_latent_weights():
    layer = CrossbarLinear.from_linear(torch.nn.Linear(64, 8), rram.RRAMConfig.build(key_bits=3)).train()
    layer.set_lambda(0.5)
    layer(torch.randn(4, 64)).pow(2).sum().backward()
    assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0


def test_retrain_reduces_loss_and_ends_key_only():
    torch.manual_seed(0)
    teacher = torch.nn.Linear(128, 4)
    model = torch.nn.Sequential(torch.nn.Linear(128, 4))
    rram.convert(model, rram.RRAMConfig.build(key_bits=3))
    x = torch.randn(256, 128)
    y = teacher(x).argmax(1)
    loss = lambda m, b: F.cross_entropy(m(b[0]), b[1])  # noqa: E731
    losses = retrain(model, loss, [(x, y)], RetrainConfig(steps=60, lr=3e-2, refresh_every=10))
    assert losses[-1] < losses[0]
    layer = model[0]
    assert float(layer.lam) == 0.0 and not layer.training
    assert torch.allclose(layer(x), F.linear(x, layer.target_weight(0.0), layer.bias))


def test_sweep_configs_labels_and_methods():
    from rram.experiment import sweep_configs

    cfgs = sweep_configs(key_bits=[2, 4], sparsities=[0.1], prune_fractions=[0.0, 0.25])
    assert set(cfgs) == {"dense", "reconstruct-2b", "reconstruct-4b", "reconstruct-2b-p0.25", "reconstruct-4b-p0.25",
                         "quantize-2b", "quantize-4b", "magnitude-0.1", "row-0.1", "column-0.1", "block-0.1"}
    assert cfgs["reconstruct-2b-p0.25"].method.reconstruct.prune_fraction == 0.25
    assert cfgs["row-0.1"].method.sparsity == 0.1
    assert set(sweep_configs(methods=["quantize"])) == {"dense", "quantize-4b"}


def test_run_methods_keeps_extra_metrics():
    import torch

    import rram
    from rram.experiment import run_methods

    base = torch.nn.Sequential(torch.nn.Linear(128, 8))
    rep = run_methods(base, lambda m: {"accuracy": 1.0, "other": 2.0},
                      {"dense": rram.RRAMConfig.build("dense")}, model_name="toy", metric="m", float_accuracy=True)
    assert rep.results[0].extra["metrics"] == {"other": 2.0} and rep.meta["float_metrics"] == {"other": 2.0}


def test_mixed_precision_allocation_convert_and_round_trip(tmp_path):
    import torch

    import rram
    from rram.mixed import MixedConfig, allocate_bits, layer_sensitivity
    from rram.experiment import run_methods

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(256, 256), torch.nn.Linear(256, 256))
    with torch.no_grad():
        model[1].weight.mul_(10)  # the larger layer has the larger error: it gets the extra bits
    cfg = rram.RRAMConfig.build(key_bits=4)
    sens = layer_sensitivity(model, cfg, (4, 6))
    assert sens["0"][4][1] == 16 and sens["0"][6][1] == 24 and sens["0"][6][0] < sens["0"][4][0]
    assert allocate_bits(sens, 32) == {"0": 4, "1": 4}
    assert allocate_bits(sens, 40) == {"0": 4, "1": 6}
    assert allocate_bits(sens, 10**6) == {"0": 6, "1": 6}
    mixed = MixedConfig(cfg, {"0": 4, "1": 6})
    rep = run_methods(model, lambda m: 1.0, {"dense": rram.RRAMConfig.build("dense"), "reconstruct-mixed": mixed},
                      model_name="toy", metric="m")
    assert rep.get("reconstruct-mixed").cost["crossbars"] == 40
    assert rep.get("reconstruct-mixed").config["mixed_bits"] == {"0": 4, "1": 6}
    conv = mixed.apply(copy_of(model))
    rram.save_converted(conv, tmp_path)
    loaded = rram.load_converted(copy_of(model), tmp_path)
    assert [m.config.method.reconstruct.key_bits for m in (loaded[0], loaded[1])] == [4, 6]
    x = torch.randn(3, 256)
    assert torch.equal(loaded.eval()(x), conv.eval()(x))


def copy_of(model):
    import copy

    return copy.deepcopy(model)
