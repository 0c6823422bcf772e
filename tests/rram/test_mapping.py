"""Crossbar mapping: closed-form crossbar counts (RRAM.md §3), ADC resolution, pruned rows, empty blocks, encodings."""

import pytest
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


def test_zero_slices_are_not_programmed():
    """6-bit codes on 2-bit cells: 3 slices, each on crossbars of its own; all-zero digit blocks are skipped."""
    skip = CrossbarConfig(skip_zero_slices=True)
    codes = torch.ones(128, 128)  # [out, in]: only the lowest slice holds digits
    assert map_layer("x", 128, 128, 6, CrossbarConfig(), codes != 0, codes).crossbars == 6  # 768 columns, interleaved
    assert map_layer("x", 128, 128, 6, skip, codes != 0, codes).crossbars == 2  # slice 0: 256 columns
    codes[0, 0] = 16  # digits (0, 0, 1): output 0's highest slice, in slice 2's first crossbar
    codes[64, 5] = 5  # digits (1, 1, 0): output 64's middle slice, in slice 1's second crossbar
    m = map_layer("x", 128, 128, 6, skip, codes != 0, codes)
    assert (m.crossbars, m.slices, m.bits) == (4, 3, 6)
    assert m.programmed_cells == (128 * 128 - 1) * 2 + 2 + 2  # one non-zero digit per cell pair
    assert m.active_rows == 128 * 2 + 1 + 1
    assert m.adc_conversions == (128 + 128 + 2 + 2) * 8  # active columns × 8 input cycles
    assert m.conversions_by_bits == {2: 4 * 8, 9: 256 * 8}  # one active row needs a 2-bit ADC


def test_zero_slices_change_nothing_when_every_digit_is_used():
    codes = torch.full((576, 1536), 21)  # 21 = digits (1, 1, 1)
    dense = map_layer("x", 1536, 576, 6, CrossbarConfig(), codes != 0)
    sliced = map_layer("x", 1536, 576, 6, CrossbarConfig(skip_zero_slices=True), codes != 0, codes)
    assert (sliced.crossbars, sliced.programmed_cells, sliced.adc_conversions) == (
        dense.crossbars, dense.programmed_cells, dense.adc_conversions)


def test_zero_slices_need_differential_pairs():
    with pytest.raises(ValueError, match="differential"):
        CrossbarConfig(encoding="offset", skip_zero_slices=True)


def test_differential_pairs_carry_the_sign():
    """A b-bit signed code has b − 1 magnitude bits on a differential pair: odd key bits fill their last cell."""
    diff, offset = CrossbarConfig(), CrossbarConfig(encoding="offset")
    assert [diff.slices(b) for b in (2, 3, 4, 5, 6, 7, 8)] == [1, 1, 2, 2, 3, 3, 4]
    assert [offset.slices(b) for b in (3, 5, 8)] == [2, 3, 4]
    assert count_crossbars(minilm_shapes(), 5, diff) == count_crossbars(minilm_shapes(), 4, diff) == 5184 // 2
    assert count_crossbars(minilm_shapes(), 3, diff) == 5184 // 4
