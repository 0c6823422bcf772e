"""Post-processing: generated text → catalogue ids → final top-k list, and a reply consistent with that list.

>>> from llmkb.data.records import CatalogItem
>>> catalog = {i.item_id: i for i in [CatalogItem("1", "Heat", 1995), CatalogItem("2", "Alien", 1979),
...                                   CatalogItem("3", "Up", 2009)]}
>>> matches = TitleMatcher(catalog.values()).match("Try Alien (1979) or Barbie (2023)")
>>> matches.item_ids, matches.dropped  # Barbie is not in the catalogue
(['2'], ['Barbie (2023)'])
>>> ranking = finalize_ranking(matches.item_ids, ["3", "1", "2"], k=2, exclude=["3"], allowed=catalog)
>>> ranking  # always k distinct allowed ids: generated first, then the fallback order
['2', '1']
>>> align_reply("Try Alien (1979) or Barbie (2023).", [catalog[i] for i in ranking], catalog.values()).text
'Try Alien (1979) or Heat (1995).'
"""

from llmkb.postprocess.normalize import normalize_title
from llmkb.postprocess.ranking import finalize_ranking
from llmkb.postprocess.reply import AlignedReply, align_reply, template_reply
from llmkb.postprocess.titles import Mention, TitleMatcher, TitleMatches, match_titles

__all__ = [
    "AlignedReply",
    "Mention",
    "TitleMatcher",
    "TitleMatches",
    "align_reply",
    "finalize_ranking",
    "match_titles",
    "normalize_title",
    "template_reply",
]
