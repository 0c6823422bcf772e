import pytest

from llmkb.pipeline.order import order

HORROR = {"1005", "1011"}  # Alien, Psycho
HEATS = {"1004", "1010"}  # Heat (1995), Heat (1986)
RANKED = ["1011", "1004", "1005", "1003", "1010", "1007"]


@pytest.fixture()
def stages(make_stages):
    return make_stages(use_llm=False, k=3)


def state_of(stages, message):
    turns = stages.reader([], message).turns
    return stages.states([turns])[0]


def test_chat_leaves_out_the_mentioned_movie_and_its_twin_then_fills_by_popularity(stages):
    state = state_of(stages, "I liked Heat (1995)")
    assert order(RANKED, state, stages, 3, exclude_mentioned=True) == ["1011", "1005", "1003"]
    popular = [i for i in stages.dataset.popularity if i not in {*RANKED, *HEATS}]
    assert order(RANKED, state, stages, 8, exclude_mentioned=True) == ["1011", "1005", "1003", "1007", *popular[:4]]
    assert len(order(RANKED, state, stages, 12, exclude_mentioned=True)) == 10  # all but the two Heats


def test_evaluation_keeps_the_mentioned_movies_in_place_and_chat_shows_the_same_list_without_them(stages):
    for message in ("I liked Heat (1995)", "no horror please", "Anything directed by Michael Mann?",
                    "I hate horror films. Something like Heat (1995)?"):
        state = state_of(stages, message)
        evaluated = order(RANKED, state, stages, 12)
        twins = set(stages.mentioned_twins(state))
        assert len(set(evaluated)) == len(evaluated) and set(evaluated) <= set(stages.catalog)
        assert order(RANKED, state, stages, 3, exclude_mentioned=True) == \
            [i for i in evaluated if i not in twins][:3], message


def test_dislikes_never_come_back_not_even_from_the_fill(stages):
    state = state_of(stages, "no horror please")
    assert order(RANKED, state, stages, 3) == ["1004", "1003", "1010"]
    everything = order([], state, stages, 12)  # only the fill: fewer than k when the dislikes rule out the rest
    assert everything == [i for i in stages.dataset.popularity if i not in HORROR]


def test_the_first_k_hold_the_request_and_the_rest_keep_the_ranked_order(stages):
    state = state_of(stages, "Anything directed by Michael Mann?")
    assert order(RANKED, state, stages, 6) == ["1004", "1011", "1005", "1003", "1010", "1007"]


def test_without_constraints_the_ranking_is_only_filled(make_stages):
    stages = make_stages(use_llm=False, k=3, constraints=False)
    state = state_of(stages, "no horror please")
    assert order(RANKED, state, stages, 7) == [*RANKED, stages.dataset.popularity[0]]


@pytest.mark.parametrize("message, cold", [("Hi! Can you recommend a movie?", True), ("hello, any film for tonight", True),
                                           ("Hi! Something tense, please", False), ("I liked Heat (1995)", False)])
def test_a_seeker_who_said_nothing_usable_gets_the_popular_movies(stages, message, cold):
    state = state_of(stages, message)
    assert state.small_talk == cold
    popular = [i for i in stages.dataset.popularity if i not in set(stages.mentioned_twins(state))]
    assert (order(RANKED, state, stages, 4, exclude_mentioned=True) == popular[:4]) == cold


def test_a_refinement_outranks_the_request_it_refines():
    """Issue 32: "a sport movie", then "something scarier": a scary movie first, even if it is not about sport."""
    from llmkb.data.records import RECOMMENDER, SEEKER, Turn
    from llmkb.kb import FactIndex, KBDocument, Preference
    from llmkb.pipeline.stages import RequestFilter
    from llmkb.retrieval import TurnState

    facts = FactIndex.from_documents([KBDocument("1", "Rocky", 1976, {"genre": ["sport"]}),
                                      KBDocument("2", "Raging Bull", 1980, {"genre": ["sport"]}),
                                      KBDocument("3", "Alien", 1979, {"genre": ["horror"]})])
    turns = (Turn(SEEKER, "A sport movie?"), Turn(RECOMMENDER, "Try Rocky", ("1",)), Turn(SEEKER, "Scarier?"))
    preferences = (Preference("genre", "sport", turn=0), Preference("genre", "horror", turn=2, relative=True))
    state = TurnState(turns, ("1",), preferences, "")
    assert [str(p) for p in state.request] == ["genre sport", "genre horror"]
    assert RequestFilter(facts)(["1", "2", "3"], state, 1) == ["1", "3", "2"]  # Rocky was shown: it keeps its place


def test_a_seeker_who_only_describes_gets_the_matching_plots_first(stages, monkeypatch):
    """Issue 32: no title, no linked fact, but a description: the plots that match it come first, then the ranking."""
    from llmkb.kb.documents import KBDocument
    from llmkb.kb.plots import PlotIndex

    plots = PlotIndex([KBDocument("1007", "", None, {}, plot="A giant shark terrorises a beach town."),
                       KBDocument("1003", "", None, {}, plot="A town mayor hides a secret."),
                       KBDocument("1005", "", None, {}, plot="A crew in space meets a monster.")])
    monkeypatch.setattr(stages.candidates, "plots", plots)
    state = state_of(stages, "one where a shark scares a beach town")
    assert state.described and not state.small_talk
    assert order(RANKED, state, stages, 4, exclude_mentioned=True) == ["1007", "1003", "1011", "1004"]
    told = state_of(stages, "I liked Heat (1995), one where a shark scares a beach town")
    assert not told.described
    assert order(RANKED, told, stages, 2, exclude_mentioned=True) == ["1011", "1005"]


def test_a_film_listed_with_and_without_its_year_is_shown_once(stages, monkeypatch):
    """ReDial lists some films twice ("Transformers: Revenge of the Fallen (2009)" and the same title without a
    year); the later of the two leaves the list and the next item takes its place. Remakes, both dated, stay."""
    import dataclasses

    state = state_of(stages, "something exciting")
    assert {"1004", "1010"} <= set(order(RANKED, state, stages, 12))  # Heat (1995) and Heat (1986): a remake
    monkeypatch.setitem(stages.catalog, "1010", dataclasses.replace(stages.catalog["1010"], year=None))
    listed = order(RANKED, state, stages, 12)
    assert "1004" in listed and "1010" not in listed and len(listed) == len(set(listed)) == 11
    first = order(["1010", *[i for i in RANKED if i != "1010"]], state, stages, 12)
    assert first[0] == "1010" and "1004" not in first
