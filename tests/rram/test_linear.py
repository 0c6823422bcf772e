"""``CrossbarLinear``: computes with the reconstructed weights; dense is 8-bit; noise, ADC quantization, STE gradients."""

import torch
import torch.nn.functional as F

import rram
from rram.nn.linear import CrossbarLinear


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


def test_noise_is_seeded_and_changes_output():
    lin = torch.nn.Linear(128, 32).eval()  # noise is programmed into the eval-mode weights
    a = CrossbarLinear.from_linear(lin, rram.RRAMConfig(noise_std=0.05, seed=1))
    b = CrossbarLinear.from_linear(lin, rram.RRAMConfig(noise_std=0.05, seed=1))
    c = CrossbarLinear.from_linear(lin, rram.RRAMConfig())
    x = torch.randn(3, 128)
    assert torch.equal(a(x), b(x)) and not torch.equal(a(x), c(x))


def test_adc_quant_close_but_not_identical():
    lin = torch.nn.Linear(300, 32)
    exact = CrossbarLinear.from_linear(lin, rram.RRAMConfig())
    adc = CrossbarLinear.from_linear(lin, rram.RRAMConfig(adc_quant=True))
    x = torch.randn(4, 300)
    rel = (adc(x) - exact(x)).norm() / exact(x).norm()
    assert 0 < rel < 0.05


def test_gradients_reach_latent_weights():
    layer = CrossbarLinear.from_linear(torch.nn.Linear(64, 8), rram.RRAMConfig.build(key_bits=3)).train()
    layer.set_lambda(0.5)
    layer(torch.randn(4, 64)).pow(2).sum().backward()
    assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0
