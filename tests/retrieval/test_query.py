import warnings

import pytest

from llmkb.data import load_dataset
from llmkb.data.records import RECOMMENDER, SEEKER, Turn
from llmkb.kb import build_dictionaries
from llmkb.retrieval.query import PreferenceDetector, QueryBuilder, QueryConfig, feeling


@pytest.fixture(scope="module")
def builder_parts(tiny_root):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = load_dataset("redial", tiny_root)
        return ds.catalog, PreferenceDetector(build_dictionaries(ds))


CONTEXT = (Turn(SEEKER, "I loved Toy Story (1995) and anything with Tom Hanks", ("1001",)),
           Turn(RECOMMENDER, "Have you seen Alien (1979)?", ("1005",)),
           Turn(SEEKER, "I didn't like Alien (1979), too scary. Some animation?", ("1005",)))


def test_query_has_mentions_with_feelings_preferences_and_recent_dialogue_first(builder_parts):
    query = QueryBuilder(*builder_parts).build(CONTEXT)
    assert query.startswith("Movies: Alien (1979) (not liked); Toy Story (1995) (liked) . Likes: ")
    assert "starring Tom Hanks" in query and "genre Animation" in query
    assert query.index("Seeker: I didn't like") < query.index("Seeker: I loved")


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


def test_look_alike_values_resolve_to_the_shortest_spelling_whatever_the_hash_seed():
    import subprocess
    import sys

    script = ("from llmkb.kb.dictionaries import MappingDictionaries\n"
              "from llmkb.retrieval.query import PreferenceDetector\n"
              "d = MappingDictionaries({}, {}, {'genre': {'Horror film', 'horror', 'Horror', 'comedy film'}})\n"
              "print(PreferenceDetector(d, relations=['genre']).detect('any horror or comedy?'))")
    outputs = {subprocess.run([sys.executable, "-c", script], env={"PYTHONHASHSEED": str(seed)}, check=True,
                              capture_output=True, text=True).stdout.strip() for seed in range(6)}
    assert outputs == {"[('genre', 'Horror'), ('genre', 'comedy film')]"}
