"""The user representation: a query text built from the dialogue context and what the dictionaries detect in it.

Parts (each switchable in :class:`QueryConfig`, so an ablation can show what it adds):
- ``mentions``: movies mentioned so far, most recent first, with the seeker's stated feeling where the text says so;
- ``preferences``: genres, people, years and other KG values the seeker asked for, latest first (linked to the KB
  by ``llmkb.kb.linking``; dislikes are left out, since a dense encoder cannot read "not horror");
- ``dialogue``: the most recent turns with their roles, newest first, bounded in turns and words.
Recent information comes first so that the encoder's length limit truncates the oldest.

:meth:`QueryBuilder.state` reads a dialogue once into a :class:`TurnState` (mentioned movies, preferences, query)
that every later stage of a turn uses.

>>> pref = Preference("music composer", "John Williams")
>>> str(pref), pref.value
('music composer John Williams', 'John Williams')
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bm25s.stopwords import STOPWORDS_EN

from llmkb.data.dataset import Dataset
from llmkb.data.records import SEEKER, CatalogItem, Turn, mentioned_items
from llmkb.kb.documents import KBDocument
from llmkb.kb.facts import FactIndex, Preference
from llmkb.kb.linking import EntityLinker, plot_words

NEGATIVE = re.compile(r"\b(didn'?t|did not|don'?t|do not|not a fan|hate[ds]?|dislike[ds]?|boring|awful|terrible|"
                      r"wasn'?t|isn'?t|worst|overrated|couldn'?t stand)\b", re.I)
POSITIVE = re.compile(r"\b(lov(e|ed|es)|lik(e|ed|es)|enjoy(ed)?|great|favou?rite|awesome|amazing|good|fun|best)\b", re.I)
MAX_PREFERENCES = 12
DESCRIPTION_TURNS = 3  # seeker turns whose words describe what is wanted (``TurnState.description``)
DESCRIBED_WORDS = 3  # words beyond small talk, taste and stop words that make a description (``TurnState.described``)
# words that say how much the seeker likes something, not what: "I like all kinds" describes nothing
TASTE_WORDS = frozenset("""
    like likes liked love loves loved enjoy enjoys enjoyed prefer all kinds kind sorts genres ones stuff really much
    lot lots favorite favourite favorites seen watched fun awesome amazing best
""".split())  # beside SMALL_TALK, which ``description`` has already left out
# words that ask for a movie without saying which kind: a seeker who says only these has told nothing yet
SMALL_TALK = frozenset("""
    hi hello hey heya hiya howdy yo there good morning afternoon evening great nice cool fine well ok okay yes yeah sure
    thanks thank please any some something anything movie movies film films flick flicks recommend recommendation
    recommendations suggest suggestion suggestions watch watching see tonight today weekend can could would will you me
    i i'm im a an the to for of what which should looking look need want help find tell give show got how are doing
    is it it's its am be do does have has my your one kind sort type maybe perhaps just so oh that that's this with
    in on and or
""".split())


@dataclass(frozen=True)
class TurnState:
    """What one dialogue says, read once: every stage of a turn uses it instead of reading the dialogue again."""

    turns: tuple[Turn, ...]
    mentioned: tuple[str, ...]  # catalogue ids named so far, most recent first
    preferences: tuple[Preference, ...]  # what the seeker's turns ask for or rule out, linked to the KB, oldest first
    query: str  # the retriever's user representation

    @property
    def stated(self) -> list[Preference]:
        """Preferences a reader can see (not the movies, which ``mentioned`` holds), latest first."""
        return [p for p in reversed(self.preferences) if p.relation != "movie"][:MAX_PREFERENCES]

    @property
    def small_talk(self) -> bool:
        """The seeker has said nothing a ranking can use: no movie, no preference and no word beyond asking for a
        movie ("Hi! Can you recommend a movie?"), so the catalogue's popular movies are the best guess.

        >>> TurnState((Turn(SEEKER, "Hi! Any good movie for tonight?"),), (), (), "").small_talk
        True
        >>> TurnState((Turn(SEEKER, "Hi! A heist that goes wrong?"),), (), (), "").small_talk
        False
        """
        return not self.mentioned and not self.preferences and not self._beyond_small_talk(None)

    @property
    def described(self) -> bool:
        """The seeker only describes what they want: no movie, no preference linked, but ``DESCRIBED_WORDS`` words
        or more beyond small talk, taste and stop words ("A heist that goes wrong?"), so the plots that match those
        words are the best guess.

        >>> said = lambda text: TurnState((Turn(SEEKER, text),), (), (), "")
        >>> said("Hi! A heist that goes wrong?").described, said("I like all kinds").described
        (True, False)
        """
        words = [w for w in self.description.split() if w not in STOPWORDS_EN and w not in TASTE_WORDS]
        return not self.mentioned and not self.preferences and len(words) >= DESCRIBED_WORDS

    @property
    def description(self) -> str:
        """The seeker's own words beyond asking for a movie, from the latest ``DESCRIPTION_TURNS`` seeker turns,
        newest first: what the plots are searched with (``llmkb.kb.plots``). Empty when those turns are small talk.

        >>> TurnState((Turn(SEEKER, "Hi! A heist that goes wrong?"),), (), (), "").description
        'heist goes wrong'
        """
        return " ".join(self._beyond_small_talk(DESCRIPTION_TURNS))

    def _beyond_small_talk(self, turns: int | None) -> list[str]:
        """The words of the last ``turns`` seeker turns (None: all of them), newest turn first, less small talk."""
        seeker = [turn for turn in self.turns if turn.role == SEEKER][-turns if turns else None:]
        return [w for turn in reversed(seeker) for w in re.findall(r"[a-z']+", turn.text.lower())
                if w not in SMALL_TALK]

    @property
    def request(self) -> list[Preference]:
        """The explicit request: what the seeker's latest turn asks for (movies aside), and every dislike. A turn
        that refines the movies shown ("something more recent") keeps the request of the turn before it, less the
        years a relative year replaces."""
        seeker = [i for i, turn in enumerate(self.turns) if turn.role == SEEKER]
        latest = seeker[-1] if seeker else None
        refined = [p for p in self.preferences if p.relative and p.turn == latest]
        before = seeker[-2] if refined and len(seeker) > 1 else None
        replaced = {"year"} & {p.relation for p in refined}
        return [p for p in self.preferences if p.polarity < 0 or (p.relation != "movie" and (
            p.turn == latest or (p.turn == before and p.relation not in replaced)))]


@dataclass(frozen=True)
class QueryConfig:
    mentions: bool = True
    sentiment: bool = True
    preferences: bool = True
    dialogue: bool = True
    roles: bool = True
    max_turns: int = 6
    max_words: int = 160

    @classmethod
    def parse(cls, spec: str) -> "QueryConfig":
        """``"mentions,dialogue"`` → only those parts on (``"all"`` for every part)."""
        if spec == "all":
            return cls()
        parts = {p.strip() for p in spec.split(",") if p.strip()}
        known = {"mentions", "sentiment", "preferences", "dialogue", "roles"}
        if parts - known:
            raise ValueError(f"unknown query parts {sorted(parts - known)}; choose from {sorted(known)} or 'all'")
        return cls(**{name: name in parts for name in known})


def feeling(text: str) -> str | None:
    """The seeker's stated feeling about what a turn mentions: "liked", "not liked", or None when unclear."""
    if NEGATIVE.search(text):
        return "not liked"
    return "liked" if POSITIVE.search(text) else None


class QueryBuilder:
    """The user representation of a dialogue, and its :class:`TurnState`.

    >>> from llmkb.data import load_dataset
    >>> builder = QueryBuilder.for_dataset(load_dataset("redial", data_dir))
    >>> state = builder.state([Turn(SEEKER, "I loved Toy Story (1995), anything with Tom Hanks?", ("1001",))])
    >>> state.mentioned, [str(p) for p in state.stated]
    (('1001',), ['starring Tom Hanks'])
    >>> state.query
    'Movies: Toy Story (1995) (liked) . Likes: starring Tom Hanks . Dialogue: Seeker: I loved Toy Story (1995), anything with Tom Hanks?'
    """

    def __init__(self, catalog: dict[str, CatalogItem], linker: EntityLinker | None,
                 config: QueryConfig = QueryConfig()):
        self.catalog, self.linker, self.config = catalog, linker, config

    @classmethod
    def for_dataset(cls, dataset: Dataset, config: QueryConfig = QueryConfig(),
                    documents: Sequence[KBDocument] | None = None) -> "QueryBuilder":
        """The builder for ``dataset``, linking to its KB (``documents``; built or loaded when not given)."""
        if documents is None:
            from llmkb.kb import build_kb, load_kb

            documents = load_kb(build_kb(dataset)[0])
        linker = EntityLinker(FactIndex.from_documents(documents), dataset.catalog, plot_words(documents))
        return cls(dataset.catalog, linker, config)

    def state(self, context: Sequence[Turn]) -> TurnState:
        """The dialogue read once: mentioned movies, preferences and the query built from them."""
        context = tuple(context)
        preferences = tuple(self.linker.dialogue(context)) if self.linker else ()
        state = TurnState(context, tuple(mentioned_items(context)), preferences, "")
        return TurnState(context, state.mentioned, preferences, self._query(context, state.stated))

    def build(self, context: Sequence[Turn]) -> str:
        """The query text for ``context`` (the retriever's user representation)."""
        return self.state(context).query

    def _query(self, context: tuple[Turn, ...], stated: Sequence[Preference]) -> str:
        c = self.config
        parts = []
        if c.mentions:
            feelings: dict[str, str | None] = {}
            for turn in reversed(context):
                for item in turn.items:
                    said = feeling(turn.text) if c.sentiment and turn.role == SEEKER else None
                    if item not in feelings or (feelings[item] is None and said):
                        feelings[item] = said
            if feelings:
                parts.append("Movies: " + "; ".join(
                    self.catalog[i].display + (f" ({f})" if f else "") for i, f in feelings.items() if i in self.catalog))
        wanted = [p for p in stated if p.polarity > 0]
        if c.preferences and wanted:
            parts.append("Likes: " + "; ".join(map(str, wanted)))
        if c.dialogue:
            turns = [f"{t.role.capitalize()}: {t.text}" if c.roles else t.text for t in reversed(context[-c.max_turns:])]
            parts.append("Dialogue: " + " | ".join(turns))
        words = " . ".join(parts).split()
        return " ".join(words[: c.max_words])
