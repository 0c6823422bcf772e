"""The cost model against published checks (RRAM.md §4): ISAAC IMA breakdown, NeuRRAM efficiency, every constant set."""

import dataclasses

import pytest

from rram.cost import TECHNOLOGIES, isaac32, layer_cost, model_cost, neurram130, technology
from rram.mapping import map_layer


def test_isaac_ima_power_breakdown():
    """One ISAAC IMA (8 crossbars, 8-bit ADCs): ADC 16, DAC 4, xbar 2.4, S+A 0.2 mW; ADCs ≈ 71 %."""
    xbar = dataclasses.replace(isaac32.crossbar, adc_bits=8)
    m = map_layer("ima", 128, 128, 8, xbar)  # 128 outputs x 4 slices x 2 = 1024 columns = 8 crossbars
    assert m.crossbars == 8
    c = layer_cost(m, isaac32, xbar)
    busy_ns = m.input_cycles * isaac32.read_time_ns  # ADC conversions overlap the 100 ns reads
    power_mw = {k: v / busy_ns for k, v in c.energy_pj.items()}  # pJ/ns = mW
    assert power_mw["adc"] == pytest.approx(16, rel=0.1)
    assert power_mw["dac"] == pytest.approx(4, rel=0.1)
    assert power_mw["xbar"] == pytest.approx(2.4, rel=0.01)
    assert power_mw["shift_add"] == pytest.approx(0.2, rel=0.1)
    compute = sum(power_mw[k] for k in ("adc", "dac", "xbar", "shift_add"))
    assert power_mw["adc"] / compute == pytest.approx(0.71, abs=0.01)


@pytest.mark.parametrize(
    "out_bits,in_bits,published", [(3, 1, 43.1), (4, 2, 40.3), (5, 3, 23.1), (6, 4, 15.95), (10, 8, 6.44)]
)
def test_neurram_efficiency_within_2x(out_bits, in_bits, published):
    xbar = dataclasses.replace(neurram130.crossbar, input_bits=in_bits, adc_bits=out_bits)
    m = map_layer("core", 256, 128, 4, xbar)  # one 256x256 array of 4-bit differential weights
    assert m.crossbars == 1
    tops_w = model_cost([m], neurram130, xbar).tops_per_w
    assert published / 2 <= tops_w <= published * 2


def test_every_technology_costs_a_model():
    for name, tech in TECHNOLOGIES.items():
        m = map_layer("x", 512, 512, 8, tech.crossbar)
        cost = model_cost([m], tech)
        assert cost.energy_pj > 0 and cost.tops_per_w > 0, name
        assert technology(name) is tech
    with pytest.raises(ValueError, match="unknown technology"):
        technology("nope")


def test_adc_table_extrapolates_monotonically():
    assert isaac32.adc_energy(3) < isaac32.adc_energy(4)
    assert isaac32.adc_energy(12) > isaac32.adc_energy(10)
    assert isaac32.adc_energy(8) == 1.667


def test_digital_scales_are_charged_and_integer_alpha_is_cheaper_than_float_group_scales():
    """Same slices, same crossbars: only the scales differ. GPTQ's fp16 group scale costs a float multiply per
    partial sum; ours' 8-bit α an integer one plus an fp16 Δ per output; a power-of-two α a shift; dense only Δ."""
    import torch

    import rram

    linear = torch.nn.Sequential(torch.nn.Linear(512, 256))
    cost = {}
    for label, kw in {"gptq": {"method": "group"}, "ours": {"method": "reconstruct"},
                      "pow2": {"method": "reconstruct", "scales": "pow2"}, "quantize": {"method": "quantize"}}.items():
        model = rram.convert(torch.nn.Sequential(torch.nn.Linear(512, 256)), rram.RRAMConfig.build(key_bits=5, **kw))
        model[0].load_state_dict(linear[0].state_dict(), strict=False)
        cost[label] = rram.model_cost(model).summary()
    assert len({c["crossbars"] for c in cost.values()}) == 1
    scale = {k: (c["energy_breakdown_pj"]["scale"], c["area_breakdown_um2"]["scale"]) for k, c in cost.items()}
    assert scale["quantize"][0] < scale["pow2"][0] < scale["ours"][0] < scale["gptq"][0]
    assert scale["ours"][1] < scale["gptq"][1]
    assert 0 < scale["gptq"][0] / cost["gptq"]["energy_pj"] < 0.05  # a few percent, as docs/rram.md says
    bare = rram.map_layer("fc", 512, 256, 5, rram.CrossbarConfig())  # no method: no scales, the closed forms hold
    assert layer_cost(bare, rram.isaac32).energy_pj["scale"] == 0.0
