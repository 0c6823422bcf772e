#!/usr/bin/env python
"""Check: our GPTQ (``rram.gptq``, method "group" + ``compensate=True``) against llm-compressor's GPTQ.

    OMP_NUM_THREADS=1 /work/venv-lc/bin/python benchmarks/gptq_check.py [--seed 0] [--pipeline basic]
    (about 15 s on one CPU core)

An optional check, not a test: llm-compressor (PyPI ``llmcompressor``) is no dependency of this project,
so run it from a separate venv that has it and ``rram`` installed (``pip install -e . --no-deps``). Without
it the script says so and exits with status 2. Nothing is downloaded: the model is a tiny, seeded,
random-weight ``LlamaForCausalLM``; calibration and held-out data are seeded random token sequences.

The same model is quantized to 4-bit symmetric codes with groups of 128 inputs (lm_head left float):

  a   llm-compressor ``oneshot`` + ``GPTQModifier`` (scheme W4A16, actorder ``--actorder``, default None
      where the library's own default is "static" = "weight"; block 128, damp 0.01,
      calibration pipeline ``--pipeline``; "basic" takes every Hessian on the float model, as ours does)
  a1  llm-compressor's ``quantize_weight`` called per layer on OUR Hessians (rram.calibrate) with the scales
      of its own weight observer (memoryless min-max): the library's algorithm on exactly our inputs
  a*  our loop (``rram.gptq.compensate``) on llm-compressor's grid, act-order as ``--actorder``: must
      give a1's codes
  b   ours: ``rram.convert(..., RRAMConfig.build(method="group", key_bits=4, compensate=True), hessians=H)``
  b'  llm-compressor's ``quantize_weight`` on OUR grid (scale = group max|w|/7) with actorder "weight",
      as ours (``CrossbarLinear.compensate`` always orders by act-order): must give b's codes,
      except where it picks the code -8, which its int4 range allows and ours does not
  c   ours, round-to-nearest (``method="group"``, no compensation)
  d   llm-compressor's grid, round-to-nearest

Both use static groups: every group's scale comes from the original weight, before any column is
updated. The grids differ: llm-compressor's symmetric int4 scale is max|w|/7.5 with codes in [-8, 7]
(16 levels, the group's largest |w| lands on ±7.5, i.e. -8 or 7); ours is max|w|/7 with codes in
[-7, 7] (15 levels). So a and b cannot share most codes; a vs a* and b vs b' check the algorithm.
The remaining differences are float32 (llm-compressor) vs float64 (ours) arithmetic: a code at a rounding
tie flips, and the flip changes the error carried along the rest of its output row.

Layer output error: ||X(W_q − W)ᵀ||² / ||XWᵀ||² over the calibration inputs X, computed as
tr(D H Dᵀ) / tr(W H Wᵀ) with H = XᵀX/n. Loss: mean next-token cross-entropy on held-out sequences.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
import time

import torch

import rram
from rram import gptq

GROUP, BITS, BLOCK, DAMP = 128, 4, 128, 0.01


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--intermediate", type=int, default=512)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--vocab", type=int, default=512)
    p.add_argument("--calib", type=int, default=32, help="calibration sequences")
    p.add_argument("--held-out", type=int, default=32, help="held-out sequences for the loss")
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--actorder", default="none", choices=["none", "weight"],
                   help="llm-compressor's activation ordering for a and a1 (its GPTQModifier default is 'static', "
                        "an alias of 'weight'; ours has none, so a*/b' always run without)")
    p.add_argument("--pipeline", default="basic", choices=["basic", "sequential", "independent"],
                   help="llm-compressor calibration pipeline for (a); only 'basic' uses the float model's "
                        "Hessians for every layer, as rram.calibrate does")
    p.add_argument("--verbose", action="store_true", help="keep llm-compressor's INFO log (on stdout)")
    return p.parse_args()


def import_llmcompressor(verbose: bool):
    if not verbose:  # llm-compressor logs to stdout; keep the tables readable (its env var still wins)
        os.environ.setdefault("LLM_COMPRESSOR_LOG_LEVEL", "ERROR")
    try:
        import compressed_tensors
        import llmcompressor
        from compressed_tensors.quantization import QuantizationArgs, fake_quantize
        from llmcompressor import oneshot
        from llmcompressor.modifiers.gptq import GPTQModifier
        from llmcompressor.modifiers.gptq.gptq_quantize import quantize_weight
        from llmcompressor.observers import Observer
    except ImportError as e:
        sys.stderr.write(f"gptq_check: llm-compressor is not importable ({e}).\n"
                         "It is an optional check: run it from a venv with `pip install llmcompressor` and "
                         "`pip install -e . --no-deps` (see this script's --help).\n")
        sys.exit(2)
    return dict(QuantizationArgs=QuantizationArgs, fake_quantize=fake_quantize, oneshot=oneshot,
                GPTQModifier=GPTQModifier, quantize_weight=quantize_weight, Observer=Observer,
                versions={"llmcompressor": llmcompressor.__version__,
                          "compressed-tensors": compressed_tensors.__version__})


def build_model(a: argparse.Namespace):
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig(vocab_size=a.vocab, hidden_size=a.hidden, intermediate_size=a.intermediate,
                      num_hidden_layers=a.layers, num_attention_heads=a.heads, num_key_value_heads=a.heads,
                      max_position_embeddings=max(256, a.seq_len), tie_word_embeddings=False)
    torch.manual_seed(a.seed)
    return LlamaForCausalLM(cfg).float().eval()


def local_tokenizer(vocab: int):
    """A word-level tokenizer built in memory: ``oneshot`` wants a processor whenever a dataset is given
    (it never tokenizes here: the calibration data are token ids already), and nothing may be downloaded."""
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    words = {f"t{i}": i for i in range(vocab)}
    return PreTrainedTokenizerFast(tokenizer_object=Tokenizer(WordLevel(words, unk_token="t0")), unk_token="t0")


def batches(ids: torch.Tensor, size: int) -> list[torch.Tensor]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


@torch.no_grad()
def loss_and_logprobs(model, ids: torch.Tensor, size: int) -> tuple[float, torch.Tensor]:
    """Mean next-token cross-entropy on ``ids`` and the log-probabilities of every position."""
    total, logp = 0.0, []
    for b in batches(ids, size):
        out = model(input_ids=b, labels=b)
        total += float(out.loss) * len(b)
        logp.append(torch.log_softmax(out.logits.float(), -1))
    return total / len(ids), torch.cat(logp)


def expand(scale: torch.Tensor, in_features: int) -> torch.Tensor:
    """[out, groups] → [out, in]."""
    return scale.repeat_interleave(GROUP, dim=1)[:, :in_features]


def out_err(w: torch.Tensor, wq: torch.Tensor, h: torch.Tensor) -> tuple[float, float]:
    """(||X(Wq − W)ᵀ||², ||XWᵀ||²) per calibration token, from H = XᵀX/n."""
    d, w, h = (wq - w).double(), w.double(), h.double()
    return float(((d @ h) * d).sum()), float(((w @ h) * w).sum())


def main() -> None:
    a = parse_args()
    lc = import_llmcompressor(a.verbose)
    import transformers

    t_start = time.perf_counter()
    times: dict[str, float] = {}
    model = build_model(a)
    g = torch.Generator().manual_seed(a.seed + 1)
    calib = torch.randint(0, a.vocab, (a.calib, a.seq_len), generator=g)
    held = torch.randint(0, a.vocab, (a.held_out, a.seq_len), generator=g)

    # ---- our Hessians, on the float model ----------------------------------------------------------
    t = time.perf_counter()
    hess = rram.calibrate(model, lambda m: [m(input_ids=b) for b in batches(calib, a.batch)],
                          exclude=["lm_head"], hessian=True)
    names = list(hess)
    weights = {n: model.get_submodule(n).weight.detach().float().clone() for n in names}
    times["calibrate (rram)"] = time.perf_counter() - t

    # ---- (b) ours, GPTQ, and (c) ours, RTN -----------------------------------------------------------
    ours = {}
    for key, comp in (("b", True), ("c", False)):
        t = time.perf_counter()
        m = rram.convert(copy.deepcopy(model), rram.RRAMConfig.build(method="group", key_bits=BITS, compensate=comp),
                         exclude=["lm_head"], hessians=hess if comp else None)
        times[f"{key}: rram.convert"] = time.perf_counter() - t
        layers = dict(rram.crossbar_modules(m))
        assert layers[names[0]].config.method.reconstruct.group_size == GROUP
        ours[key] = {"model": m, "w": {}, "codes": {}, "scale": {}}
        for n in names:
            layer = layers[n].eval()
            ours[key]["w"][n] = layer.target_weight().detach()
            ours[key]["codes"][n] = layer.codes()[1].detach()
            ours[key]["scale"][n] = (layer.delta * layer.alpha).detach()  # Δ·α: [out, groups]

    # ---- (a1) llm-compressor's quantize_weight on our Hessians, (d) its RTN ---------------------------
    qargs = lc["QuantizationArgs"](num_bits=BITS, type="int", symmetric=True, strategy="group", group_size=GROUP,
                                   actorder=None if a.actorder == "none" else a.actorder)
    a1 = {"w": {}, "codes": {}, "scale": {}}
    d_w, b_lc_codes, a_star_codes, minus8 = {}, {}, {}, 0
    t = time.perf_counter()
    for n in names:
        w, h = weights[n], hess[n]
        obs = lc["Observer"].load_from_registry("memoryless_minmax", base_name="weight", args=qargs)
        obs(w)
        qp = obs.get_qparams()
        scale, zp = qp["scale"], qp["zero_point"]
        wq = lc["quantize_weight"](w[None].clone(), h[None].clone(), scale[None], zp[None], None, qargs,
                                   blocksize=BLOCK, percdamp=DAMP)[0][0]
        a1["w"][n], a1["scale"][n] = wq, scale
        a1["codes"][n] = torch.round(wq / expand(scale, w.shape[1]))
        d_w[n] = lc["fake_quantize"](w, scale, zp, qargs)
        # b': the library's loop on our grid (our Δ·α, so codes of the original weight lie in [-7, 7])
        s_ours = ours["b"]["scale"][n].float()
        wq_b = lc["quantize_weight"](w[None].clone(), h[None].clone(), s_ours[None], torch.zeros_like(s_ours)[None],
                                     None, qargs.model_copy(update={"actorder": "weight"}),
                                     blocksize=BLOCK, percdamp=DAMP)[0][0]
        b_lc_codes[n] = torch.round(wq_b / expand(s_ours, w.shape[1]))
        minus8 += int((b_lc_codes[n] == -8).sum())
    times["a1: quantize_weight x2"] = time.perf_counter() - t

    # ---- (a*) our loop on llm-compressor's grid ----------------------------------------------------------
    t = time.perf_counter()
    for n in names:
        s = expand(a1["scale"][n], weights[n].shape[1])

        def q_lc(cols, j, s=s):
            return torch.clamp(torch.round(cols / s[:, j : j + cols.shape[1]]), -8, 7) * s[:, j : j + cols.shape[1]]

        latent = gptq.compensate(weights[n], hess[n], q_lc, block=BLOCK, damp=DAMP, act_order=a.actorder == "weight")
        a_star_codes[n] = torch.clamp(torch.round(latent / s), -8, 7)
    times["a*: rram.gptq.compensate"] = time.perf_counter() - t

    # ---- (a) llm-compressor oneshot ---------------------------------------------------------------------
    t = time.perf_counter()
    lc_model = copy.deepcopy(model)
    # oneshot reads the model's config back from model.config.name_or_path (an in-memory model has none):
    # give it a local folder holding just the config
    config_dir = tempfile.TemporaryDirectory(prefix="gptq_check_")
    lc_model.config.save_pretrained(config_dir.name)
    lc_model.config.name_or_path = config_dir.name
    loader = torch.utils.data.DataLoader([{"input_ids": x} for x in calib], batch_size=a.batch)
    recipe = lc["GPTQModifier"](targets="Linear", scheme="W4A16", ignore=["lm_head"],
                                actorder=None if a.actorder == "none" else a.actorder,
                                block_size=BLOCK, dampening_frac=DAMP)
    lc["oneshot"](model=lc_model, processor=local_tokenizer(a.vocab), dataset=loader, recipe=recipe,
                  pipeline=a.pipeline,
                  num_calibration_samples=a.calib, max_seq_length=a.seq_len)
    times[f"a: oneshot ({a.pipeline})"] = time.perf_counter() - t
    a_w, a_codes = {}, {}
    for n in names:
        mod = lc_model.get_submodule(n)
        a_w[n] = mod.weight.detach().float().clone()
        a_codes[n] = torch.round(a_w[n] / expand(mod.weight_scale.detach().float(), a_w[n].shape[1]))
        assert torch.allclose(mod.weight_scale.float(), a1["scale"][n]), f"{n}: oneshot scales differ from observer"

    # ---- tables ---------------------------------------------------------------------------------------------
    print(f"# GPTQ check: rram vs llm-compressor {lc['versions']['llmcompressor']} "
          f"(compressed-tensors {lc['versions']['compressed-tensors']}, transformers {transformers.__version__}, "
          f"torch {torch.__version__})\n")
    print(f"Tiny random LlamaForCausalLM: hidden {a.hidden}, intermediate {a.intermediate}, {a.layers} layers, "
          f"vocab {a.vocab}, seed {a.seed}; calibration {a.calib}×{a.seq_len} random tokens; "
          f"W{BITS} symmetric, group {GROUP}, block {BLOCK}, damp {DAMP}, llm-compressor actorder {a.actorder}.\n")
    print("Codes x=y: fraction of identical integer codes; a1=a* and b=b' pair the same grid with the other "
          "implementation's loop. "
          "Output error ||X(Wq−W)ᵀ||²/||XWᵀ||² (×1e-3).\n")
    print("| layer | ‖Wa−Wb‖/‖W‖ | codes a=b | a=a1 | a1=a* | b=b' | err a (lc) | err b (ours) "
          "| err c (RTN ours) "
          "| err d (RTN lc) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    tot = {k: [0.0, 0.0] for k in "abcd"}
    cnt = {k: 0 for k in ("ab", "aa1", "a1s", "bb")}
    num, den, numel = 0.0, 0.0, 0
    for n in names:
        w, h = weights[n], hess[n]
        errs = {}
        for k, wq in (("a", a_w[n]), ("b", ours["b"]["w"][n]), ("c", ours["c"]["w"][n]), ("d", d_w[n])):
            e, ref = out_err(w, wq, h)
            errs[k] = e / ref
            tot[k][0] += e
            tot[k][1] += ref
        same = {"ab": a_codes[n] == ours["b"]["codes"][n], "aa1": a_codes[n] == a1["codes"][n],
                "a1s": a1["codes"][n] == a_star_codes[n], "bb": ours["b"]["codes"][n] == b_lc_codes[n]}
        for k, v in same.items():
            cnt[k] += int(v.sum())
        diff = float((a_w[n] - ours["b"]["w"][n]).norm())
        num, den, numel = num + diff**2, den + float(w.norm()) ** 2, numel + w.numel()
        print(f"| {n.removeprefix('model.')} | {diff / float(w.norm()):.4f} | "
              + " | ".join(f"{float(v.float().mean()):.2%}" for v in same.values()) + " | "
              + " | ".join(f"{errs[k] * 1e3:.3f}" for k in "abcd") + " |")
    print(f"| **all** | {(num / den) ** 0.5:.4f} | "
          + " | ".join(f"{cnt[k] / numel:.2%}" for k in ("ab", "aa1", "a1s", "bb")) + " | "
          + " | ".join(f"{tot[k][0] / tot[k][1] * 1e3:.3f}" for k in "abcd") + " |")
    print(f"\nb' chose the code -8 (outside our [-7, 7]) for {minus8} of {numel} weights.")
    rows8 = {n: (b_lc_codes[n] == -8).any(1, keepdim=True) for n in names}
    diff_b = {n: ours["b"]["codes"][n] != b_lc_codes[n] for n in names}
    in8 = sum(int((diff_b[n] & rows8[n]).sum()) for n in names)
    print(f"Of the codes where b≠b', {in8} lie in output rows where b' used -8 (one -8 changes the error carried "
          "to the rest of its row).")
    for k, (x, y) in {"a1≠a*": (a1["codes"], a_star_codes), "a≠a1": (a_codes, a1["codes"]),
                      "b≠b'": (ours["b"]["codes"], b_lc_codes)}.items():
        ndiff = sum(int((x[n] != y[n]).sum()) for n in names)
        biggest = max(float((x[n] - y[n]).abs().max()) for n in names)
        rows = sum(int((x[n] != y[n]).any(1).sum()) for n in names)
        nrows = sum(x[n].shape[0] for n in names)
        print(f"{k}: {ndiff} of {numel} codes differ, by at most {biggest:g}, in {rows} of {nrows} output rows.")
    print()

    t = time.perf_counter()
    a1_model = copy.deepcopy(model)
    d_model = copy.deepcopy(model)
    with torch.no_grad():
        for n in names:
            a1_model.get_submodule(n).weight.copy_(a1["w"][n])
            d_model.get_submodule(n).weight.copy_(d_w[n])
    rows = [("float", model), (f"a: llm-compressor GPTQ (oneshot, {a.pipeline})", lc_model),
            ("a1: llm-compressor quantize_weight on our H", a1_model), ("b: ours, GPTQ", ours["b"]["model"]),
            ("c: ours, RTN", ours["c"]["model"]), ("d: llm-compressor grid, RTN", d_model)]
    results = [(label, *loss_and_logprobs(m, held, a.batch)) for label, m in rows]
    times["held-out loss"] = time.perf_counter() - t
    ref = results[0][2]
    print(f"| model ({a.held_out}×{a.seq_len} held-out random tokens) | loss | Δ vs float | ppl "
          "| KL(float‖model) ×1e-3 |")
    print("|---|---:|---:|---:|---:|")
    for label, value, logp in results:
        kl = float((ref.exp() * (ref - logp)).sum(-1).mean())
        print(f"| {label} | {value:.5f} | {value - results[0][1]:+.5f} | {torch.tensor(value).exp():.2f} "
              f"| {kl * 1e3:.3f} |")
    print("\nA random model on random tokens: its loss is about ln(vocab) and moves by noise; the KL to the float "
          "model's next-token distribution is the measure to read.")
    print("\nTimes (s): " + ", ".join(f"{k} {v:.1f}" for k, v in times.items())
          + f"; total {time.perf_counter() - t_start:.1f}")


if __name__ == "__main__":
    main()
