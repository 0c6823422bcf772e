"""Integer-scaling reconstruction (RRAM.md §1): exact cases, the scale search against brute force, pruning."""

import torch

from rram.reconstruct import ReconstructConfig, quantize_per_channel, reconstruct, search_scales, split_key


def test_exact_multiples_reconstructed_exactly():
    g = torch.Generator().manual_seed(0)
    n = torch.randint(-7, 8, (8, 256), generator=g).float()
    n[:, 0] = 7  # fix the channel max so that Q = α·N survives per-channel quantization
    alpha = torch.tensor([3.0, 5.0, 9.0, 17.0, 2.0, 11.0, 13.0, 18.0]).unsqueeze(1)
    q = alpha * n
    cfg = ReconstructConfig(key_bits=4, group_size=128)
    a = search_scales(q, cfg)
    nn_, d = split_key(q, a, cfg)
    assert torch.equal(a * 1, alpha.expand(8, 2))  # the natural scale is found
    assert d.abs().max() == 0 and torch.equal(a.repeat_interleave(128, 1) * nn_, q)


def test_exact_weight_roundtrip():
    n = torch.randint(-1, 2, (4, 128)).float()
    n[:, 0] = 1
    w = 0.3 * n  # 4-bit per-channel quantization gives Q = 7·N exactly; 2 key bits hold N
    r = reconstruct(w, ReconstructConfig(weight_bits=4, key_bits=2, group_size=128))
    assert (r.alpha == 7).all() and r.residual.abs().max() == 0
    assert torch.allclose(r.key_weight(), w, atol=1e-6)


def brute_force(q, cfg, importance):
    best = []
    for row in q:
        errs = []
        for a in cfg.scale_candidates().tolist():
            n = torch.sign(row) * torch.clamp(torch.floor(row.abs() / a + 0.5), max=cfg.key_max)
            errs.append(float((importance * (row - a * n) ** 2).sum()))
        best.append(min(errs))
    return torch.tensor(best)


def test_scale_search_matches_brute_force():
    g = torch.Generator().manual_seed(1)
    q = torch.randint(-127, 128, (12, 16), generator=g).float()
    imp = torch.rand(16, generator=g)
    for mode in ("integer", "pow2"):
        c = ReconstructConfig(key_bits=3, group_size=16, scales=mode)
        a = search_scales(q, c, imp)
        n, d = split_key(q, a, c)
        got = (imp * d**2).sum(1)
        assert torch.allclose(got.double(), brute_force(q, c, imp).double(), rtol=1e-6)
    pow2 = search_scales(q, ReconstructConfig(key_bits=3, group_size=16, scales="pow2"))
    assert all(int(v) & (int(v) - 1) == 0 for v in pow2.flatten())


def test_importance_changes_the_choice():
    q = torch.tensor([[100.0, 3.0, 3.0, 3.0]])
    cfg = ReconstructConfig(key_bits=3, group_size=4)
    big_first = search_scales(q, cfg, torch.tensor([100.0, 1, 1, 1]))
    small_first = search_scales(q, cfg, torch.tensor([0.0, 1, 1, 1]))
    assert big_first.item() > 10 and small_first.item() == 1


def test_all_zero_groups_pruned():
    w = torch.randn(4, 256)
    w[1, :128] = 0
    w[3, 128:] = 1e-6  # rounds to zero under the per-channel step
    w[3, 0] = 1.0
    r = reconstruct(w, ReconstructConfig(group_size=128))
    assert r.pruned.tolist() == [[False, False], [True, False], [False, False], [False, True]]
    assert not r.active()[1, :128].any() and r.active()[1, 128:].all()


def test_prune_fraction_drops_weakest_groups():
    w = torch.randn(8, 256)
    w[:, 128:] *= 0.01
    r = reconstruct(w, ReconstructConfig(group_size=128, prune_fraction=0.5))
    assert r.pruned[:, 1].all() and not r.pruned[:, 0].any()


def test_quantize_per_channel_range():
    w = torch.randn(5, 33)
    q, d = quantize_per_channel(w, 8)
    assert q.abs().max() == 127 and torch.allclose(q * d, w, atol=float(d.max()) / 2 + 1e-7)
