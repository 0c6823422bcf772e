"""Item representations learnt from the training dialogues and the KB graph, as candidate sources and features.

- ``item2vec``: skip-gram (gensim ``Word2Vec``) over each training dialogue's mentioned movies, so movies
  mentioned in the same conversations end up close;
- ``graph``: DeepWalk-style uniform random walks over the KB graph (each item linked to the facts it holds: people,
  genres, studios, series, ... from DBpedia and the movie metadata) plus the training co-mention edges, embedded by
  the same skip-gram. A linked preference ("Martin Scorsese") is a node too, so it places a user even before any
  movie is named.

A user's profile is the recency-weighted mean of the vectors of the dialogue's movies (most recent weight 1, then
1/2, 1/3, ...) and, in the graph, of its wanted preferences; items are scored by their cosine to it.

>>> vectors = ItemVectors(["a", "b", "c"], np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]]))
>>> [item for item, _ in vectors.nearest(vectors.profile(["a"]), 2)]
['a', 'b']
>>> round(vectors.cosines(vectors.profile(["c"]), ["a", "c", "unknown"])[1], 3)
1.0
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from llmkb.data.records import Dialogue
from llmkb.kb.facts import FactIndex, Preference, value_key

DIMENSIONS = 64
WALKS_PER_NODE, WALK_LENGTH = 8, 16
MAX_FACT_ITEMS = 400  # facts held by more items ("drama", "English") say little and swamp the walks
EPOCHS = {"item2vec": 30, "graph": 3}  # item2vec's sentences are few and short


@dataclass
class ItemVectors:
    """Unit vectors of items (and, for the graph, of fact nodes), with cosine search over the catalogue items."""

    ids: list[str]  # catalogue items first, then other nodes
    vectors: np.ndarray  # rows normalised below
    items: int | None = None  # how many of ``ids`` are catalogue items (the search space); None: all

    def __post_init__(self) -> None:
        norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
        self.vectors = (self.vectors / np.maximum(norms, 1e-9)).astype(np.float32)
        self.position = {node: n for n, node in enumerate(self.ids)}
        self.items = len(self.ids) if self.items is None else self.items

    def profile(self, nodes: Sequence[str]) -> np.ndarray | None:
        """Recency-weighted mean of the known ``nodes`` (most recent first); None when none is known."""
        known = [(1.0 / (1 + rank), self.position[n]) for rank, n in enumerate(nodes) if n in self.position]
        if not known:
            return None
        weights, rows = zip(*known)
        mean = np.asarray(weights, dtype=np.float32) @ self.vectors[list(rows)]
        return mean / max(float(np.linalg.norm(mean)), 1e-9)

    def nearest(self, profile: np.ndarray | None, k: int) -> list[tuple[str, float]]:
        """The ``k`` catalogue items closest to ``profile``, best first (none without a profile)."""
        if profile is None or k <= 0:
            return []
        scores = self.vectors[: self.items] @ profile
        top = np.argsort(-scores, kind="stable")[:k]
        return [(self.ids[i], float(scores[i])) for i in top]

    def cosines(self, profile: np.ndarray | None, items: Sequence[str]) -> list[float]:
        """Each item's cosine to ``profile``; 0 for unknown items or without a profile."""
        if profile is None:
            return [0.0] * len(items)
        return [float(self.vectors[self.position[i]] @ profile) if i in self.position else 0.0 for i in items]

    def max_cosines(self, nodes: Sequence[str], items: Sequence[str]) -> list[float]:
        """Each item's highest cosine to any single one of the known ``nodes`` (0 when none is known)."""
        rows = [self.position[n] for n in nodes if n in self.position]
        if not rows:
            return [0.0] * len(items)
        known = self.vectors[rows]
        return [float((known @ self.vectors[self.position[i]]).max()) if i in self.position else 0.0
                for i in items]


def skipgram(sentences: list[list[str]], epochs: int, window: int, seed: int) -> tuple[list[str], np.ndarray]:
    """Skip-gram vectors of every token (one worker and a fixed seed, so the same input gives the same vectors)."""
    from gensim.models import Word2Vec

    model = Word2Vec(sentences, vector_size=DIMENSIONS, window=window, min_count=1, sg=1, negative=5,
                     epochs=epochs, seed=seed, workers=1, sample=0)
    return list(model.wv.index_to_key), model.wv.vectors.copy()


def learnt(kind: str, inputs, catalog: Iterable[str], learn: Callable[[], tuple[list[str], np.ndarray]],
           cache: Path | None) -> ItemVectors:
    """``learn()``'s vectors as :class:`ItemVectors` (catalogue items first), from ``cache`` when the same
    ``inputs`` were learnt before (:func:`cached`)."""
    tokens, vectors = cached(kind, inputs, learn, cache)
    catalog = set(catalog)
    order = sorted(range(len(tokens)), key=lambda n: (tokens[n] not in catalog, tokens[n]))
    return ItemVectors([tokens[n] for n in order], vectors[order], sum(t in catalog for t in tokens))


def cached(kind: str, inputs, learn: Callable[[], tuple[list[str], np.ndarray]],
           cache: Path | None) -> tuple[list[str], np.ndarray]:
    """``learn()``'s tokens and vectors, kept in ``cache`` (:func:`cache_file`)."""
    path = cache_file(kind, inputs, cache)
    if path and path.is_file():
        with np.load(path) as stored:
            return [str(t) for t in stored["tokens"]], stored["vectors"]
    return learn_into(path, learn)


def cache_file(kind: str, inputs, cache: Path | None) -> Path | None:
    """Where the vectors learnt from ``inputs`` are kept: a file keyed by their hash."""
    key = hashlib.sha256(json.dumps([kind, inputs, DIMENSIONS, EPOCHS[kind]], sort_keys=True).encode()).hexdigest()
    return cache / f"{kind}-{key[:16]}.npz" if cache else None


def learn_into(path: Path | None, learn: Callable[[], tuple[list[str], np.ndarray]]) -> tuple[list[str], np.ndarray]:
    """``learn()``'s tokens and vectors, written atomically to ``path`` when given."""
    tokens, vectors = learn()
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
        with open(tmp, "wb") as out:
            np.savez(out, tokens=np.array(tokens), vectors=vectors)
        tmp.replace(path)
    return tokens, vectors


def mention_sequences(dialogues: Iterable[Dialogue]) -> list[list[str]]:
    """Each dialogue's movies in the order first mentioned (dialogues with fewer than two are left out)."""
    sequences = []
    for dialogue in dialogues:
        seen = list(dict.fromkeys(item for turn in dialogue.turns for item in turn.items))
        if len(seen) > 1:
            sequences.append(seen)
    return sequences


def train_item2vec(dialogues: Sequence[Dialogue], catalog: Iterable[str], seed: int = 13,
                   cache: Path | None = None) -> ItemVectors | None:
    """item2vec over the dialogues' mention sequences; None when no dialogue mentions two movies."""
    sequences = mention_sequences(dialogues)
    if not sequences:
        return None
    window = max(map(len, sequences))
    return learnt("item2vec", [sequences, seed], catalog,
                  lambda: skipgram(sequences, EPOCHS["item2vec"], window=window, seed=seed), cache)


def fact_node(relation: str, key: str) -> str:
    return f"{relation}={key}"


def graph_edges(facts: FactIndex, co_mentions: Mapping[str, Mapping[str, int]]) -> dict[str, list[str]]:
    """Adjacency lists: item ↔ each fact it holds (facts of 2 to ``MAX_FACT_ITEMS`` items), item ↔ co-mentioned item."""
    edges: dict[str, list[str]] = {}
    for (relation, key), holders in sorted(facts.postings.items()):
        if 2 <= len(holders) <= MAX_FACT_ITEMS and relation != "studio":  # studios repeat the company facts
            node = fact_node(relation, key)
            for item in sorted(holders):
                edges.setdefault(item, []).append(node)
                edges.setdefault(node, []).append(item)
    for item, others in sorted(co_mentions.items()):
        for other in sorted(others):
            if other != item:
                edges.setdefault(item, []).append(other)
    return edges


def random_walks(edges: Mapping[str, Sequence[str]], seed: int) -> list[list[str]]:
    """``WALKS_PER_NODE`` uniform walks of ``WALK_LENGTH`` nodes from every node (DeepWalk)."""
    rng, walks = random.Random(seed), []
    nodes = sorted(edges)
    for _ in range(WALKS_PER_NODE):
        rng.shuffle(nodes)
        for start in nodes:
            walk = [start]
            while len(walk) < WALK_LENGTH:
                nxt = edges.get(walk[-1])
                if not nxt:
                    break
                walk.append(nxt[rng.randrange(len(nxt))])
            walks.append(walk)
    return walks


def train_graph(facts: FactIndex, co_mentions: Mapping[str, Mapping[str, int]], catalog: Iterable[str],
                seed: int = 13, cache: Path | None = None) -> ItemVectors | None:
    """Graph embeddings of the KB facts plus the co-mention edges; None for an empty graph."""
    edges = graph_edges(facts, co_mentions)
    if not edges:
        return None
    return learnt("graph", graph_inputs(edges, seed), catalog, partial(learn_graph, edges, seed), cache)


def graph_inputs(edges: Mapping[str, Sequence[str]], seed: int) -> list:
    return [sorted(edges.items()), WALKS_PER_NODE, WALK_LENGTH, seed]


def learn_graph(edges: Mapping[str, Sequence[str]], seed: int) -> tuple[list[str], np.ndarray]:
    return skipgram(random_walks(edges, seed), EPOCHS["graph"], window=5, seed=seed)


def cache_graphs(graphs: Sequence[tuple[FactIndex, Mapping[str, Mapping[str, int]]]], cache: Path, seed: int = 13,
                 threads: int | None = None, progress: bool = True) -> None:
    """Learn the graph embeddings of several (facts, co-mentions) into ``cache``, ``threads`` (default: one per CPU)
    at a time, so that :func:`train_graph` then reads them. gensim trains without holding the GIL, and each model
    has one worker, so the vectors are the ones :func:`train_graph` would learn alone (gensim's multi-worker
    training is not reproducible)."""
    missing = {}
    for facts, co_mentions in graphs:
        edges = graph_edges(facts, co_mentions)
        path = cache_file("graph", graph_inputs(edges, seed), cache)
        if edges and not path.is_file():
            missing[path] = partial(learn_graph, edges, seed)
    if not missing:
        return
    with ThreadPoolExecutor(min(threads or os.cpu_count() or 1, len(missing))) as pool, \
            tqdm(total=len(missing), desc="graph embeddings", unit="graph", disable=not progress) as bar:
        for done in as_completed([pool.submit(learn_into, path, learn) for path, learn in missing.items()]):
            done.result()
            bar.update()


def preference_nodes(preferences: Sequence[Preference], facts: FactIndex) -> list[str]:
    """The graph nodes of the wanted preferences, most recent first: a movie's item, a fact's node (a person in
    each of their roles). Years and disliked facts have none."""
    nodes = []
    for p in sorted((p for p in preferences if p.polarity > 0), key=lambda p: -p.turn):
        if p.relation == "movie":
            nodes.append(p.value)
        elif p.relation == "person":
            key = value_key("person", p.value)
            nodes += [fact_node(role, key) for role in facts.roles.get(key, ())]
        elif p.relation != "year":
            nodes.append(fact_node(p.relation, value_key(p.relation, p.value)))
    return list(dict.fromkeys(nodes))
