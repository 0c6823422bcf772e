"""Entity linking and the facts index on the dozen-movie world."""

import pytest

from llmkb.data.records import RECOMMENDER, SEEKER, Turn
from llmkb.kb import EntityLinker, FactIndex, Preference


@pytest.fixture(scope="module")
def world(tiny_kb):
    dataset, documents = tiny_kb
    facts = FactIndex.from_documents(documents)
    return dataset, facts, EntityLinker(facts, dataset.catalog, frozenset({"scott"}), surname_items=1)


def linked(linker, text):
    return [str(p) for p in linker.link(text)]


def test_people_by_full_partial_informal_and_misspelt_name_in_any_case(world):
    _, _, linker = world
    assert linked(linker, "Anything by Michael Mann?") == ["director Michael Mann"]
    assert linked(linker, "something SPIELBERG directed") == ["director Steven Spielberg"]
    assert linked(linker, "Spielberg's movies") == ["director Steven Spielberg"]
    assert linked(linker, "a film with sigourney weaver") == ["starring Sigourney Weaver"]
    assert linked(linker, "with Siggy Weaver") == ["starring Sigourney Weaver"]  # informal first name
    assert linked(linker, "Hitchcok please") == ["director Alfred Hitchcock"]  # one letter off
    assert linked(linker, "I love Hanks") == ["starring Tom Hanks"]
    assert linked(linker, "I went to scott's party") == []  # a common word is no surname on its own
    assert linked(linker, "Ridley Scott films") == ["director Ridley Scott"]  # with the first name it is


def test_roles_come_from_the_words_before_the_name(world):
    dataset, facts, linker = world
    assert facts.roles["tom hanks"] == ["starring"]
    assert linked(linker, "directed by Tom Hanks") == ["starring Tom Hanks"]  # he directs nothing here
    assert linked(linker, "starring Michael Mann") == ["director Michael Mann"]


def test_genres_with_everyday_words(world):
    _, _, linker = world
    assert linked(linker, "something scary") == ["genre Horror film"]
    assert linked(linker, "a sci-fi movie") == ["genre Science fiction film"]
    assert linked(linker, "cartoons or animated stuff") == ["genre Animation", "genre Animation"]
    assert linked(linker, "a funny crime film") == ["genre comedy", "genre Crime film"]


def test_years_and_decades(world):
    _, _, linker = world
    years = lambda text: [(p.value, p.years) for p in linker.link(text)]  # noqa: E731
    assert years("something from the 90s") == [("1990s", (1990, 1999))]
    assert years("nineties or 1980s") == [("1990s", (1990, 1999)), ("1980s", (1980, 1989))]
    assert years("a movie from 1995") == [("1995", (1995, 1995))]
    assert years("anything since 1990") == [("since 1990", (1990, 2009))]  # the catalogue's last year: 2009
    assert years("something recent") == [("recent years", (2005, 2009))]
    assert years("an old classic movie") == [("before 1980", (1960, 1979))]
    assert years("I liked Heat (1995)") == []  # a title's year is no request


def test_negation_and_dislikes(world):
    _, _, linker = world
    assert linked(linker, "not horror please") == ["not genre Horror film"]
    assert linked(linker, "I hate horror and animation") == ["not genre Horror film", "not genre Animation"]
    assert linked(linker, "a comedy that is not animated") == ["genre comedy", "not genre Animation"]
    assert linked(linker, "no horror, but something with Tom Hanks") == ["not genre Horror film",
                                                                        "starring Tom Hanks"]
    assert linked(linker, "I don't like horror, I like comedy") == ["not genre Horror film", "genre comedy"]
    assert linked(linker, "I'm not sure, maybe something scary") == ["genre Horror film"]
    assert linked(linker, "nothing from the 90s") == ["not year 1990s"]


def test_a_dialogue_keeps_the_seekers_latest_word_on_each_preference(world):
    _, _, linker = world
    context = [Turn(SEEKER, "I loved Heat (1995) and horror", ("1004",)),
               Turn(RECOMMENDER, "Do you like Tom Hanks? Try Toy Story (1995)", ("1001",)),
               Turn(SEEKER, "I didn't like Heat (1995) actually. No more horror", ("1004",))]
    assert [str(p) for p in linker.dialogue(context)] == ["not movie 1004", "not genre Horror film"]


def test_the_index_answers_for_the_kb_only(world):
    dataset, facts, _ = world
    for preference in [Preference("genre", "Horror film"), Preference("person", "Sigourney Weaver"),
                       Preference("year", "1990s", years=(1990, 1999))]:
        items = facts.items_for(preference)
        assert items and items <= set(dataset.catalog)
        assert all(facts.satisfies(item, preference) for item in items)
    assert facts.items_for(Preference("director", "Nobody Known")) == set()
    assert facts.match_scores(["1005", "1001"], [Preference("genre", "horror", -1, turn=0)]) == [-1.0, 0.0]


def test_a_surname_that_is_a_word_needs_a_capital_or_a_role_cue():
    from llmkb.kb import KBDocument

    facts = FactIndex.from_documents([KBDocument(str(i), "Batman", 2005, {"starring": ["Christian Bale"]})
                                      for i in range(2)])
    linker = EntityLinker(facts, common_words=frozenset({"bale"}), surname_items=1)
    assert linked(linker, "a bale of hay") == []
    assert linked(linker, "anything with Bale?") == linked(linker, "starring bale") == ["starring Christian Bale"]


def test_a_surname_the_dictionary_writes_in_lower_case_is_a_word_unless_capitalised_or_cued():
    from llmkb.kb import KBDocument

    facts = FactIndex.from_documents([
        *(KBDocument(str(i), "Mutiny on the Bounty", 1935, {"starring": ["Franchot Tone", "Charles Laughton",
                                                                        "Eddie Murphy"]}) for i in range(3)),
        *(KBDocument(str(i), "Sholay", 1975, {"starring": ["Rajesh Murthy"]}) for i in range(3, 5))])
    linker = EntityLinker(facts, surname_items=1)  # no plot writes "tone": the dictionary knows it is a word
    assert linked(linker, "a comedy with a light tone") == linked(linker, "a dark tone please") == []
    assert linked(linker, "anything with Tone?") == linked(linker, "starring tone") == ["starring Franchot Tone"]
    assert linked(linker, "something with laughton") == ["starring Charles Laughton"]  # a name, not a word
    assert linked(linker, "something with murhy") == ["starring Eddie Murphy"]  # a typo: the one with more items


def test_a_title_inside_a_persons_name_is_the_person():
    from llmkb.data.records import CatalogItem
    from llmkb.kb import KBDocument
    from llmkb.pipeline.stages import MessageReader
    from llmkb.postprocess import TitleMatcher

    documents = [KBDocument("1", "Wilson", 2017), KBDocument("2", "Zoolander", 2001, {"starring": ["Owen Wilson"]})]
    catalog = {d.item_id: CatalogItem(d.item_id, d.title, d.year) for d in documents}
    reader = MessageReader(TitleMatcher(catalog.values()), EntityLinker(FactIndex.from_documents(documents), catalog))
    assert reader([], "anything with Owen Wilson?")[0][-1].items == ()
    assert reader([], "I liked Wilson (2017)")[0][-1].items == ("1",)
    assert MessageReader(TitleMatcher(catalog.values()))([], "anything with Owen Wilson?")[0][-1].items == ("1",)


def test_a_surname_alone_names_someone_with_several_films_only():
    from llmkb.kb import KBDocument

    facts = FactIndex.from_documents([KBDocument("1", "Gravity", 2013, {"music composer": ["Mad at Gravity"]}),
                                      *(KBDocument(str(i), "x", 2000, {"director": ["Christopher Nolan"]})
                                        for i in range(2, 4))])
    linker = EntityLinker(facts)
    assert linked(linker, "I haven't seen gravity yet") == []
    assert linked(linker, "something by Nolan") == ["director Christopher Nolan"]


def test_a_number_alone_is_no_surname():
    from llmkb.kb import KBDocument

    facts = FactIndex.from_documents([KBDocument(str(i), "x", 2006, {"starring": ["André 3000"]}) for i in range(3)])
    linker = EntityLinker(facts)
    assert linked(linker, "recommend Zorblax 3000") == []
    assert linked(linker, "something with Andre 3000") == ["starring André 3000"]


def test_names_typed_lower_case_with_one_or_two_typos(world):
    _, _, linker = world
    assert linked(linker, "a film with sigourny weaver") == ["starring Sigourney Weaver"]  # a dropped letter
    assert linked(linker, "anything with tom hnaks") == ["starring Tom Hanks"]  # a swap: one edit
    assert linked(linker, "movies by micheal mann") == ["director Michael Mann"]
    assert linked(linker, "a movie by alfred hitchock") == ["director Alfred Hitchcock"]
    assert linked(linker, "something by stevn spileberg") == ["director Steven Spielberg"]  # two edits in 15 letters
    assert linked(linker, "hnaks") == []  # five letters alone: too short to guess from
    assert linked(linker, "signe wever") == []  # too far from any name, and a surname of 5 letters alone
    assert linked(linker, "with wever") == ["starring Sigourney Weaver"]  # unless a role cue says a name follows
    assert linked(linker, "a film by hitchcok-smith") == []  # hyphenated words are names' words, but too far


def test_a_misspelt_common_word_never_links_on_its_own():
    from llmkb.kb import KBDocument

    facts = FactIndex.from_documents([KBDocument(str(i), "x", 2000, {"starring": ["Tom Hanks", "Clint Funnel"]})
                                      for i in range(2)])
    linker = EntityLinker(facts, common_words=frozenset({"funny", "movie", "tonight"}))
    assert linked(linker, "a funny movie tonight") == []  # "funny" is one edit from "funnel"
    assert linked(linker, "clint funel") == ["starring Clint Funnel"]


def test_an_english_word_is_no_typo_of_a_name():
    """From ReDial's test messages: the old surname matcher read "leaning" as Lansing and "lighten" as Lighton."""
    from llmkb.kb import KBDocument

    people = ["Sherry Lansing", "Louis Lighton", "The Game", "Wes Craven"]
    facts = FactIndex.from_documents([KBDocument(str(i), "x", 2000, {"producer": people}) for i in range(2)])
    linker = EntityLinker(facts)
    assert linked(linker, "I'm leaning towards a comedy, to lighten the mood") == []
    assert linked(linker, "the hams") == []  # one edit per short word at most: not "the game"
    assert linked(linker, "Got any more from Wes Kraven?") == ["producer Wes Craven"]


def test_studios_by_the_name_people_use_link_and_negate():
    """Issue 32: "not from Marvel" ruled nothing out, since the KB only says "Marvel Studios"."""
    from llmkb.kb import KBDocument

    documents = [KBDocument("1", "Iron Man", 2008, {"production company": ["Marvel Studios"], "genre": ["action"]}),
                 KBDocument("2", "X-Men", 2000, {"production company": ["Marvel Entertainment"]}),
                 KBDocument("3", "Toy Story", 1995, {"production company": ["Pixar Animation Studios"],
                                                     "genre": ["animation"]}),
                 KBDocument("4", "Up", 2009, {"production company": ["Pixar"], "genre": ["animation"]}),
                 KBDocument("5", "Jaws", 1975, {"distributor": ["Universal Pictures", "Entertainment One"]}),
                 KBDocument("6", "Heat", 1995, {"distributor": ["Universal Pictures"]})]
    facts = FactIndex.from_documents(documents)
    linker = EntityLinker(facts, common_words=frozenset({"universal", "world"}), surname_items=1)
    assert sorted(facts.items_for(Preference("studio", "Marvel"))) == ["1", "2"]
    assert linked(linker, "a superhero movie that is not from Marvel") == ["not studio Marvel"]
    assert linked(linker, "any marvel movies?") == linked(linker, "Marvel Studios films") == ["studio Marvel"]
    assert linked(linker, "pixar stuff") == ["genre animation", "studio Pixar"]
    assert linked(linker, "nothing from Pixar") == ["not studio Pixar"]  # other animation is fine
    assert linked(linker, "a universal story") == []  # a plot word: only the full name links
    assert linked(linker, "an Iron Man sequel from Universal") == []  # ... or capitalised with 10 items or more
    assert linked(linker, "Universal Pictures films") == ["studio Universal"]
    assert linked(linker, "no one else") == []  # "Entertainment One" gives no studio "One"


def test_a_big_studio_named_by_common_words_links_when_capitalised():
    from llmkb.kb import KBDocument

    documents = [KBDocument(str(i), f"Film {chr(65 + i)}", 2000, {"distributor": ["Universal Pictures"]})
                 for i in range(10)]
    linker = EntityLinker(FactIndex.from_documents(documents), common_words=frozenset({"universal"}), surname_items=1)
    assert linked(linker, "I'd like a Universal film") == ["studio Universal"]
    assert linked(linker, "a universal story") == linked(linker, "Universal is fine") == []  # lower case; first word


def test_a_genre_word_is_the_genre_not_a_company_of_that_name():
    from llmkb.kb import KBDocument

    documents = [KBDocument("1", "Willow", 1988, {"genre": ["fantasy"], "production company": ["Fantasy Films"]}),
                 KBDocument("2", "Legend", 1985, {"genre": ["fantasy"]})]
    linker = EntityLinker(FactIndex.from_documents(documents), surname_items=1)
    assert linked(linker, "a fantasy movie") == ["genre fantasy"]


def test_series_the_titles_name_link_and_negate():
    """Issue 32: "not a Harry Potter movie" and "the Toy Story films" name a series the KG does not hold."""
    from llmkb.data.records import CatalogItem
    from llmkb.kb import KBDocument

    titles = {"1": "Harry Potter and the Goblet of Fire", "2": "Harry Potter and the Chamber of Secrets",
              "3": "Toy Story", "4": "Toy Story 2", "5": "Red", "6": "Red 2", "7": "Heat"}
    documents = [KBDocument(item, title, 2000 + int(item)) for item, title in titles.items()]
    catalog = {item: CatalogItem(item, title, 2000 + int(item)) for item, title in titles.items()}
    facts = FactIndex.from_documents(documents)
    linker = EntityLinker(facts, catalog, common_words=frozenset({"toy", "story"}), surname_items=1)
    assert sorted(facts.items_for(Preference("series", "Harry Potter"))) == ["1", "2"]
    assert linked(linker, "not a harry potter movie please") == ["not series Harry Potter"]
    assert linked(linker, "any of the toy story films?") == ["series Toy Story"]
    assert linked(linker, "a toy story") == []  # everyday words: a series only when said as one
    assert linked(linker, "any Red movies?") == ["series Red"]
    assert linked(linker, "any red movies?") == []  # one everyday word: capitalised only
    assert linked(linker, "a film, but not a Toy Story one") == ["not series Toy Story"]
    from llmkb.pipeline.stages import MessageReader
    from llmkb.postprocess import TitleMatcher

    reader = MessageReader(TitleMatcher(catalog.values()), linker)
    assert reader([], "I loved the Toy Story movies")[0][-1].items == ()  # the series, not the first film
    assert reader([], "I loved Toy Story")[0][-1].items == ("3",)
    said_as_movie = linker.dialogue([Turn(SEEKER, "I loved Toy Story", ("3",))])
    said_as_series = linker.dialogue([Turn(SEEKER, "I loved the Toy Story movies", ("3",))])
    assert [str(p) for p in said_as_movie] == ["movie 3"] and [str(p) for p in said_as_series] == ["series Toy Story"]
    # a title typed without its punctuation is still that movie, not its series ("transformers dark of the moon"
    # read the series of the film and its junior novel, and the demo recommended the novel)
    catalog["8"], catalog["9"] = CatalogItem("8", "Red: The Return", 2008), CatalogItem("9", "Red: Origins", 2009)
    typed = linker.dialogue([Turn(SEEKER, "i loved red the return", ("8",))])
    assert [str(p) for p in typed] == ["movie 8"]


def test_a_clause_ends_at_unless_and_at_a_new_subject(world):
    """A negation governs its clause only: "not my favorite unless …", "No, I haven't seen …", ", I watched …"."""
    _, _, linker = world
    heat = lambda text: [str(p) for p in linker.dialogue([Turn(SEEKER, text, ("1004",))])]  # noqa: E731
    assert heat("I don't like horror unless it is offbeat like Heat (1995)") == [
        "not genre Horror film", "movie 1004"]
    assert heat("No, I haven't seen Heat (1995)") == ["movie 1004"]  # not seen is no dislike
    assert heat("I did not see that trailer, I watched Heat (1995)") == ["movie 1004"]
    assert heat("Did not see Heat (1995) but I want to.") == ["movie 1004"]
    assert heat("I did not like Heat (1995), or horror") == ["not movie 1004", "not genre Horror film"]
    assert heat("No, not Heat (1995)") == ["not movie 1004"]


def test_refinements_read_against_the_movies_just_shown(world):
    """Issue 32: "something more recent" and "not the first one" after the cards; turned-down movies are dislikes."""
    from llmkb.retrieval import TurnState

    _, _, linker = world
    turns = (Turn(SEEKER, "Any crime movies?"), Turn(RECOMMENDER, "Try these", ("1005", "1004", "1006")),
             Turn(SEEKER, "Not the second one. Something more recent, and funnier?"))
    read = linker.dialogue(turns)
    assert [(str(p), p.years) for p in read if p.turn == 2] == [
        ("not movie 1004", None), ("year newer than Heat (1995)", (1996, 2009)), ("genre comedy", None)]
    state = TurnState(turns, ("1005", "1004", "1006"), tuple(read), "")
    assert [str(p) for p in state.request] == [  # the first turn's request stays; the cards turned down go
        "genre Crime film", "not movie 1004", "year newer than Heat (1995)", "genre comedy"]
    older = linker.dialogue((*turns[:2], Turn(SEEKER, "I want something older please")))
    assert [(p.value, p.years) for p in older if p.relation == "year"] == [("older than Alien (1979)", (1960, 1978))]
    assert [str(p) for p in linker.dialogue((Turn(SEEKER, "something newer please"),))] == [
        "year recent years"]  # nothing shown yet: the catalogue's recent years, as before
    assert [str(p) for p in linker.dialogue((*turns[:2], Turn(SEEKER, "I liked the last one")))] == [
        "genre Crime film", "movie 1006"]
