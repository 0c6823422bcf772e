"""GPTQ-style error compensation (``rram.gptq``) on crafted matrices, alone and inside ``CrossbarLinear``."""

import pytest
import torch

import rram
from rram.gptq import compensate, hessian_of
from rram.nn.linear import CrossbarLinear
from rram.retrain import refresh


def round_to_integers(cols, _start):
    return torch.round(cols)


def test_uncorrelated_inputs_leave_nothing_to_compensate():
    w = torch.tensor([[0.4, 1.3, -0.7], [2.2, -0.2, 0.45]])
    assert torch.equal(compensate(w, torch.eye(3), round_to_integers, damp=0.0), w)


def test_error_moves_to_the_correlated_column():
    """Column 0 loses 0.4 to rounding; inputs correlated by ρ = 0.5, so column 1 takes +0.4·ρ = +0.2 (OBS)."""
    h = torch.tensor([[1.0, 0.5], [0.5, 1.0]])
    latent = compensate(torch.tensor([[0.4, 0.0]]), h, round_to_integers, damp=0.0)
    assert torch.allclose(latent, torch.tensor([[0.4, 0.2]]), atol=1e-6)
    h3 = torch.tensor([[1.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 1.0]])  # column 2 is independent
    latent = compensate(torch.tensor([[0.4, 0.0, 0.3]]), h3, round_to_integers, damp=0.0, block=1)
    assert torch.allclose(latent, torch.tensor([[0.4, 0.2, 0.3]]), atol=1e-6)  # lazy blocks change nothing


def test_hessian_shape_is_checked():
    with pytest.raises(ValueError, match="3 inputs"):
        compensate(torch.zeros(2, 3), torch.eye(4), round_to_integers)


def correlated_inputs(n=2048, d=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g) @ (torch.eye(d) + 0.3 * torch.randn(d, d, generator=g))


@pytest.mark.parametrize("method", ["group", "reconstruct"])
def test_compensation_lowers_the_output_error(method):
    torch.manual_seed(0)
    x, linear = correlated_inputs(), torch.nn.Linear(256, 64, bias=False)
    h = hessian_of(x)

    def output_error(compensated: bool) -> float:
        cfg = rram.RRAMConfig.build(method=method, key_bits=3, compensate=compensated)
        layer = CrossbarLinear.from_linear(linear, cfg, hessian=h).eval()
        with torch.no_grad():
            return float(((layer(x) - linear(x)) ** 2).mean())

    assert output_error(True) < 0.8 * output_error(False)


def test_compensated_codes_stay_in_range_and_the_method_is_named():
    cfg = rram.RRAMConfig.build(method="group", key_bits=4, compensate=True)
    layer = CrossbarLinear.from_linear(torch.nn.Linear(256, 32), cfg, hessian=hessian_of(correlated_inputs()))
    _, n = layer.codes()
    assert n.abs().max() <= 7 and cfg.method.family == "gptq"


def test_compensation_without_a_hessian_says_what_to_pass():
    cfg = rram.RRAMConfig.build(method="reconstruct", compensate=True)
    with pytest.raises(ValueError, match="hessian=True"):
        CrossbarLinear.from_linear(torch.nn.Linear(128, 8), cfg)


def test_calibrate_hessian_diagonal_is_the_importance():
    model = torch.nn.Sequential(torch.nn.Linear(16, 8), torch.nn.ReLU(), torch.nn.Linear(8, 4))
    x = torch.randn(64, 16)
    imp = rram.calibrate(model, lambda m: m(x))
    hess = rram.calibrate(model, lambda m: m(x), hessian=True)
    assert hess["0"].shape == (16, 16) and torch.allclose(hess["2"].diagonal(), imp["2"], rtol=1e-5)
    assert torch.allclose(hess["0"], hessian_of(x), atol=1e-5)


@pytest.mark.parametrize("method", ["group", "reconstruct"])
def test_refresh_keeps_a_compensated_layers_codes(method):
    """The compensated latent weight means something only under the scales it was compensated for: retraining's
    refresh must not re-derive them (it did, and GPTQ-5b lost about 4x in layer output error)."""
    torch.manual_seed(0)
    cfg = rram.RRAMConfig.build(method=method, key_bits=5, compensate=True)
    layer = CrossbarLinear.from_linear(torch.nn.Linear(256, 64), cfg, hessian=hessian_of(correlated_inputs()))
    before, alpha = layer.codes()[1].clone(), layer.alpha.clone()
    refresh(torch.nn.Sequential(layer))
    assert torch.equal(layer.alpha, alpha) and torch.equal(layer.codes()[1], before)


def test_clip_search_lowers_the_weighted_error_and_names_gptq_mse():
    """Heavy-tailed rows: clipping the outliers' range gives the many small weights finer steps."""
    g = torch.Generator().manual_seed(0)
    w = torch.randn(32, 256, generator=g) * torch.where(torch.rand(32, 256, generator=g) < 0.02, 8.0, 1.0)
    imp = torch.rand(256, generator=g) + 0.5

    def weighted_error(clip: bool) -> float:
        method = rram.RRAMConfig.build(method="group", key_bits=3, clip_search=clip).method
        st = rram.methods.derive(w, method, imp)
        return float(((w - rram.methods.key_weight(w, st, method)) ** 2 * imp).sum())

    assert weighted_error(True) < 0.8 * weighted_error(False)
    assert rram.RRAMConfig.build(method="group", compensate=True, clip_search=True).method.family == "gptq-mse"
    with pytest.raises(ValueError, match="clip_search applies to method 'group'"):
        rram.RRAMConfig.build(method="reconstruct", clip_search=True)


@pytest.mark.parametrize("method,prune", [("group", 0.0), ("reconstruct", 0.0), ("reconstruct", 0.25)])
def test_the_column_quantizer_gives_key_weights_columns(method, prune):
    """GPTQ's loop quantizes one column at a time with scales expanded once; it must be exactly ``key_weight``."""
    g = torch.Generator().manual_seed(1)
    w = torch.randn(16, 300, generator=g)  # 300 inputs: the last crossbar group is partial
    method = rram.RRAMConfig.build(method=method, key_bits=3, prune_fraction=prune).method
    state = rram.methods.derive(w, method, torch.rand(300, generator=g))
    quantize = rram.methods.column_quantizer(state, method, 300)
    columns = torch.cat([quantize(w[:, j : j + 1], j) for j in range(300)], dim=1)
    assert torch.equal(columns, rram.methods.key_weight(w, state, method))
    assert prune == 0 or (columns == 0).any()
