"""Pruning the retriever or the LLM onto simulated RRAM crossbars with every method, for ``llmkb rram prune`` and
the demo's pruned backbones: the run's configuration (``config``), the two models as tasks (``tasks``), and the
sweep over the methods (``sweep``)."""

from llmkb.prune.config import MODELS, PruneConfig
from llmkb.prune.sweep import method_configs, prune
from llmkb.prune.tasks import Task, build_task, llm_task, model_kind, retriever_task

__all__ = ["MODELS", "PruneConfig", "Task", "build_task", "llm_task", "method_configs", "model_kind", "prune",
           "retriever_task"]
