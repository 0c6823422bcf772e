"""Evaluation: the protocols' metrics, baseline systems, and the harness that writes predictions and reports."""

from llmkb.evaluation.harness import Run, evaluate
from llmkb.evaluation.metrics import aggregate, sample_metrics
from llmkb.evaluation.systems import SYSTEMS, make_system

__all__ = ["Run", "evaluate", "aggregate", "sample_metrics", "SYSTEMS", "make_system"]
