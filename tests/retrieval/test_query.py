import pytest

from llmkb.data.records import RECOMMENDER, SEEKER, Turn
from llmkb.kb import EntityLinker, FactIndex
from llmkb.retrieval.query import QueryBuilder, QueryConfig, feeling


@pytest.fixture(scope="module")
def builder_parts(tiny_kb):
    dataset, documents = tiny_kb
    return dataset.catalog, EntityLinker(FactIndex.from_documents(documents), dataset.catalog)


CONTEXT = (Turn(SEEKER, "I loved Toy Story (1995) and anything with Tom Hanks", ("1001",)),
           Turn(RECOMMENDER, "Have you seen Alien (1979)?", ("1005",)),
           Turn(SEEKER, "I didn't like Alien (1979), too scary. Some animation?", ("1005",)))


def test_query_has_mentions_with_feelings_preferences_and_recent_dialogue_first(builder_parts):
    query = QueryBuilder(*builder_parts).build(CONTEXT)
    assert query.startswith("Movies: Alien (1979) (not liked); Toy Story (1995) (liked) . Likes: ")
    assert "starring Tom Hanks" in query and "genre Animation" in query
    assert query.index("genre Animation") < query.index("starring Tom Hanks")  # the latest turn's first
    assert "horror" not in query.split(" . Dialogue:")[0].lower()  # "too scary" is no wish
    assert query.index("Seeker: I didn't like") < query.index("Seeker: I loved")


def test_state_holds_the_request_and_the_dislikes(builder_parts):
    state = QueryBuilder(*builder_parts).state(CONTEXT)
    assert [str(p) for p in state.request] == ["not movie 1005", "not genre Horror film", "genre Animation"]
    assert [str(p) for p in state.stated] == ["genre Animation", "not genre Horror film", "starring Tom Hanks"]


def test_parts_can_be_switched_off_and_length_is_bounded(builder_parts):
    only_dialogue = QueryBuilder(*builder_parts, QueryConfig.parse("dialogue")).build(CONTEXT)
    assert only_dialogue.startswith("Dialogue: I didn't like") and "Movies:" not in only_dialogue
    short = QueryBuilder(*builder_parts, QueryConfig(max_words=5)).build(CONTEXT)
    assert len(short.split()) == 5
    with pytest.raises(ValueError, match="unknown query parts"):
        QueryConfig.parse("mentions,vibes")


def test_feeling():
    assert feeling("I hated it") == "not liked"
    assert feeling("that one was great") == "liked"
    assert feeling("have you seen it?") is None


def test_the_kb_spelling_of_a_value_does_not_depend_on_the_hash_seed():
    import subprocess
    import sys

    script = ("from llmkb.kb import FactIndex, KBDocument\n"
              "docs = [KBDocument(str(i), 'x', facts={'genre': [g]}) for i, g in enumerate("
              "['Horror film', 'horror', 'Horror', 'comedy film'])]\n"
              "print(sorted(FactIndex.from_documents(docs).values('genre').items()))")
    outputs = {subprocess.run([sys.executable, "-c", script], env={"PYTHONHASHSEED": str(seed)}, check=True,
                              capture_output=True, text=True).stdout.strip() for seed in range(6)}
    assert outputs == {"[('comedy', 'comedy film'), ('horror', 'horror')]"}
