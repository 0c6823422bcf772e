"""Backbones the demo can serve on: dense, RRAM-pruned retriever, RRAM-pruned retriever and LLM.

A pruned component is its source model converted with ``rram`` (weight reconstruction, 4-bit key codes,
128×128 crossbars, no retraining) and then turned back by ``rram.to_linear``: every ``CrossbarLinear`` becomes an
``nn.Linear`` whose
weight is the effective weight Δ·α·N the crossbars hold. Serving therefore computes what ideal crossbars
compute (no ADC quantization, no programming noise), and the result is an ordinary model directory that
``load_encoder`` / ``load_llm`` and the index cache use unchanged. Beside it, ``cost.json`` holds the
``rram.model_cost`` summary of the converted model and of the dense 8-bit baseline (method ``"dense"``),
both under the same constants (``isaac32``), so the cost panel compares like with like.

Layout: ``artifacts/backbones/<retriever|llm>-<source fingerprint>/{model/, cost.json}``, built once on first use,
written to a temp dir and renamed into place.

>>> backbone = prepare("rram-retriever", "redial", retriever=encoder_path, llm=llm_path, progress=False)
>>> backbone.retriever.parent.name.startswith("retriever-"), backbone.llm == llm_path  # only the retriever pruned
(True, True)
>>> costs = backbone.costs["retriever"]
>>> costs["rram"]["crossbars"] < costs["dense"]["crossbars"]
True
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from torch import nn

import rram
from llmkb.errors import ModelError
from llmkb.models import default_llm_path
from llmkb.paths import artifacts_dir
from llmkb.retrieval.index import model_fingerprint
from llmkb.retrieval.retriever import best_available, load_encoder

BACKBONES = {
    "dense": "Dense",
    "rram-retriever": "RRAM-pruned retriever",
    "rram-all": "RRAM-pruned retriever + LLM",
}
PRUNED = {"dense": (), "rram-retriever": ("retriever",), "rram-all": ("retriever", "llm")}
TECHNOLOGY = "isaac32"
KEY_BITS = 4
EXCLUDE = {"retriever": ["*pooler*"], "llm": ["lm_head"]}  # the unused BERT pooler; the tied head stays digital


@dataclass
class Backbone:
    name: str
    retriever: Path | None  # None: the recommender's default (fine-tuned if trained, else packaged)
    llm: Path | None  # None: the packaged LLM
    costs: dict[str, dict] = field(default_factory=dict)  # "retriever"/"llm" → {"dense": summary, "rram": summary}

    @property
    def pruned(self) -> tuple[str, ...]:
        return PRUNED[self.name]


def costs(model: nn.Module, exclude: list[str], progress: bool = False) -> tuple[nn.Module, dict]:
    """Convert ``model`` (in place) with weight reconstruction; return it with the rram and dense cost summaries."""
    dense = rram.convert(copy.deepcopy(model), rram.RRAMConfig.build(method="dense"), exclude=exclude)
    summary = {"dense": rram.model_cost(dense, TECHNOLOGY).summary()}
    del dense
    rram.convert(model, rram.RRAMConfig.build(method="reconstruct", key_bits=KEY_BITS), exclude=exclude,
                 progress=progress)
    summary["rram"] = rram.model_cost(model, TECHNOLOGY).summary()
    return model, summary


def _load_retriever(source: Path):
    model = load_encoder(source)
    return model, lambda m, out: m.save(str(out))


def _load_llm(source: Path):
    from llmkb.generation.llm import load_llm

    model, tokenizer = load_llm(source)

    def save(m, out):
        m.save_pretrained(out)
        tokenizer.save_pretrained(out)

    return model, save


LOADERS: dict[str, Callable] = {"retriever": _load_retriever, "llm": _load_llm}


def build_component(kind: str, source: Path, root: Path | None = None, progress: bool = True) -> Path:
    """The folder of the pruned ``kind`` ("retriever" or "llm") built from ``source``; built when missing."""
    root = Path(root) if root is not None else artifacts_dir() / "backbones"
    target = root / f"{kind}-{model_fingerprint(source)[:16]}"
    if (target / "cost.json").is_file():
        return target
    if not Path(source).exists():
        raise ModelError(f"cannot prune the {kind}: {source} does not exist")
    if progress:
        print(f"Pruning the {kind} ({source}) onto RRAM crossbars; once, into {target}", flush=True)
    model, save = LOADERS[kind](Path(source))
    model, summary = costs(model, EXCLUDE[kind], progress)
    rram.to_linear(model)
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=root))
    try:
        save(model, tmp / "model")
        meta = {"source": str(source), "method": "reconstruct", "key_bits": KEY_BITS, "technology": TECHNOLOGY,
                "exclude": EXCLUDE[kind], "serving": "baked effective weights (ideal crossbar computation)", **summary}
        (tmp / "cost.json").write_text(json.dumps(meta, indent=2))
        os.chmod(tmp, 0o755)
        os.replace(tmp, target)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not (target / "cost.json").is_file():  # not merely a lost race with another process
            raise
    return target


def prepare(name: str, dataset: str, root: Path | None = None, retriever: Path | None = None,
            llm: Path | None = None, progress: bool = True) -> Backbone:
    """Model paths and costs of backbone ``name`` for ``dataset``; pruned components are built on first use.

    ``retriever`` / ``llm``: source models (default: the dataset's dense retriever and the packaged LLM).
    Costs of both components are always filled in (building them once), so every backbone can show them.
    """
    if name not in BACKBONES:
        raise ModelError(f"unknown backbone {name!r}; choose one of {', '.join(BACKBONES)}")
    sources = {"retriever": Path(retriever) if retriever else best_available(dataset),
               "llm": Path(llm) if llm else default_llm_path()}
    built = {kind: build_component(kind, src, root, progress) for kind, src in sources.items()}
    costs_ = {kind: {k: v for k, v in json.loads((path / "cost.json").read_text()).items() if k in ("dense", "rram")}
              for kind, path in built.items()}
    pruned = PRUNED[name]
    return Backbone(
        name,
        retriever=built["retriever"] / "model" if "retriever" in pruned else retriever,
        llm=built["llm"] / "model" if "llm" in pruned else llm,
        costs=costs_,
    )
