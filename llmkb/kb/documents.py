"""One knowledge-base document per catalogue item (LLMKB step 1), from the KG, metadata and training co-mentions.

>>> doc = KBDocument("1", "Heat", 1995, facts={"director": ["Michael Mann"]})
>>> render_text(doc)
'Heat (1995). Directed by Michael Mann.'
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from itertools import combinations

from llmkb.data.dataset import Dataset
from llmkb.data.records import CatalogItem, Dialogue
from llmkb.data.samples import mention_counts

# Metadata fields of id2info.json, mapped onto the KG's relation phrases so both sources merge.
METADATA_RELATIONS = {"genre": "genre", "director": "director", "writer": "writer", "star": "starring"}
# How a relation reads in a document, in the order documents list them; others read "<relation>: values".
PHRASES = {
    "genre": "Genre: {}", "director": "Directed by {}", "writer": "Written by {}", "starring": "Starring {}",
    "music composer": "Music by {}", "producer": "Produced by {}", "production company": "Production company: {}",
    "distributor": "Distributed by {}", "previous work": "Sequel to {}", "subsequent work": "Followed by {}",
}
MAX_VALUES = 6  # per relation, to keep documents compact
MAX_CO_MENTIONS = 5
MAX_TWO_HOP = 3
TWO_HOP_RELATIONS = ("director", "starring")


@dataclass
class KBDocument:
    item_id: str
    title: str
    year: int | None = None
    facts: dict[str, list[str]] = field(default_factory=dict)  # relation phrase → values (KG 1-hop ∪ metadata)
    plot: str = ""
    related: dict[str, list[str]] = field(default_factory=dict)  # 2-hop: "Also directed by X" → other titles
    co_mentions: dict[str, str] = field(default_factory=dict)  # item id → title, often mentioned together in training
    sources: list[str] = field(default_factory=list)  # which knowledge went in: kg, metadata, dialogues
    text: str = ""

    @property
    def display(self) -> str:
        return f"{self.title} ({self.year})" if self.year else self.title

    def to_json(self) -> dict:
        return asdict(self)


def render_text(doc: KBDocument) -> str:
    parts = [doc.display + "."]
    ordered = [r for r in PHRASES if r in doc.facts] + sorted(r for r in doc.facts if r not in PHRASES)
    for relation in ordered:
        values = ", ".join(doc.facts[relation])
        parts.append(PHRASES.get(relation, relation.capitalize() + ": {}").format(values) + ".")
        if relation == "genre" and doc.plot:
            parts.append(f"Plot: {doc.plot}")
    if doc.plot and "genre" not in doc.facts:
        parts.insert(1, f"Plot: {doc.plot}")
    parts += [f"{label}: {', '.join(titles)}." for label, titles in doc.related.items()]
    if doc.co_mentions:
        parts.append(f"Often mentioned with: {', '.join(doc.co_mentions.values())}.")
    return " ".join(parts)


def _merge(values: list[str], more: list[str]) -> list[str]:
    seen = {v.lower() for v in values}
    return values + [v for v in more if v.lower() not in seen and not seen.add(v.lower())]


def co_mention_counts(dialogues: list[Dialogue]) -> dict[str, Counter]:
    """Item → Counter of items mentioned in the same dialogue."""
    counts: dict[str, Counter] = {}
    for dialogue in dialogues:
        items = sorted({item for turn in dialogue.turns for item in turn.items})
        for a, b in combinations(items, 2):
            counts.setdefault(a, Counter())[b] += 1
            counts.setdefault(b, Counter())[a] += 1
    return counts


def build_documents(dataset: Dataset, co_mention_dialogues: list[Dialogue]) -> list[KBDocument]:
    """Documents for every catalogue item, in catalogue order. ``co_mention_dialogues`` must be training dialogues."""
    kg, catalog = dataset.kg, dataset.catalog
    by_entity: dict[int, list[str]] = {}  # person/genre entity → catalogue items linked to it (for 2-hop facts)
    item_facts: dict[str, dict[str, list[int]]] = {}
    for item, entity in dataset.item_entities.items():
        item_facts[item] = kg.facts(entity)
        for relation in TWO_HOP_RELATIONS:
            for tail in item_facts[item].get(relation, []):
                by_entity.setdefault(tail, []).append(item)
    co_mentions = co_mention_counts(co_mention_dialogues)
    popularity = mention_counts(co_mention_dialogues)
    misattributed = misattributed_metadata(dataset, set(item_facts))

    documents = []
    for item_id, item in catalog.items():
        doc = KBDocument(item_id, item.title, item.year)
        for relation, tails in item_facts.get(item_id, {}).items():
            doc.facts[relation] = list(dict.fromkeys(kg.name(t) for t in tails))[:MAX_VALUES]
            for tail in tails if relation in TWO_HOP_RELATIONS else []:
                others = [catalog[o].display for o in by_entity.get(tail, []) if o != item_id][:MAX_TWO_HOP]
                label = f"Also {'directed by' if relation == 'director' else 'starring'} {kg.name(tail)}"
                if others and len(doc.related) < 2:
                    doc.related[label] = others
        if item_facts.get(item_id):
            doc.sources.append("kg")
        info = dataset.metadata.get(item_id) if item_id not in misattributed else None
        if info:
            for key, relation in METADATA_RELATIONS.items():
                merged = _merge(doc.facts.get(relation, []), [str(v).strip() for v in info.get(key, [])])
                if merged:
                    doc.facts[relation] = merged[:MAX_VALUES]
            doc.plot = str(info.get("plot", "")).strip()
            doc.sources.append("metadata")
        ranked = sorted(co_mentions.get(item_id, {}).items(), key=lambda kv: (-kv[1], -popularity[kv[0]], kv[0]))
        doc.co_mentions = {other: catalog[other].display for other, _ in ranked[:MAX_CO_MENTIONS]}
        if doc.co_mentions:
            doc.sources.append("dialogues")
        doc.text = render_text(doc)
        documents.append(doc)
    return documents


def misattributed_metadata(dataset: Dataset, linked: set[str]) -> set[str]:
    """Items whose metadata is another film's: its plot is word for word that of a differently titled item the KG
    links (the mirror's id2info.json gives "It (1990)" the metadata of Goodfellas). Their metadata is left out."""
    def title(item_id: str) -> str:
        return re.sub(r"^(the|a|an) ", "", " ".join(re.findall(r"[a-z0-9]+", dataset.catalog[item_id].title.lower())))

    owners: dict[str, set[str]] = {}
    for item_id in linked:
        plot = str(dataset.metadata.get(item_id, {}).get("plot", "")).strip()
        if plot and item_id in dataset.catalog:
            owners.setdefault(plot, set()).add(title(item_id))
    return {item_id for item_id, info in dataset.metadata.items()
            if item_id in dataset.catalog and item_id not in linked
            and owners.get(str(info.get("plot", "")).strip(), {title(item_id)}) - {title(item_id)}}


def title_only(item: CatalogItem) -> KBDocument:
    doc = KBDocument(item.item_id, item.title, item.year)
    doc.text = render_text(doc)
    return doc
