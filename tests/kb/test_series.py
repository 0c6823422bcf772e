"""Series read from the catalogue's titles (llmkb.kb.series)."""

from llmkb.kb.series import series_names, title_series


def test_a_title_offers_the_words_before_a_subtitle_a_sequel_number_and_and_the():
    assert series_names("Mission: Impossible – Ghost Protocol") == [
        "Mission", "Mission: Impossible", "Mission: Impossible – Ghost Protocol"]
    assert series_names("Back to the Future Part II") == ["Back to the Future", "Back to the Future Part II"]
    assert series_names("Indiana Jones and the Last Crusade")[0] == "Indiana Jones"
    assert series_names("Beauty and the Beast") == ["Beauty and the Beast"]  # one word before "and the": no name
    assert series_names("Heat") == ["Heat"]


def test_a_series_needs_two_titles_and_keeps_its_longest_name():
    titles = {"1": "Mission: Impossible", "2": "Mission: Impossible III", "3": "Heat", "4": "Heat",
              "5": "Harry Potter and the Deathly Hallows – Part 1", "6": "Harry Potter and the Deathly Hallows – Part 2",
              "7": "Harry Potter and the Goblet of Fire", "8": "Alien", "9": "Aliens"}
    series = title_series(titles)
    assert series["1"] == series["2"] == ["Mission: Impossible"]  # not "Mission": the same two films
    assert "3" not in series and "4" not in series  # one title twice is a remake, not a series
    assert series["5"] == ["Harry Potter", "Harry Potter and the Deathly Hallows"] and series["7"] == ["Harry Potter"]
    assert "8" not in series and "9" not in series  # "Aliens" is not "Alien" followed by a number
