"""The plot index: a description reaches the movie whose plot it retells, by BM25 over the KB's plots."""

from llmkb.kb.documents import KBDocument
from llmkb.kb.plots import PlotIndex

DOCUMENTS = [KBDocument("1", "Jaws", 1975, {}, plot="A giant shark terrorises a beach town; the police chief hunts it."),
             KBDocument("2", "Heat", 1995, {}, plot="A detective hunts a crew of thieves after a bank heist."),
             KBDocument("3", "Babe", 1995, {}, plot="A pig raised by sheepdogs learns to herd sheep on a farm."),
             KBDocument("4", "Untold", 2001, {}, plot="")]


def test_a_description_reaches_the_plot_it_retells_first_with_score_one():
    match = PlotIndex(DOCUMENTS).match("Do you know a film where a big shark scares a town by the beach?")
    assert next(iter(match)) == "1" and match["1"] == 1.0
    assert list(match) == sorted(match, key=match.get, reverse=True)  # best first
    assert all(0 < score <= 1 for score in match.values())


def test_shared_words_rank_and_unshared_plots_are_left_out():
    match = PlotIndex(DOCUMENTS).match("a detective hunts thieves")
    assert list(match)[0] == "2" and "3" not in match and "4" not in match  # no shared word, no plot
    assert 0 < match.get("1", 0) < 1  # "hunts" only


def test_stop_words_and_unknown_words_match_nothing():
    plots = PlotIndex(DOCUMENTS)
    assert plots.match("is it the one with a") == {} and plots.match("zyzzyva qwerty") == {} and plots.match("") == {}
