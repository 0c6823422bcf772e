"""The end-to-end recommender that chat, demo and evaluation share."""

from llmkb.pipeline.recommender import Recommendation, Recommended, Recommender, RecommenderConfig

__all__ = ["Recommendation", "Recommended", "Recommender", "RecommenderConfig"]
