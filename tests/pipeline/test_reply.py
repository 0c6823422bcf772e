import pytest

from llmkb.data.records import SEEKER, CatalogItem, Turn
from llmkb.kb.documents import KBDocument
from llmkb.kb.facts import FactIndex
from llmkb.kb.linking import EntityLinker
from llmkb.pipeline.reply import ReplyRequest, check_reply
from llmkb.postprocess.grounding import GroundingChecker

DOCS = [KBDocument("heat", "Heat", 1995, {"director": ["Michael Mann"], "starring": ["Al Pacino"], "genre": ["crime"]}),
        KBDocument("alien", "Alien", 1979, {"director": ["Ridley Scott"], "genre": ["horror"]}),
        KBDocument("up", "Up", 2009, {"director": ["Pete Docter"], "genre": ["animation"]})]
ITEMS = tuple(CatalogItem(d.item_id, d.title, d.year) for d in DOCS)
REASONS = {"heat": ("stars Al Pacino", "crime film"), "alien": ("directed by Ridley Scott",), "up": ()}


@pytest.fixture(scope="module")
def checker():
    facts = FactIndex.from_documents(DOCS)
    return GroundingChecker(EntityLinker(facts, surname_items=1), facts)


def request(items=ITEMS):
    return ReplyRequest((Turn(SEEKER, "Something tense?"),), items, REASONS)


def test_a_grounded_reply_with_reasons_is_kept_as_written(checker):
    reply = check_reply("Heat (1995) is a crime classic with Al Pacino.", request(), ITEMS, checker)
    assert reply.text == "Heat (1995) is a crime classic with Al Pacino." and not reply.templated
    assert reply.fallback == "" and reply.draft == reply.text


def test_nothing_is_bolted_on_to_a_movie_named_without_a_reason(checker):
    reply = check_reply("Try Heat (1995) or Alien (1979)!", request(), ITEMS, checker)
    assert reply.text == "Try Heat (1995) or Alien (1979)!" and not reply.templated  # the cards give the reasons


@pytest.mark.parametrize("text, why", [
    ("Heat (1995) was directed by Ridley Scott.", "it states a fact the KB does not hold: heat: director Ridley Scott"),
    ("I love movies!", "it names no movie of the list"),
])
def test_a_false_fact_or_no_movie_falls_back_to_the_template_with_reasons(checker, text, why):
    reply = check_reply(text, request(), ITEMS, checker)
    assert reply.templated and reply.fallback == why and reply.draft == text
    assert reply.text == "You might enjoy Heat (1995) — stars Al Pacino; Alien (1979) — directed by Ridley Scott; " \
                         "or Up (2009)."
    assert checker(reply.text, list(ITEMS)).grounded


@pytest.mark.parametrize("text, shown, dropped", [
    ("Heat (1995) is a crime classic. It's a horror film.", "Heat (1995) is a crime classic.", ("It's a horror film.",)),
    ("I like horror. Heat (1995) stars Al Pacino.", "Heat (1995) stars Al Pacino.", ("I like horror.",)),
    ("Heat (1995) stars Al Pacino. Alien (1979) is by Michael Mann. Up (2009) is animated!",
     "Heat (1995) stars Al Pacino. Up (2009) is animated!", ("Alien (1979) is by Michael Mann.",)),
    # the movie named twice: the alignment takes out the second, which leaves that sentence headless
    ("Heat (1995) is a crime classic. Heat (1995) was a great film.", "Heat (1995) is a crime classic.",
     ("was a great film.",)),
])
def test_a_sentence_that_fails_a_check_is_left_out_when_the_rest_passes(checker, text, shown, dropped):
    reply = check_reply(text, request(), ITEMS, checker)
    assert (reply.text, reply.dropped) == (shown, dropped) and not reply.templated and reply.draft == text
    assert checker(reply.text, list(ITEMS)).grounded


@pytest.mark.parametrize("text, shown, dropped", [
    ("Heat (1995) is a crime film with Al Pacino and Ridley Scott.", "Heat (1995) is a crime film with Al Pacino.",
     ("Ridley Scott",)),
    ("Heat (1995) is a crime film with Ridley Scott and Pete Docter.", "Heat (1995) is a crime film.",
     ("Ridley Scott", "Pete Docter")),
    ("Heat (1995) is a crime film starring John Smith. It's a horror film.", "Heat (1995) is a crime film.",
     ("John Smith", "It's a horror film.")),
])
def test_people_wrongly_named_in_a_with_list_are_taken_out_of_it(checker, text, shown, dropped):
    reply = check_reply(text, request(), ITEMS, checker)
    assert (reply.text, reply.dropped) == (shown, dropped) and not reply.templated
    assert checker(reply.text, list(ITEMS)).grounded


@pytest.mark.parametrize("text, shown, dropped", [
    ("Heat (1995) is a great horror movie with Al Pacino.", "Heat (1995) is a great movie with Al Pacino.", ("horror",)),
    ("Alien (1979) is a great crime movie. It's also a great animation movie.", "Alien (1979) is a great movie.",
     ("crime", "animation", "It's also a great movie.")),
])
def test_a_genre_wrongly_said_of_a_movie_is_taken_out_where_the_sentence_still_reads(checker, text, shown, dropped):
    reply = check_reply(text, request(), ITEMS, checker)
    assert (reply.text, reply.dropped) == (shown, dropped) and not reply.templated


def test_the_writers_known_misspelling_is_mended():
    reply = check_reply("Alien (1979) is a sci-fic film. It's a great sci-fic.", request(), ITEMS)
    assert reply.text == "Alien (1979) is a sci-fi film. It's a great sci-fi."


def test_a_person_wrongly_named_outside_a_list_still_fails(checker):
    reply = check_reply("Heat (1995) was directed by Ridley Scott.", request(), ITEMS, checker)
    assert reply.templated


def test_a_reply_is_templated_when_no_sentence_that_passes_names_a_movie(checker):
    reply = check_reply("Heat (1995) is a horror film. I love it.", request(), ITEMS, checker)
    assert reply.templated and reply.fallback.startswith("it states a fact the KB does not hold")


@pytest.mark.parametrize("text, shown", [
    ("Heat (1995) is a crime classic. Alien (1979) is a", "Heat (1995) is a crime classic."),
    ("Heat (1995) is great. And", "Heat (1995) is great."),
    ("Try Heat (1995)! Or maybe", "Try Heat (1995)!"),
])
def test_a_trailing_fragment_is_never_shown(checker, text, shown):
    reply = check_reply(text, request(), ITEMS, checker)
    assert reply.text == shown and not reply.templated and reply.draft == text


def test_a_title_taken_out_leaves_no_dangling_words(checker):
    reply = check_reply("Heat (1995) is tense. You will like Heat (1995) as well as Heat (1995).", request(), ITEMS,
                        checker)
    assert reply.text == "Heat (1995) is tense." and not reply.templated


def test_a_reply_that_stops_after_a_title_ends_its_sentence_there(checker):
    reply = check_reply("You will love Heat (1995)", request(), ITEMS, checker)
    assert reply.text == "You will love Heat (1995)." and not reply.templated


def test_a_line_the_writer_ended_itself_is_a_sentence_but_a_dangling_end_is_not(checker):
    reply = check_reply("I would recommend Heat (1995) for a tense night", request(), ITEMS, checker, finished=True)
    assert reply.text == "I would recommend Heat (1995) for a tense night." and not reply.templated
    assert check_reply("Heat (1995) is a", request(), ITEMS, checker, finished=True).templated


def test_a_reply_without_a_whole_sentence_falls_back_to_the_template(checker):
    reply = check_reply("Try Heat (1995) because it is a", request(), ITEMS, checker)
    assert reply.templated and reply.fallback == "it wrote no whole sentence"


def test_a_sentence_of_titles_alone_is_not_shown(checker):
    reply = check_reply("Alien (1979) Up (2009). Heat (1995) stars Al Pacino.", request(), ITEMS, checker)
    assert reply.text == "Heat (1995) stars Al Pacino." and reply.dropped == ("Alien (1979) and Up (2009).",)
    reply = check_reply("Heat (1995), Alien (1979) and Up (2009).", request(), ITEMS, checker)
    assert reply.templated and reply.fallback == "it lists titles without a sentence"


def test_titles_run_together_read_as_a_list_once_their_years_are_written():
    reply = check_reply("I would recommend Heat (1995) Alien and Up.", request(), ITEMS)
    assert reply.text == "I would recommend Heat (1995), Alien (1979) and Up (2009)."


def test_a_sentence_the_alignment_leaves_garbled_is_left_out(checker):
    items = (CatalogItem("it", "It", 2017), *ITEMS)
    reply = check_reply("Heat (1995) is great. I've seen It is (2017) too.", request(items), items, checker)
    assert reply.text == "Heat (1995) is great." and len(reply.dropped) == 1
