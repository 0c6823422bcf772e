"""DBpedia subgraphs as published with UniCRS: ``entity2id.json``, ``dbpedia_subkg.json``, ``relation2id.json``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import unquote

from llmkb.data.io import read_json, warn
from llmkb.errors import DataError

_RESOURCE = re.compile(r"^<?https?://dbpedia\.org/resource/(.*?)>?$")
_ONTOLOGY = re.compile(r"^<?https?://dbpedia\.org/ontology/(.*?)>?$")
_DISAMBIGUATION = re.compile(r"\s*\(([^()]*)\)\s*$")
_FILM_YEAR = re.compile(r"\b(\d{4})\b.*\bfilm\b|\bfilm\b.*\b(\d{4})\b")


def uri_name(uri: str) -> str:
    """``<http://dbpedia.org/resource/Joker_(2019_film)>`` → ``"Joker"`` (a readable entity name)."""
    match = _RESOURCE.match(uri)
    name = unquote(match.group(1)) if match else uri.strip("<>")
    name = name.split("__")[0].replace("_", " ")
    return _DISAMBIGUATION.sub("", name).strip() or name.strip()


def uri_year(uri: str) -> int | None:
    """The film year a DBpedia URI carries in its disambiguation, e.g. ``..._(2019_film)>`` → 2019."""
    match = _DISAMBIGUATION.search(unquote(uri.strip("<>")).replace("_", " "))
    year = match and _FILM_YEAR.search(match.group(1))
    return int(year.group(1) or year.group(2)) if year else None


def relation_phrase(relation: str) -> str:
    """``<http://dbpedia.org/ontology/musicComposer>`` → ``"music composer"``."""
    match = _ONTOLOGY.match(relation)
    name = match.group(1) if match else relation.strip("<>")
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).replace("_", " ").lower()


@dataclass
class KnowledgeGraph:
    uris: dict[int, str]  # entity id → URI
    relations: dict[int, str]  # relation id → readable phrase ("director", "music composer", ...)
    edges: dict[int, list[tuple[int, int]]]  # head id → [(relation id, tail id)], self-loops removed

    @cached_property
    def _ids_by_uri(self) -> dict[str, int]:
        return {uri: entity for entity, uri in self.uris.items()}

    def entity_id(self, uri: str) -> int | None:
        return self._ids_by_uri.get(uri)

    def name(self, entity: int) -> str:
        return uri_name(self.uris.get(entity, str(entity)))

    def facts(self, head: int) -> dict[str, list[int]]:
        """Relation phrase → tail ids, for one head entity (1 hop)."""
        grouped: dict[str, list[int]] = {}
        for relation, tail in self.edges.get(head, []):
            grouped.setdefault(self.relations[relation], []).append(tail)
        return grouped


def load_kg(folder: str | Path) -> KnowledgeGraph:
    """Load the three UniCRS KG files from ``folder``; malformed edges are skipped with a warning."""
    folder = Path(folder)
    entity2id = read_json(folder / "entity2id.json")
    relation2id = read_json(folder / "relation2id.json")
    subkg = read_json(folder / "dbpedia_subkg.json")
    for name, value in (("entity2id.json", entity2id), ("relation2id.json", relation2id), ("dbpedia_subkg.json", subkg)):
        if not isinstance(value, dict):
            raise DataError(f"expected a JSON object, found {type(value).__name__}", path=folder / name)
    relations = {int(i): relation_phrase(r) for r, i in relation2id.items() if r != "self_loop"}
    edges: dict[int, list[tuple[int, int]]] = {}
    skipped = 0
    for head, pairs in subkg.items():
        for pair in pairs if isinstance(pairs, list) else [None]:
            if not (isinstance(pair, list) and len(pair) == 2):
                skipped += 1
            elif pair[0] in relations:  # self-loops carry no fact
                edges.setdefault(int(head), []).append((int(pair[0]), int(pair[1])))
    if skipped:
        warn(f"skipped {skipped} malformed edges", folder / "dbpedia_subkg.json")
    return KnowledgeGraph({int(i): uri for uri, i in entity2id.items()}, relations, edges)
