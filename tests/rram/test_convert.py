"""Model surgery on tiny models: name filters, one config per pattern, the inverse ``to_linear``, save and load, cost."""

import copy

import pytest
import torch

import rram
from rram.nn.linear import CrossbarLinear


def test_convert_filters_by_name(tiny_llama):
    only_mlp = rram.convert(copy.deepcopy(tiny_llama), rram.RRAMConfig(), include=["*.mlp.*"])
    assert len(rram.crossbar_modules(only_mlp)) == 2 * 3
    rram.convert(tiny_llama, rram.RRAMConfig(), exclude=["lm_head"])
    names = [n for n, _ in rram.crossbar_modules(tiny_llama)]
    assert len(names) == 2 * 7 and "lm_head" not in names
    assert type(tiny_llama.lm_head) is torch.nn.Linear
    with pytest.raises(ValueError, match="no nn.Linear matched"):
        rram.convert(only_mlp, rram.RRAMConfig(), include=["nothing*"])


def test_one_config_per_pattern_first_match_wins(tiny_llama):
    six, dense = rram.RRAMConfig.build(key_bits=6), rram.RRAMConfig.build("dense")
    rram.convert(tiny_llama, {"*.mlp.down_proj": six, "*.mlp.*": dense, "*.self_attn.q_proj": rram.RRAMConfig()})
    bits = {n: m.config.method.mapped_bits for n, m in rram.crossbar_modules(tiny_llama)}
    assert bits["model.layers.0.mlp.down_proj"] == 6 and bits["model.layers.1.mlp.up_proj"] == 8
    assert bits["model.layers.0.self_attn.q_proj"] == 4 and len(bits) == 2 * 4
    assert type(tiny_llama.model.layers[0].self_attn.k_proj) is torch.nn.Linear  # no pattern: left alone
    with pytest.raises(ValueError, match=r"patterns=\['\*.typo'\]"):
        rram.assign_configs(tiny_llama, {"*.typo": six, "*": six})


def test_to_linear_is_the_inverse(tiny_llama):
    ids = torch.randint(0, 64, (2, 10))
    converted = rram.convert(tiny_llama, rram.RRAMConfig.build(key_bits=3, noise_std=0.02), exclude=["lm_head"]).eval()
    with torch.no_grad():
        expected = converted(ids).logits
        plain = rram.to_linear(converted)
        assert not rram.crossbar_modules(plain)
        assert type(plain.model.layers[1].mlp.up_proj) is torch.nn.Linear
        assert torch.allclose(plain(ids).logits, expected, atol=1e-5)


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


def test_save_load_roundtrip_per_layer_configs_with_noise(tmp_path):
    torch.manual_seed(0)
    base = torch.nn.Sequential(torch.nn.Linear(256, 256), torch.nn.Linear(256, 256)).eval()
    cfg = rram.RRAMConfig(noise_std=0.05)
    conv = rram.convert(copy.deepcopy(base), {"0": cfg.with_key_bits(6), "1": cfg}).eval()
    assert [m.seed for m in conv] == [0, 1]  # one seed per layer: config seed + position
    rram.save_converted(conv, tmp_path)
    loaded = rram.load_converted(copy.deepcopy(base), tmp_path).eval()
    assert [m.config.method.reconstruct.key_bits for m in loaded] == [6, 4]
    x = torch.randn(3, 256)
    assert torch.equal(loaded(x), conv(x))


def test_cost_of_converted_model_and_methods(tiny_llama):
    costs = {}
    for method in ("dense", "reconstruct", "quantize", "block"):
        cfg = rram.RRAMConfig.build(method=method, key_bits=4, sparsity=0.5)
        costs[method] = rram.model_cost(rram.convert(copy.deepcopy(tiny_llama), cfg, exclude=["lm_head"]))
    assert costs["reconstruct"].crossbars < costs["dense"].crossbars
    assert costs["reconstruct"].crossbars <= costs["quantize"].crossbars
    assert costs["block"].crossbars < costs["dense"].crossbars
    assert costs["reconstruct"].tops_per_w > costs["dense"].tops_per_w


def test_from_linear_keeps_training_mode():
    lin = torch.nn.Linear(128, 8).eval()
    assert not CrossbarLinear.from_linear(lin, rram.RRAMConfig()).training
