"""Retrieval: the user representation (query), the dense retriever over the KB, and its fine-tuning."""

from llmkb.retrieval.index import DenseIndex
from llmkb.retrieval.query import PreferenceDetector, QueryBuilder, QueryConfig
from llmkb.retrieval.retriever import DenseRetriever, best_available, finetuned_path, load_encoder

__all__ = ["DenseIndex", "PreferenceDetector", "QueryBuilder", "QueryConfig", "DenseRetriever", "best_available",
           "finetuned_path", "load_encoder"]
