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
    assert reply.completed == () and reply.fallback == "" and reply.draft == reply.text


def test_a_movie_named_without_a_reason_gets_its_first_kb_reason(checker):
    reply = check_reply("Try Heat (1995) or Alien (1979)!", request(), ITEMS, checker)
    assert reply.text == "Try Heat (1995) or Alien (1979)! Heat (1995) — stars Al Pacino. Alien (1979) — directed " \
                         "by Ridley Scott."
    assert reply.completed == ("heat", "alien") and not reply.templated
    assert checker(reply.text, list(ITEMS)).says_why


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


def test_added_reasons_follow_a_finished_sentence(checker):
    reply = check_reply("Try Heat (1995)", request(), ITEMS, checker)
    assert reply.text == "Try Heat (1995). Heat (1995) — stars Al Pacino."
