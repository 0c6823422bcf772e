"""Load the LLM: the packaged SmolLM2 GGUF by default, or any local Hugging Face model directory / GGUF file.

GGUF files are dequantized by transformers on load (slow, ~17 s for SmolLM2-135M). The first load saves the
dequantized model and tokenizer with ``save_pretrained`` into ``cache_dir`` (default ``<artifacts>/llm-cache``,
following ``LLMKB_ARTIFACTS``), keyed by the file's name, size and
mtime, so later loads read plain safetensors. The cache entry is written to a temp dir and renamed into place.

``model, tokenizer = load_llm()`` loads the packaged SmolLM2-135M-Instruct; any local causal LM directory works:

>>> import tempfile
>>> folder = tempfile.mkdtemp()
>>> model.save_pretrained(folder); tokenizer.save_pretrained(folder)  # doctest: +ELLIPSIS
(...)
>>> loaded, _ = load_llm(folder)
>>> fast = int8_copy(loaded)                          # int8 linear layers for quick replies on a CPU
>>> type(fast.model.layers[0].self_attn.q_proj).__name__
'Linear'

"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import warnings
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from llmkb.data.io import atomic_directory
from llmkb.errors import ModelError
from llmkb.models import default_llm_path
from llmkb.paths import artifacts_dir


def load_llm(path: str | Path | None = None, cache_dir: str | Path | None = None):
    """Return ``(model, tokenizer)`` in eval mode, float32, on CPU.

    ``path``: a HF model directory (with ``config.json``), a ``.gguf`` file, or a directory holding exactly one
    ``.gguf`` file; ``None`` means the packaged SmolLM2. ``cache_dir``: where GGUF files are cached dequantized
    (default ``artifacts_dir() / "llm-cache"``, read when called).
    Raises ``ModelError`` when the path is missing or the model cannot be loaded.
    """
    source = Path(path) if path is not None else default_llm_path()
    if not source.exists():
        raise ModelError(f"LLM path {source} does not exist; pass a local HF model directory or a .gguf file")
    gguf = _find_gguf(source)
    if gguf is None:
        return _load(source, gguf_file=None)
    cached = Path(cache_dir or artifacts_dir() / "llm-cache") / _cache_key(gguf)
    if (cached / "config.json").is_file():
        return _load(cached, gguf_file=None)
    model, tokenizer = _load(gguf.parent, gguf_file=gguf.name)
    _save_atomically(model, tokenizer, cached)
    return model, tokenizer


def _find_gguf(source: Path) -> Path | None:
    """The GGUF file ``source`` names, or ``None`` when it is a plain HF model directory."""
    if source.is_file():
        if source.suffix != ".gguf":
            raise ModelError(f"{source} is a file but not a .gguf file; pass a .gguf file or a HF model directory")
        return source
    if (source / "config.json").is_file():
        return None
    ggufs = sorted(source.glob("*.gguf"))
    if len(ggufs) != 1:
        raise ModelError(
            f"{source} has no config.json and {len(ggufs)} .gguf files; "
            "pass a HF model directory or the .gguf file itself"
        )
    return ggufs[0]


def _cache_key(gguf: Path) -> str:
    stat = gguf.stat()
    digest = hashlib.sha256(f"{gguf.name}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    return f"{gguf.stem}-{digest}"


def _load(directory: Path, gguf_file: str | None):
    where = directory / gguf_file if gguf_file else directory
    try:
        tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=gguf_file)
        dense = _dense_gguf_config() if gguf_file else None
        extra = {"quantization_config": dense} if dense is not None else {}
        model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=gguf_file, dtype=torch.float32, **extra)
    except Exception as error:  # transformers raises many types (OSError, ValueError, KeyError ...)
        raise ModelError(
            f"cannot load a causal LM from {where}: {type(error).__name__}: {error}; "
            "check that it is a complete HF model directory or a GGUF file transformers supports "
            "(GGUF needs the `gguf` package)"
        ) from error
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    _forget_gguf_origin(model)
    model.float().eval()
    return model, tokenizer


def _dense_gguf_config():
    """Ask transformers (5.x) to unpack every GGUF weight into plain ``nn.Linear`` (LoRA/RRAM need dense layers)."""
    try:
        from transformers import GgufConfig
    except ImportError:  # transformers 4.x always dequantizes GGUF
        return None
    return GgufConfig(dequantize=True)


def _forget_gguf_origin(model) -> None:
    """A dequantized GGUF model is an ordinary dense model: drop the quantizer so it can be cast and saved."""
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None:
        quantizer.remove_quantization_config(model)


def _save_atomically(model, tokenizer, target: Path) -> None:
    """Write the dequantized model to a temp dir next to ``target``, then rename it into place."""
    with contextlib.suppress(OSError):  # another process won the race, or the disk failed: the load still succeeded
        with atomic_directory(target, complete="config.json") as tmp:
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)


def int8_copy(model):
    """A copy of ``model`` whose ``nn.Linear`` layers compute in int8 (PyTorch dynamic quantization).

    Greedy decoding on a CPU reads every weight once per token, so it is bound by memory traffic: for SmolLM2-135M
    a token takes ~14 ms instead of ~40 ms in float32 (``benchmarks/chat_latency.py``). The copy shares every
    other parameter (embeddings, norms) with ``model`` and adds only the int8 weights; ``model`` is left as it is.
    Weights are quantized per output channel, and the output layer (``lm_head``) stays float32: quantized per
    tensor, or with the output layer, the small model's replies fall apart (docs/results/conversation.md, issue 19).
    """
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    shared = {id(p): p for p in model.parameters()}
    duplicate = copy.deepcopy(model, memo=shared)
    with warnings.catch_warnings():
        # torch.ao.quantization is deprecated in favour of torchao (not a dependency); the pinned torch 2.13 ships it
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*quantized tensor creation functions.*")
        layers = {name: per_channel_dynamic_qconfig for name, module in duplicate.named_modules()
                  if isinstance(module, torch.nn.Linear) and name != "lm_head"}
        return quantize_dynamic(duplicate, layers, dtype=torch.qint8, inplace=True).eval()
