"""The LLM's forward pass in ONNX Runtime with 8-bit weights, under transformers' own ``generate``.

A reply on a CPU is bound by reading the weights once per step: float32 SmolLM2-135M reads 538 MB a token. The
model is exported once to ONNX (``torch.onnx``), its matrix products quantized to 8 bits in blocks of 32
(ONNX Runtime's ``MatMulNBits``: weights per block, activations per block at compute), and cached in a folder.
:func:`onnx_copy` returns the model with only ``forward`` replaced by that session, so ``generate``, its cache,
the logits processors (exact titles), stopping rules, streaming and prompt lookup are transformers' as before.

>>> import tempfile
>>> fast = onnx_copy(model, tempfile.mkdtemp())         # exported, quantized and cached on the first call
>>> prompt = tokenizer("Recommend a movie:", return_tensors="pt")
>>> fast.generate(**prompt, max_new_tokens=4, do_sample=False).shape == (1, prompt.input_ids.shape[1] + 4)
True
"""

from __future__ import annotations

import contextlib
import copy
import logging
import warnings
from pathlib import Path

import torch

from llmkb.data.io import atomic_directory
from llmkb.errors import ModelError

BITS = 8  # 4 bits changed the packaged model's greedy reply from its first token (docs/results/conversation.md)
BLOCK = 32
ACCURACY_LEVEL = 4  # activations quantized to int8 per block at compute: the fast kernels on AVX2
FILE = "model.onnx"
# Intra-op threads of a session. Unlike PyTorch's streamed float32 generation (``STREAM_THREADS``), two threads
# gained here: the served writer's turn p50 1.10 → 0.71 s, the same 12 replies (12 ReDial validation openers,
# Intel Xeon).
THREADS = 2
# Bump when the exported graph changes, so that cached copies are exported again. 2: the logits of the positions
# asked for (``logits_to_keep``), not always the last 8.
ONNX_VERSION = 2


def onnx_copy(model, cache_dir: str | Path, threads: int = THREADS, progress: bool = False):
    """A shallow copy of the causal LM ``model`` whose forward pass runs in ONNX Runtime with 8-bit weights.

    ``cache_dir`` keeps the exported, quantized graph (made on the first call, about a minute for SmolLM2-135M; a
    folder per model, written to a temp folder and renamed into place). ``threads``: the session's intra-op threads;
    ``progress``: a bar while it is exported. ``model`` itself is left as it is, and shares its weights with the copy.
    """
    import onnxruntime

    path = Path(cache_dir) / FILE
    if not path.is_file():
        export_quantized(model, Path(cache_dir), progress)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    try:
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own exception types
        raise ModelError(f"cannot load the ONNX copy of the LLM at {path}: {error}; delete {path.parent} to "
                         "export it again") from error
    duplicate = copy.copy(model)  # the same modules and config; only this copy's forward changes
    duplicate.forward = OnnxForward(session, model.config.num_hidden_layers)
    return duplicate


class OnnxForward:
    """A causal LM's ``forward`` computed by an ONNX Runtime session of :class:`_Step`'s graph: it reads the keys
    and values of the transformers cache it is given and appends the new ones, as the model's own forward does."""

    def __init__(self, session, layers: int):
        self.session, self.layers = session, layers
        shape = session.get_inputs()[4].shape  # keys_0: [batch, heads, past, head size]
        self.empty_past = (shape[1], 0, shape[3])  # per sequence, before the first token

    def __call__(self, input_ids=None, attention_mask=None, position_ids=None, cache=None, past_key_values=None,
                 use_cache=True, logits_to_keep=0, **_):
        from transformers import DynamicCache
        from transformers.modeling_outputs import CausalLMOutputWithPast

        cache = cache if cache is not None else past_key_values  # transformers 5.25 renames it ``cache``
        cache = cache if cache is not None else DynamicCache()
        past = cache.get_seq_length()
        batch, new = input_ids.shape
        if attention_mask is None:
            attention_mask = torch.ones(batch, past + new, dtype=torch.long)
        if position_ids is None:
            position_ids = torch.arange(past, past + new).expand(batch, new)
        if isinstance(logits_to_keep, torch.Tensor):  # positions, as transformers allows
            kept = logits_to_keep.long()
        else:  # the last ``logits_to_keep`` (``generate`` asks for 1, prompt lookup for its drafts + 1); 0: all
            kept = torch.arange(new - min(logits_to_keep, new) if logits_to_keep else 0, new)
        inputs = {"input_ids": input_ids.numpy(), "attention_mask": attention_mask.long().numpy(),
                  "position_ids": position_ids.long().numpy(), "logits_positions": kept.numpy()}
        empty = torch.zeros(batch, *self.empty_past, dtype=torch.float32)  # every layer's past before the first token
        for layer in range(self.layers):
            keys, values = (cache.layers[layer].keys, cache.layers[layer].values) if past else (empty, empty)
            inputs[f"keys_{layer}"], inputs[f"values_{layer}"] = keys.contiguous().numpy(), values.contiguous().numpy()
        logits, *present = self.session.run(None, inputs)
        for layer in range(self.layers):
            cache.update(torch.from_numpy(present[2 * layer]), torch.from_numpy(present[2 * layer + 1]), layer)
        return CausalLMOutputWithPast(logits=torch.from_numpy(logits), cache=cache)


class _Step(torch.nn.Module):
    """One forward pass with the cache as plain tensors, as exported: the new tokens, the mask over the past and the
    new tokens, their positions, the positions whose logits are wanted (of the new tokens) and each layer's past keys
    and values → those logits and each layer's new keys and values."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, position_ids, logits_positions, *past):
        from transformers import DynamicCache

        cache = DynamicCache()
        for layer in range(len(past) // 2):
            cache.update(past[2 * layer], past[2 * layer + 1], layer)
        start = past[0].shape[2]
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                         cache=cache, use_cache=True, logits_to_keep=logits_positions)
        present = [(layer.keys[:, :, start:], layer.values[:, :, start:]) for layer in out.cache.layers]
        return out.logits, *[tensor for pair in present for tensor in pair]


def export_quantized(model, target: Path, progress: bool = False) -> Path:
    """Export ``model`` to ONNX, quantize its matrix products to ``BITS`` bits, and write it to ``target``
    (atomically: a temp folder renamed into place)."""
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer
    from tqdm.auto import tqdm

    bar = tqdm(total=2, desc=f"the LLM's {BITS}-bit ONNX copy (once)", unit="step", disable=not progress)
    try:
        with atomic_directory(target, complete=FILE) as work:
            with _quiet():
                exported = _export(model, work / "float32.onnx")
                bar.update()
                setting = dict(bits=BITS, block_size=BLOCK, is_symmetric=True, accuracy_level=ACCURACY_LEVEL)
                quantizer = MatMulNBitsQuantizer(exported, algo_config=DefaultWeightOnlyQuantConfig(**setting),
                                                 **setting)
                quantizer.process()
            onnx.save_model(quantizer.model.model, work / FILE, save_as_external_data=True, location=f"{FILE}.data")
            bar.update()
            for leftover in work.glob("float32.onnx*"):
                leftover.unlink()
    except OSError as error:
        raise ModelError(f"cannot write the ONNX copy of the LLM to {target}: {error}") from error
    finally:
        bar.close()
    return target / FILE


@contextlib.contextmanager
def _quiet():
    """Without the exporter's and the quantizer's notes (a line per matrix product, missing torchvision)."""
    loggers = [logging.getLogger(name) for name in ("torch.onnx", "onnxruntime.quantization.matmul_nbits_quantizer",
                                                    "onnxscript", "onnx_ir")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # deprecated cache arguments, dynamic shapes renamed
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _export(model, path: Path):
    """The float32 graph of :class:`_Step` with every length dynamic (batch, new tokens, past tokens, kept logits)."""
    import onnx

    config = model.config
    layers, heads = config.num_hidden_layers, config.num_key_value_heads
    head_size = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    batch, new, past, total, kept = (torch.export.Dim(name, max=4096) for name in ("batch", "new", "past", "total",
                                                                                    "kept"))
    # a left-padded example: the graph then builds the attention mask from ``attention_mask``, never assumes none
    example = (torch.tensor([[1, 2, 3], [4, 5, 6]]), torch.tensor([[0, 1, 1, 1, 1], [1, 1, 1, 1, 1]]),
               torch.tensor([[1, 2, 3], [2, 3, 4]]), torch.tensor([1, 2]),
               *[torch.zeros(2, heads, 2, head_size) for _ in range(2 * layers)])
    names = [f"{kind}_{layer}" for layer in range(layers) for kind in ("keys", "values")]
    shapes = {"input_ids": {0: batch, 1: new}, "attention_mask": {0: batch, 1: total},
              "position_ids": {0: batch, 1: new}, "logits_positions": {0: kept},
              "past": tuple({0: batch, 2: past} for _ in names)}
    with torch.no_grad():
        program = torch.onnx.export(_Step(model).eval(), example, dynamo=True, verbose=False,
                                    input_names=["input_ids", "attention_mask", "position_ids", "logits_positions",
                                                 *names],
                                    output_names=["logits", *[f"new_{name}" for name in names]],
                                    dynamic_shapes=shapes)
    program.save(str(path), external_data=True)
    return onnx.load(str(path))
