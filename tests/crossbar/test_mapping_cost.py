"""Closed-form crossbar counts and the published cost checks (RRAM.md §3-4)."""

import dataclasses

import pytest

from rram.cost import isaac32, layer_cost, model_cost, neurram130, technology, TECHNOLOGIES
from rram.mapping import CrossbarConfig, count_crossbars, map_layer

import torch


def minilm_shapes():
    h, i = 384, 1536
    return [(h, h)] * 4 * 6 + [(h, i)] * 6 + [(i, h)] * 6  # q,k,v,o + ffn in/out, 6 layers


def smollm2_shapes():
    h, i, kv = 576, 1536, 3 * 64
    per_layer = [(h, h), (h, kv), (h, kv), (h, h), (h, i), (h, i), (i, h)]
    return per_layer * 30


def test_minilm_closed_form():
    assert len(minilm_shapes()) == 36
    assert count_crossbars(minilm_shapes(), 8, CrossbarConfig()) == 5184


def test_smollm2_closed_form_with_and_without_head():
    shapes = smollm2_shapes()
    assert len(shapes) == 210
    assert count_crossbars(shapes, 8, CrossbarConfig()) == 56160
    assert count_crossbars(shapes + [(576, 49152)], 8, CrossbarConfig()) == 71520


def test_fewer_key_bits_fewer_crossbars():
    assert count_crossbars(minilm_shapes(), 4, CrossbarConfig()) == 5184 // 2


def test_adc_resolution_isaac_style():
    c = CrossbarConfig()
    assert c.adc_resolution(128) == 9  # 7 + 1-bit DAC + 2 bits/cell - 1
    assert c.adc_resolution(64) == 8
    assert map_layer("x", 128, 16, 8, c).adc_bits_max == 9


def test_pruned_rows_and_empty_blocks():
    c = CrossbarConfig()
    active = torch.ones(32, 256, dtype=torch.bool)
    active[:, 128:] = False  # second row tile empty
    active[:, :64] = False  # half the rows of the first
    m = map_layer("x", 256, 32, 8, c, active)
    dense = map_layer("x", 256, 32, 8, c)
    assert dense.crossbars == 4 and m.crossbars == 2
    assert m.active_rows == 2 * 64 and m.adc_bits_max == 8
    assert m.adc_conversions == dense.adc_conversions // 2


def test_unstructured_zero_keeps_crossbar():
    active = torch.ones(16, 128, dtype=torch.bool)
    active[0, 0] = False
    assert map_layer("x", 128, 16, 8, CrossbarConfig(), active).crossbars == 1


def test_offset_encoding_reference_column():
    c = CrossbarConfig(encoding="offset")
    m = map_layer("x", 128, 127, 2, c)  # 127 weight columns + 1 reference fill one crossbar
    assert m.crossbars == 1 and m.active_cols == 128


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
