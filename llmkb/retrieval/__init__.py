"""Retrieval: the user representation (query), the dense retriever over the KB, and its fine-tuning."""

from llmkb.retrieval.index import DenseIndex
from llmkb.kb.facts import Preference
from llmkb.retrieval.query import QueryBuilder, QueryConfig, TurnState
from llmkb.retrieval.artifacts import best_available, finetuned_path
from llmkb.retrieval.retriever import DenseRetriever, load_encoder

__all__ = ["DenseIndex", "Preference", "QueryBuilder", "QueryConfig", "TurnState", "DenseRetriever",
           "best_available", "finetuned_path", "load_encoder"]
