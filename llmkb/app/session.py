"""The demo's conversation logic, free of any UI: sessions, guarded turns, recommendation cards, the cost panel.

``app.py`` only renders what this module returns. One :class:`ChatService` serves every browser session; a
:class:`Session` is plain data (the UI keeps one per visitor). Every reply comes from the catalogue: odd input
(empty, huge, non-English, unknown titles, "ignore the catalogue and ...") gets a plain-words answer instead.

>>> from functools import partial
>>> load = partial(load_engine, data_dir=data_dir, retriever=encoder_path, llm=llm_path, progress=False,
...                prompt_tokens=4096, reply_prompt_tokens=4096, reply_tokens=8)  # default: the packaged models
>>> service = ChatService(load)
>>> session = service.respond(Session("redial", "dense"), "I loved Heat (1995)")
>>> [m["role"] for m in session.messages], len(session.cards), session.turns[0].items
(['user', 'assistant'], 5, ('1004',))
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from llmkb.data.records import Turn
from llmkb.errors import LLMKBError
from llmkb.kb.documents import PHRASES, KBDocument
from llmkb.app.backbone import BACKBONES, RECIPE, Backbone, Recipe, prepare
from llmkb.app.build import SERVED, Build, served_config
from llmkb.pipeline import Recommendation, Recommended, Recommender, RecommenderConfig
from llmkb.pipeline.config import WRITER_RUNTIME
from llmkb.retrieval.artifacts import best_available
from llmkb.pipeline.guards import CATALOGUE_NAMES, NotEnglish

log = logging.getLogger(__name__)

DATASETS = CATALOGUE_NAMES  # id → the name the page shows
MAX_CUES, MAX_FACTS, PLOT_CHARS = 3, 3, 220
CARD_FACTS = ("starring", "writer", "music composer", "producer", "previous work", "subsequent work")
NO_CUE = "ranked by its KB document's match to the whole conversation"


class Draft(str):
    """The reply as written so far (the page shows it while the LLM writes)."""


WRITING = Draft("Writing the reply…")  # shown in the chat once the cards are out, until the first words


@dataclass
class Card:
    """One recommendation as the panel shows it."""

    rank: int
    item_id: str
    title: str
    year: int | None
    genres: list[str]
    directors: list[str]
    plot: str
    facts: list[str]  # other KB facts, as the KB document words them
    cues: list[str]  # what in the dialogue led here
    score: float


@dataclass
class Session:
    dataset: str = "redial"
    backbone: str = "dense"
    turns: list[Turn] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)  # {"role": "user"|"assistant", "content": str}
    cards: list[Card] = field(default_factory=list)
    tokens: dict[str, int] = field(default_factory=dict)  # tokens each component processed in the last turn


@dataclass
class Engine:
    """One loaded recommender on one backbone; ``lock`` serialises its (not thread-safe) tokenizers."""

    recommender: Recommender
    backbone: Backbone
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def uses_llm(self) -> bool:
        """The LLM scores candidates or writes the replies."""
        return self.recommender.stages.uses_llm or self.recommender.stages.writes_replies


def load_engine(dataset: str, backbone: str, data_dir: Path | None = None, k: int = 5, retriever: Path | None = None,
                llm: Path | None = None, backbones_root: Path | None = None, progress: bool = True,
                recipe: Recipe = RECIPE, **options) -> Engine:
    """Build (first use) the backbone's models and a recommender on them.

    ``retriever``/``llm``: the dense source models (default: the dataset's best retriever, the packaged LLM);
    ``recipe``: how pruned components are built (``llmkb.app.backbone.Recipe``);
    ``options``: more ``RecommenderConfig`` fields over the served setup (``llmkb.app.build.SERVED``). Without
    ``weights`` and ``ranker`` among them, the ranking is the one tuned for the dense source setup (a pruned
    retriever serves the ranker of the retriever it was pruned from), else the built-in fusion weights.
    """
    bb = prepare(backbone, dataset, backbones_root, retriever, llm, progress, recipe, data_dir)
    # a pruned LLM writes its replies itself: an int8 copy would not compute what its crossbars hold
    options = {**SERVED, "reply_runtime": "float32" if "llm" in bb.pruned else "int8", **options}
    source = served_config(dataset, retriever=Path(retriever or best_available(dataset)), llm=llm, data_dir=data_dir,
                           **{k: v for k, v in options.items() if k != "reply_runtime"})
    options.setdefault("weights", source.weights)
    options.setdefault("ranker", source.ranker)
    if source.reply_lora and "llm" not in bb.pruned and "reply_lora" not in options:
        options.update(reply_lora=source.reply_lora, reply_runtime=WRITER_RUNTIME)  # the trained writer, as measured
    config = RecommenderConfig(dataset=dataset, retriever=bb.retriever, llm=bb.llm, k=k, data_dir=data_dir, **options)
    return Engine(Recommender(config, progress=progress), bb)


def ranking_label(config: RecommenderConfig) -> str:
    """What ranks in a recommender, for status lines."""
    if config.ranker:
        return f"learned ranker {short_path(config.ranker)}" + (" with MovieLens" if config.uses_behaviour else "")
    return f"fusion weights {short_path(config.weights)}" if config.weights else \
        "built-in fusion weights (none tuned for this setup: `llmkb tune-fusion`)"


def serves(engine: Engine, config: RecommenderConfig) -> bool:
    """The engine already serves what ``config`` names: its retriever and its ranking (a build that found
    everything built changes nothing, and the engine need not be loaded again)."""
    served = engine.recommender.config
    return (served.retriever, served.weights, served.ranker, served.reply_lora) == (
        config.resolved().retriever, config.weights, config.ranker, config.reply_lora)


RUNTIME_LABELS = {"float32": "", "int8": ", int8", "onnx-int8": ", 8-bit in ONNX Runtime"}  # reply_runtime, said


def llm_label(recommender: Recommender) -> str:
    """What the LLM does in a recommender, for status lines."""
    stages, runtime = recommender.stages, RUNTIME_LABELS[recommender.config.reply_runtime]
    if not stages.writes_replies:
        return "LLM off (template replies)"
    writer = f"trained reply writer {short_path(recommender.config.reply_lora)}" if recommender.config.reply_lora \
        else "base LLM"
    return f"LLM scores and writes the replies ({writer}{runtime})" if stages.uses_llm else \
        f"LLM writes the replies ({writer}{runtime}), ranking without LLM scores"


def short_path(path: Path) -> str:
    """``path`` relative to the working directory, or "packaged <package>" for a model inside site-packages."""
    path = Path(path).resolve()
    if "site-packages" in path.parts:
        return f"packaged {path.parts[path.parts.index('site-packages') + 1]}"
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class ChatService:
    """Loads one :class:`Engine` per (dataset, backbone) on first use and answers turns for any session.

    With ``build`` (``build(dataset, Build)``, e.g. ``llmkb.app.build.build_served``), the first use of a catalogue
    also starts building its full system in a thread; the status line says how far it is, and when it is done
    the catalogue's engines are loaded again on what was built, the dense one before it is swapped in."""

    def __init__(self, load: Callable[[str, str], Engine] = load_engine,
                 build: Callable[[str, Build], RecommenderConfig | None] | None = None):
        self.load, self.build = load, build
        self.engines: dict[tuple[str, str], Engine] = {}
        self.builds: dict[str, Build] = {}
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()
        self._built: dict[str, threading.Event] = {}

    def engine(self, dataset: str, backbone: str) -> Engine:
        if dataset not in DATASETS:
            raise LLMKBError(f"unknown catalogue {dataset!r}; choose one of {', '.join(DATASETS)}")
        if backbone not in BACKBONES:
            raise LLMKBError(f"unknown backbone {backbone!r}; choose one of {', '.join(BACKBONES)}")
        key = (dataset, backbone)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # one load per key; other keys keep serving meanwhile
            if key not in self.engines:
                self.engines[key] = self.load(dataset, backbone)
            engine = self.engines[key]
        self._start_build(dataset)
        return engine

    def _start_build(self, dataset: str) -> None:
        with self._guard:
            if self.build is None or dataset in self.builds:
                return
            self.builds[dataset], self._built[dataset] = Build(), threading.Event()
        threading.Thread(target=self._run_build, args=(dataset,), daemon=True, name=f"build-{dataset}").start()

    def _run_build(self, dataset: str) -> None:
        build = self.builds[dataset]
        build.on_ranked = lambda config: self._swap(dataset, config)
        try:
            self._swap(dataset, self.build(dataset, build))
        except Exception as exc:  # the partial system keeps serving; the status line says what failed
            build.error = build.error or str(exc) or type(exc).__name__
            log.exception("building the %s system failed", dataset)
        finally:
            self._built[dataset].set()

    def _swap(self, dataset: str, built: RecommenderConfig | None) -> None:
        """Serve what was built, unless the engine already does."""
        before = self.engines.get((dataset, "dense"))
        if before is None or built is None or not serves(before, built):
            fresh = self.load(dataset, "dense")
            with self._guard:  # the other backbones load again on their next use, from what was built
                for key in [key for key in self.engines if key[0] == dataset]:
                    del self.engines[key]
                self.engines[(dataset, "dense")] = fresh

    def wait_built(self, dataset: str, timeout: float | None = None) -> bool:
        """Block until ``dataset``'s build has ended (True), or ``timeout`` seconds (False); True without one."""
        event = self._built.get(dataset)
        return event is None or event.wait(timeout)

    def status(self, session: Session) -> str:
        """The status line: what serves ``session`` and how far the build is. It reads only: it never loads a model
        (the page polls it every 2 s)."""
        engine = self.engines.get((session.dataset, session.backbone))
        build = self.builds.get(session.dataset)
        if engine is None:
            building = f" · {build.status()}" if build is not None and build.running else ""
            return (f"{DATASETS[session.dataset]} catalogue on the {BACKBONES[session.backbone]} backbone: it loads "
                    f"with your next message{building}")
        rec = engine.recommender
        after = ""
        if build is None or (self._built[session.dataset].is_set() and not build.error):
            state = "Ready"  # "Ready" only once what was built is also the engine that answers
        elif build.ranked and build.running:
            state, after = "Ready", f" · {build.status()}"  # ranking as built; the reply writer trains
        elif build.finished or build.loading:
            state = "Ready with a partial system · loading the full one"
        elif build.running:
            state = f"Ready with a partial system · building the full one: {build.status()}"
        else:
            state = f"Ready with a partial system · {build.status()}"
        return (f"{state} · {DATASETS[session.dataset]} catalogue ({len(rec.stages.catalog):,} movies) · "
                f"{BACKBONES[session.backbone]} · retriever {short_path(rec.config.retriever)} · "
                f"{llm_label(rec)} · {ranking_label(rec.config)}{after}")

    def switch(self, session: Session, dataset: str, backbone: str) -> Session:
        """A new catalogue starts a new conversation; a new backbone keeps it (ids stay valid)."""
        self.engine(dataset, backbone)
        if dataset != session.dataset:
            return Session(dataset, backbone)
        return dataclasses.replace(session, backbone=backbone)

    def respond(self, session: Session, message: str | None) -> Session:
        """``session`` after the user's ``message`` and the reply; never raises for bad input."""
        *_, done = self.respond_steps(session, message)
        return done

    def respond_steps(self, session: Session, message: str | None) -> Iterator[Session]:
        """The turn as the page shows it: the new cards with ``WRITING`` in the chat, then the reply as it is
        written (each draft), then the whole turn (the only step when the turn fails or needs no ranking)."""
        message = message or ""
        said = [{"role": "user", "content": message.strip()}] if message.strip() else []
        out = dataclasses.replace(session, messages=[*session.messages, *said])
        reply = ""
        try:
            for reply in self._turn(out, message):
                if isinstance(reply, Draft):
                    yield dataclasses.replace(out, messages=[*out.messages, {"role": "assistant", "content": reply}])
        except NotEnglish as exc:
            reply = str(exc)
        except LLMKBError as exc:
            reply = f"Sorry, {exc}."
        except Exception:  # never show a traceback in the chat; the console keeps it
            log.exception("turn failed")
            reply = "Sorry, something went wrong on my side. Please try again, or press Reset."
        out.messages.append({"role": "assistant", "content": reply})
        yield out

    def _turn(self, session: Session, message: str) -> Iterator[str]:
        """Yields ``WRITING`` once the cards are in ``session``, then drafts of the reply, then the reply."""
        engine = self.engine(session.dataset, session.backbone)
        rec = engine.recommender
        with engine.lock:  # the message's guards are the turn's (llmkb.pipeline.guards), as in llmkb chat
            found = rec.rank(session.turns, message)  # raises LLMKBError on an empty message, NotEnglish
        session.cards = [self._card(engine, rank, r) for rank, r in enumerate(found.items, start=1)]
        session.tokens = dict(found.tokens)
        yield WRITING
        with engine.lock:  # held while the reply is written; Lock may be released from another thread
            for result in rec.reply_steps(found):
                if isinstance(result, str):
                    yield Draft(result)
        assert isinstance(result, Recommendation)
        session.turns, session.tokens = result.turns, dict(result.tokens)
        yield result.said

    @staticmethod
    def _card(engine: Engine, rank: int, recommended: Recommended) -> Card:
        item = recommended.item
        doc = engine.recommender.stages.documents.get(item.item_id) or \
            KBDocument(item.item_id, item.title, item.year)
        facts = [PHRASES[r].format(", ".join(doc.facts[r])) for r in CARD_FACTS if doc.facts.get(r)][:MAX_FACTS]
        facts += [f"{label}: {', '.join(titles)}" for label, titles in doc.related.items()][: MAX_FACTS - len(facts)]
        plot = doc.plot if len(doc.plot) <= PLOT_CHARS else doc.plot[:PLOT_CHARS].rsplit(" ", 1)[0] + "…"
        return Card(rank, item.item_id, item.title, item.year, doc.facts.get("genre", []), doc.facts.get("director", []),
                    plot, facts, recommended.cues[:MAX_CUES] or [NO_CUE], recommended.score)
