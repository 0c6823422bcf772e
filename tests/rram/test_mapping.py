"""Crossbar mapping: closed-form crossbar counts (RRAM.md §3), ADC resolution, pruned rows, empty blocks, encodings."""

import torch

from rram.mapping import CrossbarConfig, count_crossbars, map_layer


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


def test_outputs_per_crossbar():
    assert CrossbarConfig().outputs_per_crossbar(8) == 16  # 4 slices x 2 columns per output: 128 / 8
    assert CrossbarConfig().outputs_per_crossbar(4) == 32
    assert CrossbarConfig(encoding="offset").outputs_per_crossbar(2) == 127  # one reference column
