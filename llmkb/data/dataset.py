"""One object per dataset that knows its files and loads each part on first use.

>>> ds = load_dataset("redial", data_dir)     # data_dir: where `llmkb data fetch` put the files (here a tiny world)
>>> len(ds.catalog), len(ds.test), len(ds.samples("test", "std"))  # the real ReDial: (6924, 1342, 3617)
(12, 2, 3)
"""

from __future__ import annotations

import random
from functools import cached_property
from pathlib import Path

from llmkb.data import inspired, redial
from llmkb.data.io import sha256_file
from llmkb.data.kg import KnowledgeGraph, load_kg
from llmkb.data.records import CatalogItem, Dialogue, Sample
from llmkb.data.samples import build_samples, by_mentions
from llmkb.paths import data_dir

DATASETS = ("redial", "inspired")
SPLITS = ("train", "valid", "test")
VALID_FRACTION, VALID_SEED = 0.10, 13

# Files each dataset reads, relative to the data directory. Optional files are used when present.
REDIAL_FILES = {
    "catalog": "redial/raw/movies_with_mentions.csv",
    "test": "redial/raw/test_data.jsonl",
    "train": ["redial/raw/train_data.jsonl",  # the full official file, optional: supply it yourself
              "redial/kgsf/valid_data.jsonl", "redial/cfcrs/valid_data.jsonl",
              "redial/kepler/train_data.jsonl", "redial/kepler/valid_data.jsonl"],
    "links": "redial/kgsf/id2entity.pkl",
    "metadata": "redial/cfcrs/id2info.json",
    "kg": "redial/unicrs",
}
INSPIRED_FILES = {
    "train": "inspired/unicrs/train_data_dbpedia.jsonl",
    "valid": "inspired/unicrs/valid_data_dbpedia.jsonl",
    "test": "inspired/unicrs/test_data_dbpedia.jsonl",
    "kg": "inspired/unicrs",
}
OPTIONAL_FILES = {"redial/raw/train_data.jsonl"}


def holdout_split(dialogues: list[Dialogue], fraction: float = VALID_FRACTION, seed: int = VALID_SEED
                  ) -> tuple[list[Dialogue], list[Dialogue]]:
    """Split by conversation, seeded and independent of file order: returns (train, valid)."""
    ids = sorted(d.dialogue_id for d in dialogues)
    random.Random(seed).shuffle(ids)
    valid_ids = set(ids[: round(len(ids) * fraction)])
    return [d for d in dialogues if d.dialogue_id not in valid_ids], [d for d in dialogues if d.dialogue_id in valid_ids]


class Dataset:
    """A dataset's catalogue, KG, metadata and splits, read from ``root`` (default: ``llmkb.paths.data_dir()``)."""

    def __init__(self, name: str, root: str | Path | None = None):
        if name not in DATASETS:
            raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
        self.name, self.root = name, Path(root) if root is not None else data_dir()
        self.files = REDIAL_FILES if name == "redial" else INSPIRED_FILES

    def path(self, relative: str) -> Path:
        return self.root / relative

    def input_files(self) -> list[Path]:
        """Every file this dataset reads (for manifests and cache keys); absent optional files are left out."""
        paths = []
        for value in self.files.values():
            for rel in value if isinstance(value, list) else [value]:
                path = self.path(rel)
                if path.is_dir():
                    paths += [path / "entity2id.json", path / "relation2id.json", path / "dbpedia_subkg.json"]
                    paths += [path / "item_ids.json"] if self.name == "inspired" else []
                elif rel not in OPTIONAL_FILES or path.exists():
                    paths.append(path)
        return paths

    def file_hashes(self) -> dict[str, str]:
        """Each input file, relative to the data folder → its sha256 (what a report records about its data)."""
        return {str(p.relative_to(self.root)): sha256_file(p) for p in self.input_files()}

    @cached_property
    def kg(self) -> KnowledgeGraph:
        return load_kg(self.path(self.files["kg"]))

    @cached_property
    def catalog(self) -> dict[str, CatalogItem]:
        if self.name == "redial":
            return redial.load_catalog(self.path(self.files["catalog"]))
        return inspired.load_catalog(self.path(self.files["kg"]), self.kg,
                                     [self.path(self.files["train"]), self.path(self.files["valid"])])

    @cached_property
    def _splits(self) -> dict[str, list[Dialogue]]:
        if self.name == "redial":
            train_files = [self.path(f) for f in self.files["train"] if f not in OPTIONAL_FILES or self.path(f).exists()]
            train, valid = holdout_split(redial.load_dialogues(train_files, self.catalog))
            test = redial.load_dialogues([self.path(self.files["test"])], self.catalog)
            return {"train": train, "valid": valid, "test": test}
        return {split: inspired.load_dialogues(self.path(self.files[split]), self.catalog) for split in SPLITS}

    def dialogues(self, split: str) -> list[Dialogue]:
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
        return self._splits[split]

    train = property(lambda self: self.dialogues("train"))
    valid = property(lambda self: self.dialogues("valid"))
    test = property(lambda self: self.dialogues("test"))

    def samples(self, split: str, protocol: str = "std") -> list[Sample]:
        return build_samples(self.dialogues(split), protocol)

    @cached_property
    def popularity(self) -> list[str]:
        """The whole catalogue by mention count in the training split (ties by id, so it is deterministic)."""
        return by_mentions(self.catalog, self.train)

    @cached_property
    def item_entities(self) -> dict[str, int]:
        """Catalogue id → KG entity id, for the items linked to the graph."""
        if self.name == "inspired":
            return {item: self.kg.entity_id(item) for item in self.catalog if self.kg.entity_id(item) is not None}
        links = redial.load_movie_links(self.path(self.files["links"]))
        linked = {item: self.kg.entity_id(links[item]) for item in self.catalog if item in links}
        return {item: entity for item, entity in linked.items() if entity is not None}

    @cached_property
    def metadata(self) -> dict[str, dict]:
        """Catalogue id → {genre, plot, director, writer, star}. INSPIRED borrows ReDial's by exact title and year."""
        if self.name == "redial":
            return redial.load_metadata(self.path(REDIAL_FILES["metadata"]))
        source = self.path(REDIAL_FILES["metadata"])
        if not source.exists():
            return {}
        redial_catalog = redial.load_catalog(self.path(REDIAL_FILES["catalog"]))
        by_title = {(item.title.lower(), item.year): movie for movie, item in redial_catalog.items() if item.year}
        info = redial.load_metadata(source)
        matched = {item_id: by_title.get((item.title.lower(), item.year)) for item_id, item in self.catalog.items()}
        return {item_id: info[movie] for item_id, movie in matched.items() if movie in info}


def load_dataset(name: str, root: str | Path | None = None) -> Dataset:
    return Dataset(name, root)
