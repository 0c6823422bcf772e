"""``PruneConfig``: everything one ``llmkb rram prune`` run needs, as one frozen dataclass.

The command line converts its flags into it at the edge (``llmkb.cli.rram``), and the demo's backbone recipe builds
one directly (``llmkb.app.backbone.Recipe``); the flags take their defaults from here, so each default lives once.

>>> config = PruneConfig(model="llm", out=Path("out"), key_bits=(4, 6))
>>> config.key_bits, config.rows, config.with_absolute_paths().out.is_absolute()
((4, 6), 128, True)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from pathlib import Path

MODELS = ("retriever", "llm")


@dataclass(frozen=True)
class PruneConfig:
    model: str  # "retriever", "llm", or a path (a sentence-transformers dir, a HF causal LM dir or a .gguf file)
    out: Path  # report.json, report.md, pareto.png and the results cache
    split: str = "valid"  # where settings are chosen
    report_split: str | None = None  # also measured there: the dense reference and every result within tolerance
    seed: int = 0
    budget: float | None = None  # minutes: start no new method after that
    data_dir: Path | None = None
    # the crossbar
    rows: int = 128
    cols: int = 128
    bits_per_cell: int = 2
    encoding: str = "differential"
    dac_bits: int = 1
    technology: str = "isaac32"
    input_bits: int = 8
    skip_zero_slices: bool = False
    # methods and sweeps
    weight_bits: int = 8
    key_bits: tuple[int, ...] = (4,)
    sparsity: tuple[float, ...] = (0.5,)
    prune_fraction: tuple[float, ...] = (0.0,)
    scales: str = "integer"
    mixed_bits: tuple[int, ...] = (5, 7)
    mixed_budget: tuple[float, ...] = ()
    mixed_families: str = "reconstruct"
    methods: str = "all"
    tolerance: float | None = None
    # retraining and calibration
    steps: int = 0
    lr: float = 1e-5
    batch_size: int = 8
    schedule: str = "linear"
    calibrate: int = 4
    no_retrain_dense: bool = False
    skip_float: bool = False
    # the retriever's task
    dataset: str = "inspired"
    protocol: str = "std"
    metric: str = "recall@50"
    # the LLM's task
    window: int = 256
    eval_windows: int = 64
    include_head: bool = False
    # scale-out (llmkb.scale)
    workers: int | None = None
    cpus_per_worker: int | None = None
    address: str | None = None

    def __post_init__(self) -> None:
        for name in ("key_bits", "sparsity", "prune_fraction", "mixed_bits", "mixed_budget"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "out", Path(self.out))
        if self.data_dir is not None:
            object.__setattr__(self, "data_dir", Path(self.data_dir))

    @classmethod
    def from_args(cls, args) -> "PruneConfig":
        """The config of parsed ``llmkb rram prune`` arguments (names they do not have keep their defaults)."""
        return cls(**{f.name: getattr(args, f.name) for f in fields(cls) if hasattr(args, f.name)})

    def with_absolute_paths(self) -> "PruneConfig":
        """As a Ray worker needs it: paths absolute (a worker may start in another directory)."""
        return dataclasses.replace(self, out=self.out.resolve(),
                                   data_dir=self.data_dir.resolve() if self.data_dir else None)


DEFAULTS = {f.name: f.default for f in fields(PruneConfig) if f.default is not dataclasses.MISSING}
