#!/usr/bin/env python
"""The Gradio demo: chat with the recommender, see the KB evidence behind each movie, switch the backbone to
RRAM-pruned models and see what that costs and saves.

    python app.py [--host 127.0.0.1] [--port 7860] [--share]

The first run installs the data (from $LLMKB_DATA_SOURCE, ../shared/data or the official URLs) and serves as soon as
the packaged retriever's index and the LLM are ready (about 2 minutes on 2 cores), then builds the full system in the
background: the calibrated retriever and the tuned fusion weights (``llmkb.app.build``, about 4 minutes more), and
after them the pruned backbones. The status line says what is being built and switches when it is done; the console
shows progress bars. Later starts reuse the cache. Conversation logic lives in ``llmkb.app``; this file only lays
out and renders.
"""

from __future__ import annotations

import argparse
import html
import logging
import os
import sys
import threading
import time
from pathlib import Path

import gradio as gr

from llmkb.errors import LLMKBError
from llmkb.app.backbone import BACKBONES, RECIPE, TECHNOLOGY
from llmkb.app.build import build_served
from llmkb.app.cost import cost_rows
from llmkb.app.session import DATASETS, ChatService, Session

EXAMPLES = [
    "I loved The Matrix and Inception. Any other mind-bending sci-fi?",
    "Something funny for a family movie night, like Toy Story.",
    "I'm in the mood for a scary horror movie, I liked The Conjuring.",
    "Any good crime dramas directed by Martin Scorsese?",
]
CONCURRENCY = 2  # turns computed at once; the rest wait in Gradio's queue
STATUS_EVERY = 2.0  # s between status-line refreshes (the build's progress)
CSS = """
.cards {display: flex; flex-direction: column; gap: 10px;}
.card {border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 10px 12px;}
.card h4 {margin: 0 0 4px 0;} .card .meta {opacity: .8; font-size: .9em;}
.card ul {margin: 4px 0 0 18px; padding: 0;} .card li {font-size: .88em;}
.card .plot {font-size: .9em; margin: 4px 0;}
"""
ASSUMPTIONS = (
    f"Simulated with the `rram` cost model ({TECHNOLOGY} constants, 128×128 crossbars, 2 bits per cell). "
    f"Pruned = the best family's measured point within tolerance in docs/RESULTS.md (retriever: {RECIPE.retriever.label}; "
    f"LLM: {RECIPE.llm.label}), activation importance and Hessians from {RECIPE.calibration_batches} batches and "
    f"{RECIPE.steps} steps of progressive retraining; its accuracy is measured on the validation split against a dense "
    "copy retrained with the same budget; dense = 8-bit weights. The packaged LLM is a 4-bit (Q4_1) GGUF, so its "
    "pruned rows re-quantize a 4-bit model. "
    "Serving computes what ideal crossbars compute (reconstructed weights; no ADC or noise simulation). "
    "Latency per turn = latency per token × tokens processed in the turn (layers in sequence, no pipelining); "
    "tokens are those each model read and wrote this turn (the LLM: its scoring prompt and the titles it scored, "
    "then its reply prompt and reply)."
)


def render_cards(session: Session) -> str:
    if not session.cards:
        return "<p><em>Recommendations appear here after your first message.</em></p>"
    out = []
    for c in session.cards:
        e = html.escape
        year = f" ({c.year})" if c.year else ""
        meta = " · ".join(part for part in (", ".join(c.genres), "Directed by " + ", ".join(c.directors)
                                            if c.directors else "") if part)
        facts = "".join(f"<li>{e(f)}</li>" for f in c.facts)
        cues = "".join(f"<li>{e(q)}</li>" for q in c.cues)
        out.append(
            f'<div class="card" data-item="{e(c.item_id)}"><h4>{c.rank}. {e(c.title)}{e(year)}</h4>'
            f'<div class="meta">{e(meta) or "no genre or director in the KB"}</div>'
            + (f'<div class="plot">{e(c.plot)}</div>' if c.plot else "")
            + (f"<div><strong>KB facts</strong><ul>{facts}</ul></div>" if facts else "")
            + f"<div><strong>Why</strong><ul>{cues}</ul></div></div>")
    return '<div class="cards">' + "".join(out) + "</div>"


def render_cost(service: ChatService, session: Session) -> str:
    engine = service.engine(session.dataset, session.backbone)
    rows = cost_rows(engine, session)
    table = [f"| | dense | this backbone: {BACKBONES[session.backbone]} | saving |", "|---|---|---|---|"]
    table += [f"| {label} | {dense} | {selected} | {saving} |" for label, dense, selected, saving in rows]
    if not session.tokens:
        table.append("| Per-turn latency and energy | after your first message | | |")
    runs = [f"`{engine.backbone.costs[kind]['accuracy']['run']}`" for kind in engine.backbone.pruned]
    measured = f"\n\nAccuracy measured by the `llmkb rram prune` run{'s' * (len(runs) > 1)} {' and '.join(runs)}." \
        if runs else ""
    return "\n".join(table) + measured + "\n\n" + ASSUMPTIONS


def build_ui(service: ChatService, start: Session | None = None) -> gr.Blocks:
    start = start or Session()

    def view(session: Session, status: str | None = None):
        return (session.messages, session, render_cards(session), render_cost(service, session),
                status or service.status(session))

    def respond(message, dataset, backbone, session):
        """A generator: the cards as soon as the ranking is done, then the reply."""
        session = session or start
        try:
            if (dataset, backbone) != (session.dataset, session.backbone):
                session = service.switch(session, dataset, backbone)
        except LLMKBError as exc:
            yield ("", *view(session, f"Could not switch: {exc}"))
            return
        for step in service.respond_steps(session, message):
            yield ("", *view(step))

    def switch(dataset, backbone, session, progress=gr.Progress(track_tqdm=True)):
        session = session or start
        progress(0, desc=f"Loading {DATASETS.get(dataset, dataset)} on {BACKBONES.get(backbone, backbone)}")
        try:
            return view(service.switch(session, dataset, backbone))
        except LLMKBError as exc:
            return view(session, f"Could not switch: {exc}")

    def reset(session):
        session = session or start
        return view(Session(session.dataset, session.backbone))

    with gr.Blocks(title="LLMKB-RRAM movie recommender") as demo:
        gr.Markdown("# LLMKB-RRAM movie recommender\nTell me about movies you like. Each recommendation comes from "
                    "the catalogue, with the knowledge-base facts and dialogue cues behind it.")
        with gr.Row():
            dataset = gr.Radio([(v, k) for k, v in DATASETS.items()], value=start.dataset, label="Catalogue")
            backbone = gr.Radio([(v, k) for k, v in BACKBONES.items()], value=start.backbone, label="Backbone")
        status = gr.Markdown(elem_id="status")
        session = gr.State(start)
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Conversation", height=460, elem_id="chat")
                message = gr.Textbox(placeholder="e.g. I loved Heat and The Departed, what else?", show_label=False,
                                     max_lines=4, elem_id="message")
                with gr.Row():
                    send = gr.Button("Send", variant="primary", elem_id="send")
                    clear = gr.Button("Reset conversation", elem_id="reset")
                gr.Examples(EXAMPLES, inputs=message, label="Try an opener")
            with gr.Column(scale=2):
                gr.Markdown("### Recommendations")
                cards = gr.HTML(render_cards(Session()), elem_id="cards")
        with gr.Accordion("Cost on simulated RRAM crossbars", open=True):
            cost = gr.Markdown(elem_id="cost")

        outputs = [chat, session, cards, cost, status]
        for trigger in (send.click, message.submit):
            trigger(respond, [message, dataset, backbone, session], [message, *outputs], api_name="respond"
                    if trigger == send.click else False)
        for radio in (dataset, backbone):
            radio.change(switch, [dataset, backbone, session], outputs, api_name=False)
        clear.click(reset, [session], outputs, api_name="reset")
        demo.load(lambda s: view(s or start), [session], outputs, api_name=False)
        gr.Timer(STATUS_EVERY).tick(lambda s: service.status(s or start), [session], [status], api_name=False,
                                    queue=False, show_progress="hidden")
    return demo


def ensure_data(data_dir: Path) -> None:
    """Install the data files when any is missing (copied from the mirror when there is one, else downloaded)."""
    from llmkb.data.fetch import fetch, source_files

    missing = [e for e in source_files() if not (data_dir / e.path).is_file()
               or (data_dir / e.path).stat().st_size != e.bytes]
    if missing:
        mirror = Path(__file__).resolve().parent.parent / "shared" / "data"
        source = os.environ.get("LLMKB_DATA_SOURCE") or (mirror if mirror.is_dir() else None)
        print(f"Installing {len(missing)} data files into {data_dir} from {source or 'the official URLs'}", flush=True)
        fetch(data_dir, source)


def announce_built(service: ChatService, dataset: str, started: float) -> None:
    service.wait_built(dataset)
    build = service.builds.get(dataset)
    if build is not None and build.error:
        print(f"warning: the full system was not built ({build.error}); serving the partial one", file=sys.stderr)
    elif build is not None:
        print(f"The full system is live {time.perf_counter() - started:.0f} s after start: "
              f"{service.status(Session(dataset))}", flush=True)


def warm_up(service: ChatService, dataset: str) -> None:
    service.wait_built(dataset)  # the pruned backbones are pruned from the full system's models
    for backbone in BACKBONES:
        try:
            service.engine(dataset, backbone)
        except LLMKBError as exc:
            print(f"warning: backbone {backbone} is unavailable: {exc}", file=sys.stderr)
    print(f"All backbones of {DATASETS[dataset]} are loaded.", flush=True)


def main(argv: list[str] | None = None) -> int:
    from llmkb.paths import data_dir

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (0.0.0.0 exposes it to your network)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--share", action="store_true", help="also open a temporary public gradio.live link")
    p.add_argument("--dataset", choices=list(DATASETS), default="redial", help="catalogue loaded before serving")
    p.add_argument("--no-warmup", action="store_true",
                   help="do not load the other backbones of the catalogue in the background after start")
    p.add_argument("--no-build", action="store_true",
                   help="serve what is built, without building the full system (calibrated retriever, tuned weights)")
    p.add_argument("--no-reply-writer", action="store_true",
                   help="build the full system's ranking but do not train the reply writer (~25 min on 2 cores); "
                        "replies then come from the base LLM")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    started = time.perf_counter()
    try:
        ensure_data(data_dir())
        replies = not args.no_reply_writer
        service = ChatService(build=None if args.no_build else
                              lambda dataset, state: build_served(dataset, build=state, replies=replies))
        print(f"Loading the {DATASETS[args.dataset]} recommender (the first run builds the KB, the index and the LLM "
              "cache, then the full system in the background)...", flush=True)
        service.engine(args.dataset, Session.backbone)  # the first use also starts the build
        print(service.status(Session(args.dataset)), flush=True)
    except LLMKBError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Serving in {time.perf_counter() - started:.0f} s.", flush=True)
    threading.Thread(target=announce_built, args=(service, args.dataset, started), daemon=True).start()
    if not args.no_warmup:  # the first run builds the pruned retriever's index here (minutes on 2 cores)
        threading.Thread(target=warm_up, args=(service, args.dataset), daemon=True).start()
    build_ui(service, Session(args.dataset)).queue(default_concurrency_limit=CONCURRENCY, max_size=100).launch(
        server_name=args.host, server_port=args.port, share=args.share, css=CSS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
