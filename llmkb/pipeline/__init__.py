"""The end-to-end recommender that chat, demo and evaluation share: its config, its stages, their fusion."""

from llmkb.pipeline.config import RecommenderConfig
from llmkb.pipeline.recommender import Recommendation, Recommended, Recommender
from llmkb.pipeline.stages import Stages

__all__ = ["Recommendation", "Recommended", "Recommender", "RecommenderConfig", "Stages"]
