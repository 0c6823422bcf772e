"""The fluency checks of issue 34 on the defects it quotes, and on replies that must pass."""

import pytest

from llmkb.data.records import CatalogItem
from llmkb.postprocess.fluency import fluency_problems, join_titles, trim_fragment

LISTED = [CatalogItem("1", "The Shining", 1980), CatalogItem("2", "Thor: Ragnarok", 2017),
          CatalogItem("3", "Cinderella", 1950), CatalogItem("4", "Pocahontas", 1995),
          CatalogItem("5", "Platoon", 1986), CatalogItem("6", "Full Metal Jacket", 1987),
          CatalogItem("7", "Mr. Deeds", 2002)]


@pytest.mark.parametrize("reply, problems", [
    ("Alien and Heat are both really cool sci-fi movies. is a", ["cut_off", "headless"]),
    ("The Shining (1980) is a great.", ["cut_off"]),
    ("Thor: Ragnarok (2017) is a bit more.", ["cut_off"]),
    ("Cinderella (1950) (1994.", ["inexact_title", "titles_only"]),
    ("The Shining (1980) Platoon (1986) and Cinderella (1950). They are classics.", ["titles_only", "run_on_titles"]),
    ("I would recommend The Shining (1980) Platoon (1986) Cinderella (1950).", ["run_on_titles"]),
    ("Try The Shining (1980), Platoon (1986) and Cinderella (1950).", []),
    ("You will love Pocahontas (1994).", ["inexact_title"]),
    ("Try Platoon (1986). Full Metal Jacket (1987) — war film. Platoon (1986) — directed by Oliver Stone.",
     ["named_twice", "bolted_reason"]),
    ("The Shining (1980) is a classic. Mr. Deeds (2002) is lighter!", []),
    ("If you liked Heat, try Platoon (1986), Oliver Stone's war film.", []),
    # the served writer speaking as the seeker on the demo's example openers (2026-12-07)
    ("I've seen The Shining (1980) and Platoon (1986). I've seen those movies too.", ["seeker_voice"]),
    ("I like Cinderella (1950) and Pocahontas (1995).", ["seeker_voice"]),
    ("I haven't seen Platoon (1986) yet.", ["seeker_voice"]),
    ("I've seen Platoon (1986) twice. You would like it too.", []),
    ("I loved The Shining (1980), a real classic. How about that one?", []),
    ("I'd like to suggest Platoon (1986), a tense war film.", []),
    ("The Shining (1980) and Platoon (1986) are both great. I think J.", ["cut_off"]),  # the demo, 2026-12-07
    ("The Shining (1980) is a horror movie with a dark tone. has a dark tone.", ["headless"]),  # the demo too
    ("Platoon (1986) is great. \"Full Metal Jacket (1987)\" is too.", []),
    # a false genre struck from both sentences ("a great action movie. It's also a great horror movie.")
    ("Platoon (1986) is a great movie. It's also a great movie.", ["repeated"]),
    ("Platoon (1986) is a great movie. The Shining (1980) is a great movie.", []),
    ("Platoon (1986) is a great movie. It's also a tense one.", []),
    ("Platoon (1986) is a great war movie. It's a great one.", ["repeated"]),  # INSPIRED, 2026-12-07
    ("The Shining (1980) is a horror movie with a dark and dark twist.", ["repeated"]),  # the demo, 2026-12-07
    ("The Shining (1980) gets scarier and scarier, again and again.", []),
    # the template, 2026-12-07: initials are no sentences
    ("You might enjoy Platoon (1986) — directed by J. J. Abrams; or Cinderella (1950) — directed by J. J. Abrams.", []),
])
def test_the_quoted_defects_are_caught_and_good_replies_pass(reply, problems):
    assert fluency_problems(reply, LISTED) == problems


def test_a_dot_inside_a_listed_title_ends_no_sentence():
    assert trim_fragment("Watch Mr. Deeds (2002) tonight", LISTED) == ""
    assert trim_fragment("Watch Mr. Deeds (2002). It is a", LISTED) == "Watch Mr. Deeds (2002)."
    assert fluency_problems("", LISTED) == ["cut_off"]


def test_titles_run_together_are_written_as_a_list():
    ran = "I would recommend The Shining (1980) Platoon (1986) Cinderella (1950). Mr. Deeds (2002) is lighter."
    joined = join_titles(ran, LISTED)
    assert joined == "I would recommend The Shining (1980), Platoon (1986) and Cinderella (1950). Mr. Deeds (2002) is lighter."
    assert fluency_problems(joined, LISTED) == [] and join_titles(joined, LISTED) == joined
