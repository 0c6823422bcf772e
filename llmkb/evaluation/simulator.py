"""Simulated users for interactive evaluation (PROTOCOLS.md "Interactive evaluation", after iEvaLM, EMNLP'23).

A simulated user knows one target movie, which the system never sees. After each of the system's answers it accepts
when the target is among the movies shown; otherwise it turns them down and reveals one more attribute of the target,
in the protocol's order (a genre, a lead actor, the director, the decade, a plot keyword), never the title.

- :class:`LeakGuard`: whether an utterance gives the title away (the protocol's three tests);
- :func:`target_profile`: a target's attributes, read from its KB document and the movie metadata (an attribute whose
  value would itself leak is skipped);
- :class:`KBSimulator`: each turn from templates with seeded paraphrases, deterministic for a seed;
- :class:`LLMSimulator`: a local LLM phrases the same attribute feedback from a prompt that holds the attribute but
  not the title. A phrasing that leaks, or that drops the attribute, is generated once more, then replaced by the
  template; the turns it caught are counted.
- :func:`description_profile`: the description-only user of issue 32, who says no attribute at all: its target's plot
  retold, a part each round, in words that many plots share (:func:`describe_plot`); its guard also catches the
  plot's rare words.

>>> guard = LeakGuard("The Matrix", genre_words=frozenset())
>>> guard.leaks("Something with Keanu Reeves, please."), guard.leaks("Like living in a matrix.")
(False, True)
>>> doc = KBDocument("1", "Heat", 1995, {"genre": ["crime"], "director": ["Michael Mann"]}, plot="A thief plans a heist.")
>>> words = Vocabulary(frozenset({"crime"}), frozenset({"crime"}), {"thief": 3, "plans": 9, "heist": 2})
>>> profile = target_profile(doc, {}, LeakGuard("Heat", words.genre_words), words)
>>> [str(a) for a in profile.attributes]
['genre crime', 'director Michael Mann', 'decade 1990s', 'keyword heist']
>>> KBSimulator(seed=0).answer(profile, 1, ["Alien (1979)"]).text
"Alien (1979) won't do for me. Something in the crime genre, maybe?"
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from bm25s.stopwords import STOPWORDS_EN_PLUS
from rapidfuzz import fuzz

from llmkb.data.io import AppendCache
from llmkb.kb.documents import KBDocument
from llmkb.postprocess.normalize import fold, normalize_title
from llmkb.postprocess.reply import listing

ATTRIBUTE_ORDER = ("genre", "actor", "director", "decade", "keyword")
RARE_PLOT = 10  # a lower-case word used by fewer plots tells the movie apart: a description never copies it
LONG_SENTENCE = 20  # words; a longer plot sentence is told in two parts, split at a comma
DESCRIBED_WORDS = 4  # a part of a description keeps at least this many words
PARTIAL_RATIO_LEAK = 90  # rapidfuzz partial_ratio of title vs utterance at which an utterance leaks
# Words of everyday movie talk: a title word among them ("Movie" in "Scary Movie") does not leak on its own.
CHAT_WORDS = frozenset("""
movie movies film films something anything maybe really thanks thank please like love loved watch watched want wanted
good great best favorite favourite story time night life world people thing things little big seen kind sort more
look looking think thinking mood ideally perhaps about with from that this those these what which would could should
feel fine okay sure none other another still just very much some sounds sound enjoy fan director directed star stars
starring actor actors plot decade genre after before involves involving features featuring made make""".split())
COMMON_WORDS = frozenset(STOPWORDS_EN_PLUS) | CHAT_WORDS
OPENERS = ("Hi! Can you recommend a movie?", "Hello, I'm looking for a movie to watch tonight.",
           "Hey! Any movie suggestions?", "Hi there, could you suggest a good film?",
           "Hello! I need a movie recommendation.", "Hi, what should I watch?")
ACCEPT = "Yes, that's the one I was looking for. Thanks!"
REJECT = ("I've seen {}.", "Not {}, thanks.", "{} won't do for me.", "I'm not in the mood for {}.")
REJECT_UNNAMED = "None of those, thanks."
PARAPHRASES = {
    "genre": ("I'm in the mood for a {} movie.", "Something in the {} genre, maybe?", "Do you know any good {} films?"),
    "actor": ("I'd like one with {} in it.", "Do you have something starring {}?", "I'm a big fan of {}."),
    "director": ("Maybe something directed by {}?", "I like films by {}.", "Ideally it's directed by {}."),
    "decade": ("Ideally something from the {}.", "I'm thinking of a movie from the {}.", "One from the {} would be good."),
    "keyword": ("I want a story involving {}.", "Something about {}, perhaps.", "It should have {} in the plot."),
    "description": ("I'm looking for a movie where {}.", "Do you know a film where {}?", "It's a story where {}."),
}
WISHES = {"genre": "a {} movie", "actor": "a movie starring {}", "director": "a movie directed by {}",
          "decade": "a movie from the {}", "keyword": "a movie whose story involves {}",
          "description": "a movie where {}"}
TEMPLATE = {"genre": "Genre: {}.", "actor": "With {}.", "director": "By {}.", "decade": "From the {}.",
            "keyword": "About {}.", "description": "A movie where {}."}  # the plain form, used when a paraphrase leaks
NOTHING_NEW = "Something else, please."
WORD = re.compile(r"[a-z0-9]+")
PLOT_WORD = re.compile(r"\b[a-z]{4,}\b")  # lower case in a plot: a word, not a name
# the LLM user's example of a description retold, and its story's own words: a retelling that says one of them that
# its description lacks copied the example
EXAMPLE_DESCRIPTION = ("a young boy learns that he is a wizard and goes to a school of magic",
                       "Do you know a film about a boy who finds out he's a wizard and goes to a magic school?")
EXAMPLE_WORDS = frozenset({"wizard", "magic", "school"})
COMMON_GENRE = 5  # genres of fewer KB items are KG noise ("Tactical role-playing game"), not what a user names


@dataclass(frozen=True)
class Attribute:
    kind: str  # one of ATTRIBUTE_ORDER
    value: str

    def __str__(self) -> str:
        return f"{self.kind} {self.value}"


@dataclass(frozen=True)
class TargetProfile:
    """What the simulated user knows: the target and its attributes in the order it reveals them."""

    item_id: str
    title: str  # never said, never shown to the system
    attributes: tuple[Attribute, ...]


@dataclass(frozen=True)
class Utterance:
    text: str
    items: tuple[str, ...] = ()  # catalogue ids it names (the movies turned down)
    source: str = "template"  # "paraphrase" (kb), "llm", "template" (the plain fallback) or "fixed"
    leaks: int = 0  # phrasings the leak guard caught and threw away before this one
    unfaithful: int = 0  # phrasings thrown away for dropping the attribute or adding a year


class LeakGuard:
    """The protocol's leak test for one target title: its normalized title (without year, articles and stop words)
    as a phrase, any of its words longer than 3 characters that are not genre or common words, or rapidfuzz
    ``partial_ratio`` of title vs utterance ≥ 90. ``telling``: further words that give the movie away (a description
    user's: its plot's rare words)."""

    def __init__(self, title: str, genre_words: frozenset[str], common: frozenset[str] = COMMON_WORDS,
                 telling: frozenset[str] = frozenset()):
        words = WORD.findall(normalize_title(re.sub(r"\s*\(\d{4}\)\s*$", "", title)))
        content = [w for w in words if w not in STOPWORDS_EN_PLUS] or words
        self.phrase = " ".join(content)
        self.words = frozenset(w for w in content if len(w) > 3 and w not in genre_words and w not in common) | telling

    def leaks(self, utterance: str) -> bool:
        said = " ".join(WORD.findall(fold(utterance)))
        if not self.phrase:
            return False
        return (f" {self.phrase} " in f" {said} " or bool(self.words & set(said.split()))
                or fuzz.partial_ratio(self.phrase, said) >= PARTIAL_RATIO_LEAK)


@dataclass(frozen=True)
class Vocabulary:
    """What the KB says about words: genre words (never a leak on their own), the genres common enough for a user
    to name (``COMMON_GENRE`` items or more), and how many plots use each lower-case word (the rarest is a target's
    most telling keyword)."""

    genre_words: frozenset[str]
    genres: frozenset[str]
    plot_counts: Mapping[str, int]

    @classmethod
    def from_documents(cls, documents: Iterable[KBDocument]) -> Vocabulary:
        documents = list(documents)
        genres = Counter(fold(g) for doc in documents for g in dict.fromkeys(doc.facts.get("genre", [])))
        return cls(frozenset(w for genre in genres for w in WORD.findall(genre)),
                   frozenset(g for g, n in genres.items() if n >= COMMON_GENRE),
                   Counter(w for doc in documents for w in set(PLOT_WORD.findall(doc.plot))))


def target_profile(doc: KBDocument, metadata: Mapping, guard: LeakGuard, vocabulary: Vocabulary) -> TargetProfile:
    """The attributes of ``doc``'s movie that the KB or the metadata holds, in the protocol's order: its first
    common genre, its lead actor (the metadata's first-billed star the KB confirms, else the KB's first), director,
    decade and rarest plot word used by at least two plots."""
    def first(values: Sequence[str], billed: Sequence[str] = ()) -> str | None:
        ordered = [v for v in billed if v in values] + list(values)
        return next((v for v in ordered if not guard.leaks(v)), None)

    genres = [g for g in doc.facts.get("genre", []) if fold(g) in vocabulary.genres]
    found = {"genre": first(genres, list(metadata.get("genre", []))),
             "actor": first(doc.facts.get("starring", []), list(metadata.get("star", []))),
             "director": first(doc.facts.get("director", [])),
             "decade": first([f"{doc.year // 10 * 10}s"] if doc.year else [])}
    counts = vocabulary.plot_counts
    words = [w for w in PLOT_WORD.findall(doc.plot) if w not in COMMON_WORDS and counts.get(w, 0) >= 2
             and not guard.leaks(w)]
    found["keyword"] = min(words, key=lambda w: counts[w], default=None)  # the rarest; the first on ties
    attributes = tuple(Attribute(kind, value) for kind in ATTRIBUTE_ORDER if (value := found[kind]))
    return TargetProfile(doc.item_id, doc.display, attributes)


def rare_plot_words(plot: str, vocabulary: Vocabulary) -> frozenset[str]:
    """The lower-case words of ``plot`` that fewer than ``RARE_PLOT`` plots use: a description must not copy them."""
    return frozenset(w for w in PLOT_WORD.findall(plot) if vocabulary.plot_counts.get(w, 0) < RARE_PLOT)


def describe_plot(plot: str, vocabulary: Vocabulary, guard: LeakGuard) -> tuple[str, ...]:
    """``plot`` retold in the words many plots share, a part per sentence (a long one in two, at a comma): no name
    (a capitalised word, unless it starts the sentence and is common), no number, no word fewer than ``RARE_PLOT``
    plots use, and no word of the title. A part that lost half its words, or kept fewer than ``DESCRIBED_WORDS``,
    is left out.

    >>> words = Vocabulary(frozenset(), frozenset(), {"thief": 40, "plans": 90, "with": 900, "crew": 30, "heist": 3})
    >>> describe_plot("A thief plans a heist with his crew in Los Angeles.", words, LeakGuard("Heat", frozenset()))
    ('a thief plans a with his crew in',)
    """
    common = lambda word: all(len(part) <= 3 or vocabulary.plot_counts.get(part, 0) >= RARE_PLOT  # noqa: E731
                              for part in re.findall(r"[a-z]+", word))
    parts = []
    for sentence in re.split(r"(?<=[.!?])\s+", " ".join(plot.split())):
        halves = [sentence]
        commas = [i for i, char in enumerate(sentence) if char == ","]
        if len(sentence.split()) > LONG_SENTENCE and commas:
            cut = min(commas, key=lambda i: abs(i - len(sentence) / 2))
            halves = [sentence[:cut], sentence[cut + 1:]]
        for half in halves:
            tokens = re.findall(r"[A-Za-z]+(?:['’-][A-Za-z]+)*|\d\S*|[,;:]", half)
            kept = []
            for position, token in enumerate(tokens):
                word = token.lower()
                if token in ",;:":
                    kept.append(token)
                elif (word == token or position == 0) and not token[0].isdigit() and common(word) \
                        and word not in guard.words:
                    kept.append(word)
            words = [t for t in kept if t not in ",;:"]
            text = re.sub(r"(\s*[,;:])+", lambda m: m.group()[-1], " ".join(kept)).strip(" ,;:")
            said = [t for t in tokens if t not in ",;:"]
            if len(words) >= DESCRIBED_WORDS and 2 * len(words) >= len(said) and not guard.leaks(text):
                parts.append(text)
    return tuple(parts)


def description_profile(doc: KBDocument, guard: LeakGuard, vocabulary: Vocabulary) -> TargetProfile:
    """The description-only user's target: its plot's parts (:func:`describe_plot`) in order, no attribute."""
    parts = describe_plot(doc.plot, vocabulary, guard)
    return TargetProfile(doc.item_id, doc.display, tuple(Attribute("description", part) for part in parts))


def rng_for(seed: int, *keys: object) -> random.Random:
    """A generator of its own for (seed, keys): the same choice whatever ran before it."""
    return random.Random(hashlib.sha1(repr((seed, *keys)).encode()).hexdigest())


class KBSimulator:
    """The deterministic simulated user: templates with seeded paraphrases from the KB and the movie metadata."""

    name = "kb"

    def __init__(self, seed: int = 0):
        self.seed = seed

    def opener(self, key: str) -> str:
        return rng_for(self.seed, key, "opener").choice(OPENERS)

    def attribute_phrasings(self, profile: TargetProfile, attribute: Attribute) -> Iterator[tuple[str, str]]:
        """(text, source) phrasings of ``attribute``, tried in turn: a seeded paraphrase, then another."""
        phrasings = list(PARAPHRASES[attribute.kind])
        rng_for(self.seed, profile.item_id, attribute.kind).shuffle(phrasings)
        return ((p.format(attribute.value), "paraphrase") for p in phrasings[:2])

    def answer(self, profile: TargetProfile, round_: int, shown: Sequence[str], shown_ids: Sequence[str] = (),
               guard: LeakGuard | None = None, name_shown: bool = True) -> Utterance | None:
        """The user's turn after round ``round_`` (1-based) showed ``shown`` (display titles) without the target:
        it turns them down and reveals attribute ``round_`` (or asks for something else once all are out). Each
        part falls back until nothing leaks: paraphrases, the template, the bare value, no new attribute; the
        named rejection (unless ``name_shown`` is false), an unnamed one. None: every option leaked, and the user
        gives up."""
        guard = guard or LeakGuard(profile.title, frozenset())
        rejections = [("", ())]
        if shown:
            named = rng_for(self.seed, profile.item_id, round_).choice(REJECT).format(listing(shown))
            rejections = [*([(named, tuple(shown_ids))] if name_shown else []), (REJECT_UNNAMED, ()), *rejections]
        def options() -> Iterator[tuple[str, str, Attribute | None]]:  # text, source, the attribute it must state
            if round_ <= len(profile.attributes):
                attribute = profile.attributes[round_ - 1]
                yield from ((text, source, attribute) for text, source in self.attribute_phrasings(profile, attribute))
                yield from ((form.format(attribute.value), "template", attribute)
                            for form in (TEMPLATE[attribute.kind], "{}."))
            yield NOTHING_NEW, "fixed", None

        leaks = next(i for i, (text, _) in enumerate(rejections) if not guard.leaks(text))
        rejection, named_ids = rejections[leaks]
        unfaithful = 0
        for text, source, attribute in options():
            said = f"{rejection} {text}".strip()
            if attribute is not None and not faithful(text, attribute):
                unfaithful += 1
            elif guard.leaks(said):
                leaks += 1
            else:
                return Utterance(said, named_ids, source, leaks, unfaithful)
        return None


def faithful(text: str, attribute: Attribute) -> bool:
    """``text`` says the attribute's value (all its words) and no year or decade it was not asked to say.

    >>> faithful("I'd love a 1980s heist movie.", Attribute("keyword", "heist"))
    False
    >>> faithful("A crook plans a robbery with his crew?", Attribute("description", "a thief plans a job with his crew"))
    True
    >>> faithful("A wizard thief plans a job with his crew?", Attribute("description", "a thief plans a job with his crew"))
    False
    """
    said = set(WORD.findall(fold(text)))
    invented = attribute.kind != "decade" and re.search(r"\b(1[89]|20)\d0s\b|\b(1[89]|20)\d\d\b", text)
    wanted = set(WORD.findall(fold(attribute.value)))
    if attribute.kind == "description":  # retold in other words: half of its content words, none from the example
        copied = EXAMPLE_WORDS - wanted
        wanted = {w for w in wanted if len(w) > 3 and w not in COMMON_WORDS}
        return 2 * len(wanted & said) >= len(wanted) and not invented and not copied & said
    return wanted <= said and not invented


class LLMSimulator(KBSimulator):
    """The same user, with a local LLM phrasing each attribute from a prompt without the title (sampled, seeded).
    First phrasings are made up front in batches (:meth:`prepare`), so they do not depend on the system under test;
    a re-generation is made when one is needed. Both are cached by seed, attempt and prompt."""

    name = "llm"
    max_new_tokens = 32
    temperatures = (0.3, 0.7)  # the first phrasing, then the re-generation

    def __init__(self, model, tokenizer, seed: int = 0, cache: AppendCache | None = None, model_name: str = "",
                 batch: int = 16, progress: bool = True):
        super().__init__(seed)
        self.model, self.tokenizer, self.model_name = model, tokenizer, model_name
        self.cache = cache if cache is not None else AppendCache(None)
        self.batch, self.progress = batch, progress
        self.prompts: dict[Attribute, str] = {}

    def prompt(self, attribute: Attribute) -> str:
        """A few-shot chat prompt (a 135M model follows examples better than instructions) without the title."""
        from llmkb.generation.prompt import render_chat

        if attribute not in self.prompts:
            asked = lambda wish: {"role": "user", "content": f"Say that you would like {wish}."}  # noqa: E731
            said = lambda text: {"role": "assistant", "content": text}  # noqa: E731
            self.prompts[attribute] = render_chat(self.tokenizer, [
                {"role": "system", "content": "You are a movie fan talking to a friend who recommends movies. "
                                              "Answer with one short, casual sentence."},
                asked("a movie directed by Steven Spielberg"),
                said("Could you suggest something directed by Steven Spielberg?"),
                asked("a thriller movie"), said("I'm in the mood for a good thriller."),
                asked("a movie from the 1980s"), said("Maybe something from the 1980s?"),
                *([asked(WISHES["description"].format(EXAMPLE_DESCRIPTION[0])), said(EXAMPLE_DESCRIPTION[1])]
                  if attribute.kind == "description" else []),
                asked(WISHES[attribute.kind].format(attribute.value))])
        return self.prompts[attribute]

    def prepare(self, profiles: Sequence[TargetProfile]) -> None:
        """Make the first phrasing of every attribute of ``profiles`` that the cache lacks, in batches."""
        from tqdm.auto import tqdm

        todo = list(dict.fromkeys(a for p in profiles for a in p.attributes if self._key(a, 0) not in self.cache))
        with tqdm(total=len(todo), desc="simulated user (LLM phrasings)", unit="phrasing",
                  disable=not self.progress or not todo) as bar:
            for start in range(0, len(todo), self.batch):
                chunk = todo[start:start + self.batch]
                self._generate(chunk, 0, self.seed + start)
                bar.update(len(chunk))

    def attribute_phrasings(self, profile: TargetProfile, attribute: Attribute) -> Iterator[tuple[str, str]]:
        for attempt in range(len(self.temperatures)):
            if self._key(attribute, attempt) not in self.cache:
                self._generate([attribute], attempt, rng_for(self.seed, str(attribute), attempt).randrange(2**31))
            yield self.cache[self._key(attribute, attempt)]["text"], "llm"

    def _key(self, attribute: Attribute, attempt: int) -> str:
        return f"{self.seed}|{attempt}|{self.temperatures[attempt]}|{self.max_new_tokens}|{self.prompt(attribute)}"

    def _generate(self, attributes: Sequence[Attribute], attempt: int, seed: int) -> None:
        from llmkb.generation.generate import clean_generation, generate_texts

        texts = generate_texts(self.model, self.tokenizer, [self.prompt(a) for a in attributes], self.max_new_tokens,
                               self.temperatures[attempt], seed)
        self.cache.add({self._key(a, attempt): {"text": _first_sentence(clean_generation(text))}
                        for a, text in zip(attributes, texts)})


def _first_sentence(text: str) -> str:
    match = re.match(r"(.+?[.!?])(\s|$)", text.strip(), re.S)
    return " ".join((match.group(1) if match else text).split())[:300]
