"""Post-processing: generated text → catalogue ids → final top-k list, and a reply consistent with that list.

>>> matches = TitleMatcher(catalog).match(generated_text)
>>> ranking = finalize_ranking(matches.item_ids, retriever_ranking, k=50, exclude=sample.mentioned)
>>> reply = align_reply(generated_reply, [items[i] for i in ranking[:3]], catalog)
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
