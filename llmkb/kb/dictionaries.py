"""Mapping dictionaries (LLMKB step 1): entity → name, relation → phrase, relation → the set of its values.

The value sets let later stages spot genres, people and other KG values in dialogue text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from llmkb.data.dataset import Dataset

# Metadata fields of id2info.json, mapped onto the KG's relation phrases so both sources merge.
METADATA_RELATIONS = {"genre": "genre", "director": "director", "writer": "writer", "star": "starring"}


@dataclass
class MappingDictionaries:
    entity_names: dict[int, str]  # KG entity id → readable name
    relation_phrases: dict[int, str]  # KG relation id → phrase ("director", "music composer", ...)
    relation_values: dict[str, set[str]] = field(default_factory=dict)  # phrase → every value seen for the catalogue

    def values_of(self, relation: str) -> set[str]:
        return self.relation_values.get(relation, set())


def build_dictionaries(dataset: Dataset) -> MappingDictionaries:
    """Dictionaries over the catalogue's 1-hop KG facts and its metadata."""
    kg = dataset.kg
    names: dict[int, str] = {}
    values: dict[str, set[str]] = {}
    for entity in dataset.item_entities.values():
        for relation, tails in kg.facts(entity).items():
            for tail in tails:
                names[tail] = kg.name(tail)
                values.setdefault(relation, set()).add(names[tail])
    for info in dataset.metadata.values():
        for key, relation in METADATA_RELATIONS.items():
            values.setdefault(relation, set()).update(v.strip() for v in info.get(key, []) if v.strip())
    for item in dataset.catalog.values():
        values.setdefault("title", set()).add(item.title)
    return MappingDictionaries(names, dict(kg.relations), values)
