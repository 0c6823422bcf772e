"""INSPIRED (Hayati et al., EMNLP 2020) as DBpedia-linked by UniCRS: one JSON list of turns per line.

Items are DBpedia URIs (the catalogue is ``item_ids.json`` through ``entity2id.json``); turns are kept as
published (no merging), and only ``movie_link`` URIs in the catalogue count as mentions.
"""

from __future__ import annotations

from pathlib import Path

from llmkb.data.io import read_json, read_jsonl, warn
from llmkb.data.kg import KnowledgeGraph, uri_name, uri_year
from llmkb.data.records import RECOMMENDER, SEEKER, CatalogItem, Dialogue, Turn
from llmkb.data.redial import split_title_year
from llmkb.errors import DataError

ROLES = {"RECOMMENDER": RECOMMENDER, "SEEKER": SEEKER}


def load_dialogues(path: str | Path, catalog: dict[str, CatalogItem]) -> list[Dialogue]:
    """Dialogue ids are line indices from 0, as the sample ids of PROTOCOLS.md require."""
    path = Path(path)
    dialogues = []
    for line, record in read_jsonl(path, expect=list):
        turns = []
        for turn in record:
            if not isinstance(turn, dict) or turn.get("role") not in ROLES or not isinstance(turn.get("text"), str):
                warn("skipped a turn without a known role and a text", path, line)
                continue
            links = turn.get("movie_link") if isinstance(turn.get("movie_link"), list) else []
            items = tuple(dict.fromkeys(uri for uri in links if uri in catalog))
            turns.append(Turn(ROLES[turn["role"]], turn["text"], items))
        dialogues.append(Dialogue(str(line - 1), tuple(turns), source=str(path)))
    return dialogues


def load_catalog(folder: str | Path, kg: KnowledgeGraph, title_sources: list[str | Path]) -> dict[str, CatalogItem]:
    """The 1,472 movies of ``item_ids.json``, keyed by URI.

    Titles and years come from the ``movie`` annotations of ``title_sources`` (training and validation files only,
    never test), falling back to the URI's name and its ``(YYYY film)`` disambiguation.
    """
    folder = Path(folder)
    item_ids = read_json(folder / "item_ids.json")
    if not isinstance(item_ids, list):
        raise DataError("expected a JSON list of entity ids", path=folder / "item_ids.json")
    annotated: dict[str, tuple[str, int | None]] = {}
    for source in map(Path, title_sources):
        for _, record in read_jsonl(source, expect=list):
            for turn in record:
                if not isinstance(turn, dict):
                    continue
                movies, links = turn.get("movie") or [], turn.get("movie_link") or []
                if len(movies) == len(links):
                    for movie, uri in zip(movies, links):
                        annotated.setdefault(uri, split_title_year(movie))
    catalog = {}
    for entity in item_ids:
        uri = kg.uris.get(int(entity))
        if uri is None:
            warn(f"item {entity} is not in entity2id.json; skipped", folder / "item_ids.json")
            continue
        title, year = annotated.get(uri, (uri_name(uri), uri_year(uri)))
        catalog[uri] = CatalogItem(uri, title, year or uri_year(uri))
    return catalog
