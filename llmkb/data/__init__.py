"""Data layer: public files → typed records (catalogue items, dialogues, turns, samples)."""

from llmkb.data.dataset import DATASETS, SPLITS, Dataset, load_dataset
from llmkb.data.records import RECOMMENDER, SEEKER, CatalogItem, Dialogue, Sample, Turn
from llmkb.data.samples import PROTOCOLS, build_samples, count_pairs, mention_counts

__all__ = ["DATASETS", "SPLITS", "PROTOCOLS", "Dataset", "load_dataset", "CatalogItem", "Dialogue", "Sample",
           "Turn", "SEEKER", "RECOMMENDER", "build_samples", "count_pairs", "mention_counts"]
