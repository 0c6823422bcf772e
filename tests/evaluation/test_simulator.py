"""The simulated users: the protocol's leak guard, the attributes they reveal, determinism, and the fallbacks."""

import pytest

from llmkb.evaluation.simulator import (NOTHING_NEW, REJECT_UNNAMED, Attribute, KBSimulator, LeakGuard, LLMSimulator,
                                        TargetProfile, Vocabulary, describe_plot, description_profile, faithful,
                                        rare_plot_words, target_profile)
from llmkb.generation import load_llm
from llmkb.kb.documents import KBDocument

GENRES = frozenset({"crime", "drama", "horror", "animation"})


@pytest.mark.parametrize("title, utterance, leaks", [
    ("The Matrix (1999)", "Something with Keanu Reeves, please.", False),
    ("The Matrix (1999)", "Like living in a matrix.", True),  # a title word longer than 3 characters
    ("The Matrix (1999)", "the matrx", True),  # rapidfuzz partial_ratio 90 or more
    ("Toy Story 2 (1999)", "I've seen Toy Story (1995).", True),  # the phrase "toy story" is the title's start
    ("Scary Movie (2000)", "A scary one, not a comedy.", True),  # "scary" is neither a genre nor a common word
    ("Scary Movie (2000)", "Any movie with Anna Faris?", False),  # "movie" is a common word
    ("Crime Story (1986)", "Crime, please.", False),  # a genre word alone does not leak
    ("Up (2009)", "Something supernatural.", True),  # the protocol's partial_ratio catches short titles anywhere
    ("Up (2009)", "An animation from the 2000s.", False),
])
def test_leak_guard_follows_the_protocol(title, utterance, leaks):
    assert LeakGuard(title, GENRES).leaks(utterance) is leaks


def _doc(**facts):
    return KBDocument("7", "Madea's Family Reunion", 2006, {"genre": ["Comedy film", "drama"], **facts},
                      plot="Madea plans a family reunion while a bride juggles wedding plans and a scandal.")


def test_profile_keeps_the_protocols_order_and_skips_values_that_would_leak():
    doc = _doc(director=["Tyler Perry"], starring=["Blair Underwood", "Tyler Perry", "Cicely Tyson"])
    vocabulary = Vocabulary(GENRES | {"comedy"}, frozenset({"drama"}),
                            {"plans": 30, "family": 90, "reunion": 3, "bride": 4, "juggles": 2, "wedding": 6,
                             "scandal": 2})
    profile = target_profile(doc, {"star": ["Tyler Perry", "Cicely Tyson"]}, LeakGuard(doc.display, GENRES), vocabulary)
    # genre: "Comedy film" is not common enough to name; actor: the first-billed star the KB confirms; the
    # director is fine ("Madea" is the leak word, not "Tyler"); keyword: the rarest, first on ties ("juggles")
    assert [str(a) for a in profile.attributes] == [
        "genre drama", "actor Tyler Perry", "director Tyler Perry", "decade 2000s", "keyword juggles"]
    leaky = target_profile(doc, {}, LeakGuard("Tyler Perry's Madea", GENRES), vocabulary)
    assert not any("Tyler" in a.value for a in leaky.attributes)  # "tyler" and "perry" are title words there


def test_vocabulary_counts_genres_and_plot_words():
    docs = [KBDocument(str(i), f"M{i}", 2000, {"genre": ["Crime film"] * (i < 5) + ["drama"]},
                       plot="A heist goes wrong" if i < 2 else "Nothing") for i in range(6)]
    vocabulary = Vocabulary.from_documents(docs)
    assert vocabulary.genres == {"crime film", "drama"} and {"crime", "film", "drama"} <= vocabulary.genre_words
    assert vocabulary.plot_counts["heist"] == 2 and "Nothing" not in vocabulary.plot_counts  # names are not words


PROFILE = TargetProfile("7", "Heat (1995)", (Attribute("genre", "crime"), Attribute("actor", "Al Pacino")))


def test_kb_user_is_deterministic_for_a_seed_and_varies_with_it():
    def dialogue(seed):
        user = KBSimulator(seed)
        return [user.opener("s1")] + [user.answer(PROFILE, r, ["Alien (1979)", "Jaws (1975)"], ["5", "9"]).text
                                      for r in (1, 2, 3)]

    assert dialogue(3) == dialogue(3)
    assert len({tuple(dialogue(seed)) for seed in range(6)}) > 1
    first, second, third = dialogue(3)[1:]
    assert "crime" in first and "Al Pacino" in second and third.endswith(NOTHING_NEW)
    assert "Alien (1979)" in first and "Heat" not in " ".join(dialogue(3))


def test_answer_names_the_movies_turned_down_unless_that_leaks():
    user = KBSimulator(0)
    said = user.answer(PROFILE, 1, ["Alien (1979)"], ["5"])
    assert said.items == ("5",) and said.source == "paraphrase" and said.leaks == 0
    sequel = user.answer(PROFILE, 1, ["Heat (1986)"], ["10"])  # another "Heat": naming it would leak the title
    assert sequel.text.startswith(REJECT_UNNAMED) and sequel.items == () and sequel.leaks == 1


def test_answer_falls_back_to_the_template_then_gives_up():
    class Leaky(KBSimulator):
        def attribute_phrasings(self, profile, attribute):
            return iter([("A crime movie like Heat.", "paraphrase"), ("Something tense.", "paraphrase")])

    said = Leaky(0).answer(PROFILE, 1, [], [])
    assert (said.text, said.source, said.leaks, said.unfaithful) == ("Genre: crime.", "template", 1, 1)
    heat = TargetProfile("7", "Crime Heat (1995)", (Attribute("genre", "crime"),))
    guard = LeakGuard("Crime Heat (1995)", frozenset())  # here "crime" is a title word: no phrasing of it is safe
    assert KBSimulator(0).answer(heat, 1, [], [], guard).text == NOTHING_NEW

    class Everything(LeakGuard):
        def leaks(self, utterance):
            return bool(utterance)

    assert KBSimulator(0).answer(heat, 1, ["Alien (1979)"], ["5"], Everything("x", frozenset())) is None


def test_faithful_needs_the_value_and_no_invented_year():
    assert faithful("Could you suggest something directed by Martin Scorsese?", Attribute("director", "Martin Scorsese"))
    assert not faithful("Could you suggest something directed by Scorsese?", Attribute("director", "Martin Scorsese"))
    assert not faithful("A 1990s horror movie, please.", Attribute("genre", "horror"))
    assert faithful("Maybe something from the 1990s?", Attribute("decade", "1990s"))


def test_llm_user_phrases_each_attribute_once_and_caches_it(tiny_models):
    model, tokenizer = load_llm(tiny_models["llm"])
    user = LLMSimulator(model, tokenizer, seed=1, progress=False)
    user.prepare([PROFILE, PROFILE])
    assert len(user.cache.rows) == 2  # one first phrasing per distinct attribute
    assert all("Heat" not in user.prompt(a) for a in PROFILE.attributes)  # the prompt never holds the title
    said = user.answer(PROFILE, 1, ["Alien (1979)"], ["5"])
    # a random tiny model rarely states "crime": then the re-generation is made, and the template follows
    assert said.source in ("llm", "template") and (said.source == "llm" or said.unfaithful + said.leaks == 2)
    again = LLMSimulator(model, tokenizer, seed=1, cache=user.cache, progress=False)
    before = dict(user.cache.rows)
    assert again.answer(PROFILE, 1, ["Alien (1979)"], ["5"]) == said and user.cache.rows == before


PLOT = ("Retired agent Bryan Mills must rescue his daughter, who has been kidnapped by traffickers in Paris. "
        "He follows the trail across the city.")
COUNTS = {w: 50 for w in "retired agent must rescue daughter been kidnapped follows trail across city".split()} | {
    "traffickers": 3}  # "traffickers": fewer than RARE_PLOT plots use it
WORDS = Vocabulary(frozenset(), frozenset(), COUNTS)


def test_a_description_retells_the_plot_without_names_rare_words_or_the_title():
    guard = LeakGuard("Taken (2008)", frozenset(), telling=rare_plot_words(PLOT, WORDS))
    parts = describe_plot(PLOT, WORDS, guard)
    assert parts == ("retired agent must rescue his daughter, who has been kidnapped by in",
                     "he follows the trail across the city")
    said = " ".join(parts)
    assert not {"bryan", "mills", "paris", "traffickers"} & set(said.split()) and not guard.leaks(said)
    assert guard.leaks("kidnapped by traffickers")  # the plot's rare word gives the movie away


def test_a_long_sentence_is_told_in_two_parts_and_a_gutted_one_is_left_out():
    long = "A young agent and his old friend travel across the city at night, and they rescue the daughter of a friend."
    counts = {w: 50 for w in "young agent friend travel across city night rescue daughter".split()}
    assert len(describe_plot(long, Vocabulary(frozenset(), frozenset(), counts), LeakGuard("X", frozenset()))) == 2
    gutted = "Zorblax and Quixa fight Vrell on Mog with a glimmerstaff."  # names and rare words only
    assert describe_plot(gutted, WORDS, LeakGuard("X", frozenset())) == ()


def test_the_description_user_tells_a_part_each_round_and_turns_cards_down_unnamed():
    doc = KBDocument("7", "Taken", 2008, {"genre": ["action"]}, plot=PLOT)
    guard = LeakGuard("Taken (2008)", frozenset(), telling=rare_plot_words(PLOT, WORDS))
    profile = description_profile(doc, guard, WORDS)
    assert [a.kind for a in profile.attributes] == ["description", "description"]  # no genre, actor, ...
    user = KBSimulator(seed=0)
    opener = user.answer(profile, 1, (), (), guard)
    assert "rescue his daughter" in opener.text and opener.items == ()
    second = user.answer(profile, 2, ["Heat (1995)"], ["1"], guard, name_shown=False)
    assert second.text.startswith(REJECT_UNNAMED) and "follows the trail" in second.text and second.items == ()
    assert user.answer(profile, 3, ["Heat (1995)"], ["1"], guard, name_shown=False).text.endswith(NOTHING_NEW)


def test_a_retelling_is_faithful_with_half_its_words_and_nothing_from_the_example():
    told = Attribute("description", "an agent must rescue his daughter")
    assert faithful("A spy has to save his kid, his daughter, and he is an agent.", told)
    assert not faithful("A spy has to save his kid.", told)  # none of agent, rescue, daughter
    assert not faithful("An agent must rescue his daughter from a wizard school.", told)  # the prompt's example
