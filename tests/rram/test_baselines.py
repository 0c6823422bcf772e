"""The baselines' pruning masks at each granularity (RRAM.md §2)."""

import pytest
import torch

from rram.baselines import block_keep_mask
from rram.methods import MethodConfig, derive


def test_block_masks_granularity():
    w = torch.randn(32, 256)
    rows = block_keep_mask(w, 0.25, (16, 1))
    assert rows.view(2, 16, 256).float().std(dim=1).max() == 0  # whole crossbar rows kept/dropped
    assert (~rows).sum() == int(0.25 * 2 * 256) * 16
    blocks = block_keep_mask(w, 0.5, (16, 128))
    assert (~blocks).sum() == 2 * 16 * 128
    mag = block_keep_mask(w, 0.5, (1, 1))
    assert w[mag].abs().min() >= w[~mag].abs().max()


def test_row_and_block_pruning_need_block_outputs():
    with pytest.raises(ValueError, match="block_outputs"):
        derive(torch.randn(8, 128), MethodConfig(name="row"))
    assert derive(torch.randn(8, 128), MethodConfig(name="row", block_outputs=4)).keep.float().mean() == 0.5
