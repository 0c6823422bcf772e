"""Retrieval: the user representation (query), the dense retriever over the KB, and its fine-tuning."""

from llmkb.retrieval.index import DenseIndex
from llmkb.retrieval.query import Preference, PreferenceDetector, QueryBuilder, QueryConfig, TurnState
from llmkb.retrieval.retriever import DenseRetriever, best_available, finetuned_path, load_encoder

__all__ = ["DenseIndex", "Preference", "PreferenceDetector", "QueryBuilder", "QueryConfig", "TurnState", "DenseRetriever",
           "best_available", "finetuned_path", "load_encoder"]
