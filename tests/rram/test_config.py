"""``RRAMConfig``: one default, consistent pruning blocks, JSON round trip, configs written by older code."""

import pytest

import rram
from rram.nn.config import RRAMConfig


def test_one_default():
    assert RRAMConfig() == RRAMConfig.build()
    assert RRAMConfig().method.block_outputs == 32  # 4-bit keys: 2 slices x 2 columns per output, 128 columns
    assert RRAMConfig.build(method="dense").method.block_outputs == 16
    assert RRAMConfig.build(crossbar=rram.CrossbarConfig(rows=256, cols=256)).method.block_outputs == 64


def test_with_key_bits_rederives_blocks():
    six = RRAMConfig().with_key_bits(6)
    assert six.method.reconstruct.key_bits == 6 and six.method.block_outputs == 21
    assert six == RRAMConfig.build(key_bits=6)


def test_json_round_trip_and_old_dicts():
    for cfg in (RRAMConfig(), RRAMConfig.build("row", sparsity=0.3, noise_std=0.01, prune_fraction=0.1)):
        assert RRAMConfig.from_dict(cfg.to_dict()) == cfg
    old = {  # as written by rram before block_outputs was derived (report.json "config", rram_config.json)
        "method": {"name": "dense", "reconstruct": {"weight_bits": 8, "key_bits": 4, "group_size": 128,
                                                    "scales": "integer", "prune_fraction": 0.0},
                   "sparsity": 0.5, "block_outputs": 16},
        "crossbar": {"rows": 128, "cols": 128, "bits_per_cell": 2, "encoding": "differential", "dac_bits": 1,
                     "input_bits": 8, "signed_inputs": False, "adc_bits": None, "adc_cap": 10, "cols_per_adc": 128},
        "technology": "isaac32", "input_quant": False, "adc_quant": False, "noise_std": 0.0, "seed": 0,
    }
    assert RRAMConfig.from_dict(old) == RRAMConfig.build(method="dense")


def test_group_size_must_match_rows():
    with pytest.raises(ValueError, match="group_size"):
        RRAMConfig(crossbar=rram.CrossbarConfig(rows=256))
