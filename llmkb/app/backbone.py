"""Backbones the demo can serve on: dense, RRAM-pruned retriever, RRAM-pruned retriever and LLM.

A pruned component is its source model at the operating point the RRAM results select (docs/RESULTS.md, "RRAM,
measured honestly"): the best family's measured setting within tolerance (``Recipe``), activation importance and
Hessians from 4 training batches, and 32 steps of progressive retraining, on 128×128 crossbars. It is built by an ``llmkb rram prune`` run of the same recipe
(``Recipe``), which retrains a dense copy with the same budget and measures both on the validation split
(retriever: Recall@50 of the catalogue's recommendation task; LLM: perplexity on ReDial validation dialogues); its
report is kept beside the model, so the cost panel shows the measured accuracy change and names the run. The
converted model is turned back by ``rram.to_linear``: every ``CrossbarLinear`` becomes an ``nn.Linear`` holding the
effective weight Δ·α·N the crossbars hold, so serving computes what ideal crossbars compute (no ADC quantization,
no programming noise), and the result is an ordinary model directory that ``load_encoder`` / ``load_llm`` and the
index cache use unchanged. The dense backbone needs only the dense costs (``dense_costs``, seconds).

Layout: ``artifacts/backbones/<retriever-DATASET|llm>-<source fingerprint>-<recipe>/{model/, cost.json, run/}``,
built once on first use, written to a temp dir and renamed into place.

>>> quick = Recipe(retriever=Point("gptq-mse", 5), steps=2, batch_size=2, split="train")  # the tiny world
>>> backbone = prepare("rram-retriever", "inspired", retriever=encoder_path, llm=llm_path, progress=False,
...                    recipe=quick, data_dir=data_dir)
>>> backbone.retriever.parent.name.startswith("retriever-inspired-"), backbone.llm == llm_path  # only the retriever
(True, True)
>>> costs = backbone.costs["retriever"]
>>> costs["rram"]["energy_pj"] < costs["dense"]["energy_pj"], sorted(costs["accuracy"])
(True, ['change', 'dense', 'metric', 'pruned', 'reference', 'run', 'tolerance', 'within_tolerance'])
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from torch import nn

import rram
from llmkb.data.io import atomic_directory, atomic_write_json
from llmkb.errors import ModelError
from llmkb.models import default_llm_path, reference_note
from llmkb.paths import artifacts_dir
from llmkb.prune.config import PruneConfig
from llmkb.retrieval.index import model_fingerprint
from llmkb.retrieval.artifacts import best_available
from llmkb.retrieval.retriever import load_encoder

BACKBONES = {
    "dense": "Dense",
    "rram-retriever": "RRAM-pruned retriever",
    "rram-all": "RRAM-pruned retriever + LLM",
}
PRUNED = {"dense": (), "rram-retriever": ("retriever",), "rram-all": ("retriever", "llm")}
TECHNOLOGY = "isaac32"
TOLERANCE = {"retriever": 0.01, "llm": 0.02}  # relative accuracy change the RRAM results call equal accuracy
EXCLUDE = {"retriever": ["*pooler*"], "llm": ["lm_head"]}  # the unused BERT pooler; the tied head stays digital


@dataclass(frozen=True)
class Point:
    """One measured setting of ``llmkb rram prune``: a method family at ``key_bits``, or, with ``mixed_budget``, its
    mixed-precision run over ``mixed_bits`` at that fraction of the dense crossbars."""

    family: str
    key_bits: int = 7
    mixed_budget: float | None = None
    mixed_bits: tuple[int, ...] = (5, 7)

    @property
    def label(self) -> str:
        """The result's label in the run's report."""
        if self.mixed_budget is None:
            return f"{self.family}-{self.key_bits}b"
        return f"{self.family}-mixed{min(self.mixed_bits)}-{max(self.mixed_bits)}b-{self.mixed_budget:g}"

    def args(self) -> list[str]:
        if self.mixed_budget is None:
            return ["--methods", self.family, "--key-bits", str(self.key_bits)]
        return ["--methods", "dense", "--mixed", f"{self.mixed_budget:g}", "--mixed-families", self.family,
                "--mixed-bits", ",".join(map(str, self.mixed_bits))]

    def settings(self) -> dict:
        """:meth:`args` as ``PruneConfig`` fields."""
        if self.mixed_budget is None:
            return {"methods": self.family, "key_bits": (self.key_bits,)}
        return {"methods": "dense", "mixed_budget": (self.mixed_budget,), "mixed_families": self.family,
                "mixed_bits": self.mixed_bits}


@dataclass(frozen=True)
class Recipe:
    """How a pruned component is built: per model, the best family's measured point within tolerance in
    docs/RESULTS.md ("RRAM, measured honestly"), whichever family that is."""

    retriever: Point = Point("gptq-mse", mixed_budget=0.6)  # +0.2% R@50 on valid and test, 3,150 crossbars
    llm: Point = Point("reconstruct", 7)  # +1.5% perplexity; gptq-7b (+0.6%) has its crossbars and 0.6% more energy
    steps: int = 32  # progressive retraining, for the pruned model and its dense reference alike
    calibration_batches: int = 4  # activation importance and the Hessians of the compensated families
    batch_size: int = 8  # (query, document) pairs per retriever retraining batch
    split: str = "valid"  # where accuracy is measured (the retriever's samples, the LLM's ReDial dialogues)

    def point(self, kind: str) -> Point:
        return self.retriever if kind == "retriever" else self.llm

    def args(self, kind: str, source: Path, dataset: str, out: Path) -> list[str]:
        """The ``llmkb rram prune`` arguments that build and measure the pruned ``kind``."""
        args = ["rram", "prune", "--model", str(source), "--out", str(out), *self.point(kind).args(), "--steps",
                str(self.steps), "--calibrate", str(self.calibration_batches), "--tolerance", str(TOLERANCE[kind]),
                "--technology", TECHNOLOGY, "--skip-float", "--split", self.split]
        return args + (["--dataset", dataset, "--batch-size", str(self.batch_size)] if kind == "retriever" else [])

    def prune_config(self, kind: str, source: Path, dataset: str, out: Path, data_dir: Path | None = None) -> PruneConfig:
        """The run :meth:`args` describes, as the config ``llmkb.prune`` takes."""
        retriever = {"dataset": dataset, "batch_size": self.batch_size} if kind == "retriever" else {}
        return PruneConfig(model=str(source), out=out, **self.point(kind).settings(), steps=self.steps,
                           calibrate=self.calibration_batches, tolerance=TOLERANCE[kind], technology=TECHNOLOGY,
                           skip_float=True, split=self.split, data_dir=data_dir, **retriever)


RECIPE = Recipe()


@dataclass
class Backbone:
    name: str
    retriever: Path | None  # None: the recommender's default (calibrated if built, else packaged)
    llm: Path | None  # None: the packaged LLM
    costs: dict[str, dict] = field(default_factory=dict)  # kind → {"dense": summary[, "rram": summary, "accuracy"]}

    @property
    def pruned(self) -> tuple[str, ...]:
        return PRUNED[self.name]


def component_dir(kind: str, source: Path, dataset: str, root: Path | None = None, recipe: Recipe = RECIPE) -> Path:
    root = Path(root) if root is not None else artifacts_dir() / "backbones"
    recipe = hashlib.sha256(json.dumps(recipe.args(kind, Path("."), dataset, Path("."))).encode()).hexdigest()
    name = f"retriever-{dataset}" if kind == "retriever" else kind
    return root / f"{name}-{model_fingerprint(source)[:16]}-{recipe[:8]}"


def dense_costs(kind: str, source: Path, root: Path | None = None) -> dict:
    """The dense 8-bit cost summary of ``source`` (cached as JSON; seconds to compute)."""
    root = Path(root) if root is not None else artifacts_dir() / "backbones"
    path = root / f"{kind}-{model_fingerprint(source)[:16]}-dense.json"
    if path.is_file():
        return json.loads(path.read_text())
    model = LOADERS[kind](Path(source))
    dense = rram.convert(model, rram.RRAMConfig.build(method="dense"), exclude=EXCLUDE[kind])
    summary = rram.model_cost(dense, TECHNOLOGY).summary()
    atomic_write_json(path, summary)
    return summary


def _load_retriever(source: Path) -> nn.Module:
    return load_encoder(source)


def _load_llm(source: Path) -> nn.Module:
    from llmkb.generation.llm import load_llm

    return load_llm(source)[0]


LOADERS = {"retriever": _load_retriever, "llm": _load_llm}


def build_component(kind: str, source: Path, dataset: str = "redial", root: Path | None = None,
                    progress: bool = True, recipe: Recipe = RECIPE, data_dir: Path | None = None) -> Path:
    """The folder of the pruned ``kind`` ("retriever" or "llm") built from ``source``; built when missing (minutes:
    the ``llmkb rram prune`` run of ``recipe.args`` retrains and evaluates it and a dense copy)."""
    from llmkb.prune import llm_task, method_configs, prune, retriever_task
    from rram import render

    target = component_dir(kind, source, dataset, root, recipe)
    if (target / "cost.json").is_file():
        return target
    if not Path(source).exists():
        raise ModelError(f"cannot prune the {kind}: {source} does not exist")
    with atomic_directory(target, complete="cost.json") as tmp:
        command = recipe.args(kind, Path(source), dataset, target / "run")
        if progress:
            print(f"Pruning the {kind} ({source}) onto RRAM crossbars and measuring it, once, into {target}:\n"
                  f"  llmkb {' '.join(command)}", flush=True)
        config = recipe.prune_config(kind, Path(source), dataset, tmp / "run", data_dir)
        task = (retriever_task if kind == "retriever" else llm_task)(config, Path(source))
        kept: dict[str, nn.Module] = {}
        report = prune(config, task, method_configs(config), keep=kept)
        report.meta["command"] = "llmkb " + " ".join(command)
        render.write_all(report, tmp / "run")
        results = {r.name: r for r in report.results}
        point = recipe.point(kind)
        dense, ours = results["dense"], results[point.label]
        change = (ours.accuracy - dense.accuracy) / abs(dense.accuracy)  # relative, as the tolerance is
        within = change >= -TOLERANCE[kind] if report.higher_is_better else change <= TOLERANCE[kind]
        model = rram.to_linear(kept[point.label])
        if kind == "retriever":
            model.save(str(tmp / "model"))
        else:
            from llmkb.generation.llm import load_llm

            model.save_pretrained(tmp / "model")
            load_llm(source)[1].save_pretrained(tmp / "model")
        meta = {"source": str(source), "method": point.label, "recipe": asdict(recipe), "technology": TECHNOLOGY,
                "exclude": EXCLUDE[kind],
                "serving": "baked effective weights (ideal crossbar computation)",
                "dense": dense.cost, "rram": ours.cost,
                "accuracy": {"metric": report.metric, "dense": dense.accuracy, "pruned": ours.accuracy,
                             "change": change, "tolerance": TOLERANCE[kind], "within_tolerance": within,
                             "reference": reference_note(source),
                             "run": str(target / "run" / "report.json")}}
        (tmp / "cost.json").write_text(json.dumps(meta, indent=2))
    return target


def prepare(name: str, dataset: str, root: Path | None = None, retriever: Path | None = None,
            llm: Path | None = None, progress: bool = True, recipe: Recipe = RECIPE,
            data_dir: Path | None = None) -> Backbone:
    """Model paths and costs of backbone ``name`` for ``dataset``; its pruned components are built on first use.

    ``retriever`` / ``llm``: source models (default: the dataset's dense retriever and the packaged LLM).
    Dense costs of both components are always filled in; a pruned one adds its own and its measured accuracy.
    """
    if name not in BACKBONES:
        raise ModelError(f"unknown backbone {name!r}; choose one of {', '.join(BACKBONES)}")
    sources = {"retriever": Path(retriever) if retriever else best_available(dataset),
               "llm": Path(llm) if llm else default_llm_path()}
    costs_ = {kind: {"dense": dense_costs(kind, source, root)} for kind, source in sources.items()}
    pruned = PRUNED[name]
    built = {kind: build_component(kind, sources[kind], dataset, root, progress, recipe, data_dir) for kind in pruned}
    for kind, path in built.items():
        meta = json.loads((path / "cost.json").read_text())
        costs_[kind].update(rram=meta["rram"], accuracy=meta["accuracy"])
    return Backbone(
        name,
        retriever=built["retriever"] / "model" if "retriever" in pruned else retriever,
        llm=built["llm"] / "model" if "llm" in pruned else llm,
        costs=costs_,
    )
