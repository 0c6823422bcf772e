import pytest

from llmkb.data.records import CatalogItem
from llmkb.kb.documents import KBDocument
from llmkb.kb.facts import FactIndex
from llmkb.kb.linking import EntityLinker
from llmkb.postprocess.grounding import GroundingChecker, sentence_spans

DOCS = [
    KBDocument("heat", "Heat", 1995, {"director": ["Michael Mann"], "starring": ["Al Pacino", "Robert De Niro"],
                                      "genre": ["crime", "thriller"]}),
    KBDocument("alien", "Alien", 1979, {"director": ["Ridley Scott"], "starring": ["Sigourney Weaver"],
                                        "genre": ["horror", "sci-fi"]}),
    KBDocument("up", "Up", 2009, {"director": ["Pete Docter"], "genre": ["animation", "comedy"]}),
]
ITEMS = [CatalogItem(d.item_id, d.title, d.year) for d in DOCS]


def checker_of(docs):
    facts = FactIndex.from_documents(docs)
    return GroundingChecker(EntityLinker(facts, surname_items=1), facts)


@pytest.fixture(scope="module")
def checker():
    return checker_of(DOCS)


@pytest.mark.parametrize("reply, claims", [
    ("Heat (1995) is a tense crime thriller directed by Michael Mann.",
     ["heat: genre crime", "heat: genre thriller", "heat: director Michael Mann"]),
    ("Try Heat (1995). It stars Al Pacino and Robert De Niro.",  # the next sentence speaks of the same movie
     ["heat: starring Al Pacino", "heat: starring Robert De Niro"]),
    ("Alien (1979) came out in 1979 and is scary.", ["alien: year 1979", "alien: genre horror"]),
    ("Up (2009) is not scary at all. It is funny.", ["up: not genre horror", "up: genre comedy"]),
    ("Heat (1995) or Alien (1979), with Sigourney Weaver?",  # said of both: it holds for one of them
     ["heat,alien: starring Sigourney Weaver"]),
])
def test_true_facts_hold_and_explain_the_movies(checker, reply, claims):
    check = checker(reply, ITEMS)
    assert [str(c) for c in check.claims] == claims
    assert check.grounded and check.says_why


@pytest.mark.parametrize("reply, false", [
    ("Heat (1995) was directed by Ridley Scott.", "heat: director Ridley Scott"),
    ("Try Alien (1979). It stars Al Pacino.", "alien: starring Al Pacino"),
    ("Heat (1995) is a hilarious comedy.", "heat: genre comedy"),
    ("Up (2009) is a classic from the 80s.", "up: year 1980s"),
    ("Heat (1995), starring John Smithers, is great.", "heat: person John Smithers"),  # a name the KB lacks
    ("Up (2009) is not animated.", "up: not genre animation"),
])
def test_a_fact_the_kb_does_not_hold_is_caught(checker, reply, false):
    check = checker(reply, ITEMS)
    assert [str(c) for c in check.false_claims] == [false]
    assert not check.grounded


def test_naming_a_movie_without_a_reason_is_grounded_but_says_no_why(checker):
    check = checker("You should watch Heat (1995) and Up (2009)! Up (2009) is animated.", ITEMS)
    assert check.named == ("heat", "up") and check.explained == ("up",)
    assert check.grounded and not check.says_why
    assert not checker("Sure, I can help with that.", ITEMS).says_why  # names nothing


def test_the_year_in_a_title_is_not_a_claim(checker):
    assert checker("Heat (1995)!", ITEMS).claims == ()


def test_sentences_are_not_cut_at_initials_or_inside_titles():
    docs = [KBDocument("go", "Go!", 1999, {"director": ["J. J. Abrams"], "music composer": ["Bea Stone"]}),
            KBDocument("x", "Other", 2000, {"director": ["Pete Docter"]})]
    check = checker_of(docs)
    items = [CatalogItem("go", "Go!", 1999)]
    assert check("Try Go! (1999), directed by J. J. Abrams.", items).says_why
    assert check("Try Go! (1999): music by Bea Stone.", items).grounded  # "music by" is a role, not the genre


def test_a_yearless_list_title_is_found_and_a_catalogue_title_outside_the_list_is_named(checker):
    from llmkb.postprocess import TitleMatcher

    yearless = [CatalogItem("up", "Up")]
    check = checker("Watch Up, a comedy, or Heat (1995) with Al Pacino.", yearless, TitleMatcher(ITEMS))
    assert check.named == ("up", "heat") and check.grounded


def test_a_phrase_with_two_readings_holds_when_one_does():
    docs = [KBDocument("sw", "Star Wars", 1977, {"genre": ["fantasy"], "production company": ["Fantasy Films"]}),
            KBDocument("up", "Up", 2009, {"genre": ["animation"]})]
    check = checker_of(docs)
    assert check("Star Wars (1977) — fantasy film.", [CatalogItem("sw", "Star Wars", 1977)]).grounded
    assert not check("Up (2009) — fantasy film.", [CatalogItem("up", "Up", 2009)]).grounded


def test_the_stated_role_is_checked_and_title_words_negate_nothing():
    docs = [KBDocument("z", "You Don't Mess with the Zohan", 2008, {"starring": ["Adam Sandler"], "writer": ["Judd Apatow"]}),
            KBDocument("k", "Knocked Up", 2007, {"director": ["Judd Apatow"]})]
    check = checker_of(docs)
    zohan = [CatalogItem("z", "You Don't Mess with the Zohan", 2008)]
    assert check("You Don't Mess with the Zohan (2008) — stars Adam Sandler.", zohan).says_why
    assert check("You Don't Mess with the Zohan (2008), written by Judd Apatow.", zohan).grounded
    assert not check("You Don't Mess with the Zohan (2008), directed by Judd Apatow.", zohan).grounded


@pytest.mark.parametrize("reply, false", [  # the trained writer's replies that issue 34 found templated for a feeling
    ("Heat (1995) is a great movie. It's funny.", []),
    ("I think it's a good one, it's funny and scary. I also like Heat (1995).", []),
    ("Heat (1995) and Alien (1979) are both funny movies.", ["heat,alien: genre comedy"]),  # said as a genre
    ("Heat (1995) is a scary, tense film.", ["heat: genre horror"]),
    ("Heat (1995) tells funny stories.", ["heat: genre comedy"]),
])
def test_a_feeling_is_a_genre_claim_only_when_it_describes_the_movie(checker, reply, false):
    assert [str(c) for c in checker(reply, ITEMS).false_claims] == false


def test_a_feeling_that_holds_is_a_reason(checker):
    check = checker("Alien (1979)? It's scary!", ITEMS)
    assert [str(c) for c in check.claims] == ["alien: genre horror"] and check.says_why


def test_a_claim_said_of_both_movies_must_hold_for_each(checker):
    said = "I've seen Heat (1995) and Alien (1979), both starring Sigourney Weaver."  # the served writer's kind of slip
    assert [str(c) for c in checker(said, ITEMS).false_claims] == ["heat,alien: starring Sigourney Weaver"]
    assert checker("Heat (1995) and Alien (1979) are both thrillers? Alien (1979) stars Sigourney Weaver.",
                   ITEMS).false_claims  # Alien is not a thriller in the KB
    assert checker("Heat (1995) or Alien (1979), with Sigourney Weaver?", ITEMS).grounded  # one of them is enough


def test_a_surname_that_is_an_everyday_word_is_a_name_only_when_capitalised():
    tone = [KBDocument(f"t{k}", f"Old Film {k}", 1935, {"starring": ["Franchot Tone"]}) for k in range(3)]
    checker = checker_of(DOCS + tone)
    assert checker.linker.word_surnames["tone"] == "Franchot Tone"  # the linker reads "Tone", not "tone", as him
    # the served writer on the demo's horror opener (2026-12-07): templated for "starring Franchot Tone"
    assert checker("Alien (1979) is a horror movie with a dark tone.", ITEMS).grounded
    assert not checker("Alien (1979) is a horror movie with Franchot Tone.", ITEMS).grounded


@pytest.mark.parametrize("text, sentences", [
    ("Heat (1995) is tense. was a great film.", ["Heat (1995) is tense.", "was a great film."]),  # headless
    ("Films by J. J. Abrams are fun. Heat vs. the rest.", ["Films by J. J. Abrams are fun.", "Heat vs. the rest."]),
    ("Go! (1999) is fun, e.g. the rave.", ["Go! (1999) is fun, e.g. the rave."]),
])
def test_sentences_are_cut_before_any_start_but_not_after_an_initial_an_abbreviation_or_inside_a_title(text, sentences):
    title = text.find("Go! (1999)")
    titles = [(title, title + len("Go! (1999)"))] if title >= 0 else []
    assert [text[a:b] for a, b in sentence_spans(text, titles)] == sentences
