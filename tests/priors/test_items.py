"""Item representations: profiles and cosine search, the skip-gram inputs (mention sequences, the KB graph and its
walks), learning them deterministically and once per input, and where a linked preference sits in the graph."""

import numpy as np
import pytest

from llmkb.data.records import RECOMMENDER, SEEKER, Dialogue, Turn
from llmkb.kb.facts import FactIndex, Preference
from llmkb.priors import items as items_module
from llmkb.priors.items import (MAX_FACT_ITEMS, WALK_LENGTH, WALKS_PER_NODE, ItemVectors, cache_graphs, fact_node,
                                 graph_edges, mention_sequences, preference_nodes, random_walks, train_graph,
                                 train_item2vec)


def dialogue(dialogue_id: str, *turn_items: tuple[str, ...]) -> Dialogue:
    return Dialogue(dialogue_id, tuple(Turn(SEEKER if n % 2 == 0 else RECOMMENDER, "text", items)
                                       for n, items in enumerate(turn_items)))


DIALOGUES = [dialogue("1", ("a", "b"), ("c",)), dialogue("2", ("b",), ("c", "d")), dialogue("3", ("a",), ("d", "a")),
             dialogue("4", ("e",))]
CATALOG = ["a", "b", "c", "d", "e"]


def facts(postings: dict[tuple[str, str], set[str]], years: dict[str, int] | None = None) -> FactIndex:
    return FactIndex({rk: frozenset(items) for rk, items in postings.items()}, {rk: rk[1] for rk in postings},
                     years or {})


def test_profile_weights_the_most_recent_node_most():
    vectors = ItemVectors(["x", "y"], np.array([[1.0, 0.0], [0.0, 1.0]]))
    recent_x = vectors.profile(["x", "y"])  # weights 1 and 1/2
    assert recent_x[0] == pytest.approx(2 / np.sqrt(5)) and recent_x[1] == pytest.approx(1 / np.sqrt(5))
    assert vectors.profile(["y", "x"])[1] > vectors.profile(["y", "x"])[0]
    assert np.linalg.norm(recent_x) == pytest.approx(1.0)
    assert vectors.profile(["unknown"]) is None and vectors.profile([]) is None


def test_nearest_searches_only_the_catalogue_items():
    # the fact node "genre=x" is the closest vector, but it is not a recommendable item
    vectors = ItemVectors(["a", "b", "genre=x"], np.array([[1.0, 0.2], [0.0, 1.0], [1.0, 0.0]]), items=2)
    found = vectors.nearest(np.array([1.0, 0.0], dtype=np.float32), 3)
    assert [item for item, _ in found] == ["a", "b"]
    assert found[0][1] == pytest.approx(1 / np.sqrt(1.04), abs=1e-6) and found[0][1] > found[1][1]
    assert vectors.nearest(None, 3) == [] and vectors.nearest(np.array([1.0, 0.0]), 0) == []


def test_cosines_and_max_cosines_give_zero_for_what_is_unknown():
    vectors = ItemVectors(["a", "b", "c"], np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
    assert vectors.cosines(vectors.profile(["a"]), ["a", "b", "c", "nope"]) == pytest.approx(
        [1.0, 0.0, np.sqrt(0.5), 0.0], abs=1e-6)
    assert vectors.cosines(None, ["a", "b"]) == [0.0, 0.0]
    # best cosine to any one node: "a" matches itself, "b" matches itself, "c" sits between both
    assert vectors.max_cosines(["a", "b", "nope"], ["a", "b", "c", "nope"]) == pytest.approx(
        [1.0, 1.0, np.sqrt(0.5), 0.0], abs=1e-6)
    assert vectors.max_cosines(["nope"], ["a"]) == [0.0]


def test_mention_sequences_keep_first_mention_order_and_drop_dialogues_with_one_movie():
    assert mention_sequences(DIALOGUES) == [["a", "b", "c"], ["b", "c", "d"], ["a", "d"]]
    assert mention_sequences([dialogue("x", ("a",), ("a",))]) == []  # one movie, mentioned twice


def test_graph_edges_link_items_to_shared_facts_and_co_mentions():
    crowded = {str(n) for n in range(MAX_FACT_ITEMS + 1)}
    index = facts({("director", "d1"): {"a", "b"}, ("genre", "solo"): {"c"}, ("genre", "drama"): crowded})
    edges = graph_edges(index, {"a": {"c": 1, "a": 2}, "c": {"a": 1}})
    node = fact_node("director", "d1")
    assert edges[node] == ["a", "b"] and edges["a"] == [node, "c"] and edges["b"] == [node]
    assert edges["c"] == ["a"]  # its only fact is held by it alone: a co-mention is all it has
    assert "genre=solo" not in edges and "genre=drama" not in edges and "0" not in edges  # too few, too many


def test_a_fact_held_by_exactly_max_fact_items_is_kept():
    index = facts({("genre", "big"): {str(n) for n in range(MAX_FACT_ITEMS)}})
    assert len(graph_edges(index, {})["genre=big"]) == MAX_FACT_ITEMS


def test_random_walks_are_deterministic_per_seed_and_follow_edges():
    edges = {"a": ["x"], "x": ["a", "b"], "b": ["x"], "dead": []}
    walks = random_walks(edges, seed=1)
    assert walks == random_walks(edges, seed=1) and walks != random_walks(edges, seed=2)
    assert len(walks) == WALKS_PER_NODE * len(edges)
    assert all(len(w) == WALK_LENGTH for w in walks if w[0] != "dead")
    assert [w for w in walks if w[0] == "dead"] == [["dead"]] * WALKS_PER_NODE  # no way on: the walk stops
    assert all(b in edges[a] for w in walks for a, b in zip(w, w[1:]))


def test_item2vec_is_deterministic_puts_catalogue_items_first_and_is_none_without_two_movies(tmp_path):
    first = train_item2vec(DIALOGUES, CATALOG, seed=3)
    again = train_item2vec(DIALOGUES, CATALOG, seed=3)
    assert first.ids == again.ids and np.array_equal(first.vectors, again.vectors)
    assert set(first.ids) == {"a", "b", "c", "d"} and first.items == 4  # "e" was never mentioned with another
    other = train_item2vec(DIALOGUES, ["d", "c"], seed=3)  # "a", "b" are not catalogue items: not searched
    assert other.ids == ["c", "d", "a", "b"] and other.items == 2
    assert {item for item, _ in other.nearest(other.profile(["a"]), 10)} == {"c", "d"}
    assert np.allclose(other.vectors[other.position["a"]], first.vectors[first.position["a"]])  # same vectors
    assert train_item2vec([dialogue("x", ("a",))], CATALOG) is None


def test_learnt_vectors_are_reused_from_the_cache_file(tmp_path, monkeypatch):
    first = train_item2vec(DIALOGUES, CATALOG, seed=3, cache=tmp_path)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 1 and files[0].startswith("item2vec-") and files[0].endswith(".npz")

    def refuse(*args, **kwargs):
        raise AssertionError("learnt again although cached")

    monkeypatch.setattr(items_module, "skipgram", refuse)
    cached = train_item2vec(DIALOGUES, CATALOG, seed=3, cache=tmp_path)
    assert cached.ids == first.ids and np.allclose(cached.vectors, first.vectors)
    with pytest.raises(AssertionError, match="learnt again"):  # another seed is another input
        train_item2vec(DIALOGUES, CATALOG, seed=4, cache=tmp_path)


def test_graph_vectors_are_deterministic_cached_and_search_items_only(tmp_path, monkeypatch):
    index = facts({("director", "d1"): {"a", "b"}, ("starring", "s1"): {"b", "c"}, ("genre", "g"): {"c", "d"}})
    co_mentions = {"a": {"d": 1}, "d": {"a": 1}}
    graph = train_graph(index, co_mentions, CATALOG, seed=5, cache=tmp_path)
    assert np.array_equal(train_graph(index, co_mentions, CATALOG, seed=5).vectors, graph.vectors)  # uncached
    assert graph.ids[: graph.items] == ["a", "b", "c", "d"] and set(graph.ids[graph.items:]) == {
        "director=d1", "starring=s1", "genre=g"}
    assert [item for item, _ in graph.nearest(graph.profile(["director=d1"]), 10)] != []
    assert all(item in CATALOG for item, _ in graph.nearest(graph.profile(["director=d1"]), 10))
    monkeypatch.setattr(items_module, "skipgram", lambda *a, **k: (_ for _ in ()).throw(AssertionError("learnt")))
    cached = train_graph(index, co_mentions, CATALOG, seed=5, cache=tmp_path)
    assert cached.ids == graph.ids and np.allclose(cached.vectors, graph.vectors)
    assert train_graph(facts({("genre", "solo"): {"a"}}), {}, CATALOG) is None  # no edge at all


def test_preference_nodes_map_people_to_each_role_and_skip_years_and_dislikes():
    index = facts({("director", "clint eastwood"): {"a", "b", "c"}, ("starring", "clint eastwood"): {"a", "d"},
                   ("genre", "western"): {"a", "b"}, ("genre", "horror"): {"c", "d"}})
    preferences = [Preference("person", "Clint Eastwood", turn=0), Preference("genre", "Western films", turn=2),
                   Preference("year", "1990s", turn=3, years=(1990, 1999)), Preference("genre", "horror", -1, turn=4),
                   Preference("movie", "d", turn=5), Preference("movie", "c", -1, turn=5)]
    # most recent first; a person in every role they hold (most items first); no node for years or dislikes
    assert preference_nodes(preferences, index) == ["d", "genre=western", "director=clint eastwood",
                                                    "starring=clint eastwood"]
    assert preference_nodes([Preference("person", "Nobody Known")], index) == []


def test_graphs_learnt_side_by_side_are_the_ones_learnt_alone(tmp_path, monkeypatch):
    index = facts({("director", "d1"): {"a", "b"}, ("starring", "s1"): {"b", "c"}, ("genre", "g"): {"c", "d"}})
    folds = [{"a": {"d": 1}, "d": {"a": 1}}, {"b": {"c": 2}, "c": {"b": 2}}, {}]
    alone = [train_graph(index, co_mentions, CATALOG, seed=5) for co_mentions in folds]
    cache_graphs([(index, co_mentions) for co_mentions in folds], tmp_path, seed=5, threads=2, progress=False)
    assert len(list(tmp_path.glob("graph-*.npz"))) == 3 and not list(tmp_path.glob(".*"))  # no temporary files
    monkeypatch.setattr(items_module, "skipgram", lambda *a, **k: (_ for _ in ()).throw(AssertionError("learnt")))
    for co_mentions, vectors in zip(folds, alone):  # read from the cache, and equal to learning alone
        assert np.array_equal(train_graph(index, co_mentions, CATALOG, seed=5, cache=tmp_path).vectors, vectors.vectors)
