"""``llmkb``: the one command-line entry point. Run ``llmkb --help`` or ``llmkb SUBCOMMAND --help``."""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import sys
import time
import warnings
from pathlib import Path

from llmkb.errors import LLMKBError
from llmkb.evaluation.harness import BATCH
from llmkb.evaluation.rag import RAG_SYSTEMS
from llmkb.evaluation.systems import SYSTEMS
from llmkb.retrieval.index import KINDS as INDEX_KINDS
from llmkb.data.io import read_jsonl
from llmkb.paths import data_dir
from llmkb.evaluation.reproduce import add_reproduce_command
from llmkb.prune import add_rram_commands
from llmkb.scale.options import add_scale_options, cluster_of, portable


def _dataset(args):
    from llmkb.data import load_dataset

    return load_dataset(args.dataset, args.data_dir)


def cmd_data_fetch(args) -> None:
    from llmkb.data.fetch import fetch

    status = fetch(args.data_dir, args.source)
    counts = {s: sum(v == s for v in status.values()) for s in ("copied", "downloaded", "kept")}
    print(f"{args.data_dir}: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n) + " (sha256 verified)")


def data_stats(root: Path) -> list[dict]:
    from llmkb.data import PROTOCOLS, SPLITS, count_pairs, load_dataset

    rows = []
    for name in ("redial", "inspired"):
        ds = load_dataset(name, root)
        for split in SPLITS:
            row = {"dataset": name, "split": split, "dialogues": len(ds.dialogues(split)), "catalogue": len(ds.catalog)}
            for protocol in PROTOCOLS:
                samples = ds.samples(split, protocol)
                row[f"{protocol} samples"], row[f"{protocol} pairs"] = len(samples), count_pairs(samples)
            rows.append(row)
    return rows


def markdown_table(rows: list[dict]) -> str:
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(f"{row[h]:,}" if isinstance(row[h], int) else str(row[h]) for h in header) + " |"
              for row in rows]
    return "\n".join(lines)


def cmd_data_stats(args) -> None:
    print(markdown_table(data_stats(args.data_dir)))


def cmd_kb_build(args) -> None:
    from llmkb.data import load_dataset
    from llmkb.kb import build_kb

    names = ["redial", "inspired"] if args.dataset == "all" else [args.dataset]
    for name in names:
        out_dir = args.out / name if args.out and len(names) > 1 else args.out
        out, rebuilt = build_kb(load_dataset(name, args.data_dir), out_dir, force=args.force)
        counts = json.loads((out / "manifest.json").read_text())["counts"]
        n = counts["documents"]
        print(f"{name}: {'built' if rebuilt else 'up to date (cached)'} {out}/kb.jsonl — {n:,} documents, "
              f"{counts['with_kg_facts'] / n:.1%} with KG facts, {counts['with_metadata'] / n:.1%} with metadata, "
              f"{counts['with_co_mentions'] / n:.1%} with training co-mentions")


def cmd_kb_index(args) -> None:
    from llmkb.retrieval import DenseRetriever
    from llmkb.retrieval.artifacts import best_available

    dataset = _dataset(args)
    path = args.retriever or best_available(dataset.name)
    with cluster_of(args) as cluster:
        encode = None
        if cluster:
            from llmkb.retrieval.retriever import MAX_SEQ_LENGTH
            from llmkb.scale.catalogue import encode_documents

            encode = functools.partial(encode_documents, model_path=path, cluster=cluster,
                                       max_seq_length=MAX_SEQ_LENGTH)
        started = time.time()
        retriever = DenseRetriever.for_dataset(dataset, path, index_kind=args.kind, encode_documents=encode)
    folder = DenseRetriever.cache_dir(dataset.name, path, retriever.index_kind)
    print(f"{dataset.name}: {retriever.index_kind} index of {len(retriever.documents):,} documents by {path} in "
          f"{folder} ({time.time() - started:.0f} s; reused when up to date)")


def cmd_kb_show(args) -> None:
    from rapidfuzz import fuzz, process, utils

    from llmkb.kb import build_kb, load_kb

    out, _ = build_kb(_dataset(args), args.kb)
    docs = load_kb(out)
    query = utils.default_process(args.title)
    exact = [d for d in docs if query in (utils.default_process(d.title), utils.default_process(d.display))]
    if exact:
        print("\n\n".join(f"[{d.item_id}] {d.text}" for d in exact))
        return
    best = process.extract(args.title, [d.display for d in docs], scorer=fuzz.WRatio, processor=utils.default_process, limit=5)
    if not best or best[0][1] < 85:
        suggestions = ", ".join(f"'{title}'" for title, _, _ in best[:3])
        raise LLMKBError(f"no movie titled '{args.title}' in the {args.dataset} catalogue; closest: {suggestions}")
    doc = docs[best[0][2]]
    print(f"[{doc.item_id}] {doc.text}")


def _config(args, use_llm: bool = True, **overrides):
    from llmkb.pipeline import RecommenderConfig

    return RecommenderConfig(
        dataset=args.dataset, retriever=args.retriever, llm=args.llm, use_llm=use_llm and not args.no_llm,
        lora=args.lora, weights=getattr(args, "weights", None), llm_candidates=args.llm_candidates,
        kb_candidates=not args.no_kb_candidates, constraints=not args.no_constraints, data_dir=args.data_dir,
        **overrides)


def _stages(args, use_llm: bool = True):
    """The recommender's stages for ranking (evaluation, tuning, training): no int8 reply copy."""
    from llmkb.pipeline import Stages

    return Stages.load(_config(args, use_llm, reply_int8=False))


def _system(args, dataset, split: str | None):
    """The system ``args.system`` names, and what it loads (for the report). ``split`` None: it ranks simulated
    conversations, so nothing is read from or written to the split's score caches."""
    from llmkb.evaluation import make_system
    from llmkb.evaluation.rag import make_rag_system
    from llmkb.fitting.train_ranker import learned_ranker
    from llmkb.fitting.tune_fusion import fusion_weights
    from llmkb.retrieval import QueryConfig

    if args.system not in RAG_SYSTEMS:
        models = {"retriever": str(args.retriever)} if args.retriever else {}
        return make_system(args.system, dataset, args.retriever, QueryConfig.parse(args.query)), models
    stages = _stages(args, use_llm=args.system not in ("rag-no-llm", "rag-ranker"))
    ranking = None
    models = {"setup": stages.config.setup, "retriever": str(stages.config.retriever),
              "llm": str(args.llm or "packaged SmolLM2-135M-Instruct") if stages.uses_llm else None,
              "lora": str(args.lora) if args.lora else None}
    if args.system in ("rag", "rag-no-llm"):
        ranking, path = fusion_weights(stages, args.protocol, args.retune, args.tune_samples)
        print(f"fusion weights: {path}", file=sys.stderr)
        models.update(fusion_weights=ranking.__dict__, fusion_weights_file=str(path))
    if args.system == "rag-ranker":
        ranking = learned_ranker(stages, args.protocol, _sources(args.without), args.retune)
        print(f"learned ranker: {ranking.path}", file=sys.stderr)
        models.update(ranker_file=str(ranking.path), ranker_rounds=ranking.rounds, without=list(ranking.without))
    return make_rag_system(args.system, stages, args.protocol, split, ranking), models


def cmd_evaluate(args) -> None:
    from llmkb.evaluation import Run, evaluate
    from llmkb.paths import artifacts_dir

    dataset = _dataset(args)
    stem = f"{args.dataset}-{args.protocol}-{args.split}-{args.system}" + ("-excl" if args.exclude_mentioned else "")
    stem += _variant_suffix(args)
    predictions = args.predictions or artifacts_dir() / "runs" / f"{stem}.predictions.jsonl"
    report = args.report or predictions.with_name(f"{stem}.report.json")
    system, models = _system(args, dataset, args.split)
    run = Run(args.dataset, args.protocol, args.split, args.system, args.exclude_mentioned, args.limit, models)
    with cluster_of(args) as cluster:
        if cluster:
            from llmkb.scale import ShardedSystem

            batch_size = None if getattr(system, "batch_invariant", False) else getattr(system, "batch_size", BATCH)
            del system  # built here once, so what it tunes or caches is there before the workers load it
            system = ShardedSystem(functools.partial(worker_system, portable(args), args.split), cluster, batch_size)
        result = evaluate(dataset, run, system, predictions, report)
    m = result["metrics"]
    print(f"{result['protocol']} ({args.split}, {m['samples']:,} samples, {m['pairs']:,} pairs) {args.system}: "
          f"R@1 {m['recall@1']:.4f}  R@10 {m['recall@10']:.4f}  R@50 {m['recall@50']:.4f}  "
          f"NDCG@10 {m['ndcg@10']:.4f}  MRR@50 {m['mrr@50']:.4f}  "
          f"(pair R@10 {m['pair_recall@10']:.4f})" +
          (f"  SR {m['user_centric']['SR']:.4f}  RDL {m['user_centric']['RDL']:.4f}" if "user_centric" in m else ""))
    print(f"predictions: {predictions}\nreport: {report}")


def _variant_suffix(args) -> str:
    """What a run's file names add for the recommender options it changes."""
    return (("-lora" if args.lora else "") + ("-no-kb-candidates" if args.no_kb_candidates else "")
            + ("-no-constraints" if args.no_constraints else "")
            + "".join(f"-without-{source}" for source in sorted(_sources(args.without))))


def cmd_simulate(args) -> None:
    from llmkb.evaluation.interactive import Simulation, simulate, simulation_paths

    if args.rounds < 1 or args.targets < 1:
        raise LLMKBError("--rounds and --targets must be at least 1")
    dataset = _dataset(args)
    transcripts, report = simulation_paths(args.dataset, args.system, args.simulator, args.setting, args.rounds,
                                           args.targets, args.seed, _variant_suffix(args), args.out)
    system, models = _system(args, dataset, split=None)
    simulator = _simulator(args)
    models["simulator_llm"] = getattr(simulator, "model_name", None)
    run = Simulation(args.dataset, args.system, args.simulator, args.setting, args.rounds, args.shown, args.targets,
                     args.seed, models)
    with cluster_of(args) as cluster:
        elsewhere = None
        if cluster:
            from llmkb.scale import on_workers

            elsewhere = on_workers(functools.partial(worker_conversations, portable(args), run), "run", cluster,
                                   desc=f"{args.system} × {args.simulator} user ({args.setting})", unit="conversation")
        result = simulate(dataset, system, simulator, run, transcripts, report, elsewhere=elsewhere)
    m = result["metrics"]
    print(f"{args.dataset} {args.system} × {args.simulator} user, {args.setting}, {m['targets']} targets, "
          f"{args.rounds} rounds: " + "  ".join(
              f"S@{k} {m[f'success@{k}']['rate']:.3f} [{m[f'success@{k}']['low']:.3f}, {m[f'success@{k}']['high']:.3f}]"
              for k in (1, 5, 10, 50)) +
          f"  mean rounds {m['mean_rounds']['mean']:.2f}  leaks caught {m['leaks']['caught']}, scored "
          f"{m['leaks']['scored']}  ({result['seconds']:.0f} s)")
    print(f"transcripts: {transcripts}\nreport: {report}")


def worker_system(args, split: str | None):
    """In a Ray worker: the system ``args`` names, loaded from what the driver built and cached."""
    return _system(args, _dataset(args), split)[0]


def worker_conversations(args, run):
    """In a Ray worker: ``run``'s conversations with the system and the simulated user ``args`` name."""
    from llmkb.evaluation.interactive import Conversations

    dataset = _dataset(args)
    return Conversations(dataset, _system(args, dataset, split=None)[0], _simulator(args), run)


def _simulator(args):
    """The simulated user; the llm one keeps its phrasings in a cache per model (by the model's fingerprint)."""
    from llmkb.evaluation.simulator import KBSimulator, LLMSimulator

    if args.simulator == "kb":
        return KBSimulator(args.seed)
    from llmkb.data.io import AppendCache
    from llmkb.generation import load_llm
    from llmkb.models import default_llm_path
    from llmkb.paths import artifacts_dir
    from llmkb.retrieval.index import model_fingerprint

    path = args.simulator_llm or default_llm_path()
    model, tokenizer = load_llm(path)
    cache = artifacts_dir() / "simulations" / "llm-phrasings" / f"{model_fingerprint(path)[:16]}.jsonl"
    return LLMSimulator(model, tokenizer, args.seed, AppendCache(cache), str(path))


def cmd_compare(args) -> None:
    from llmkb.evaluation.compare import compare_rankings, format_comparison, read_predictions

    samples = _dataset(args).samples(args.split, args.protocol)
    rows = compare_rankings(read_predictions(args.a), read_predictions(args.b), {s.sample_id: s.gold for s in samples})
    print(f"{args.dataset}-{args.protocol} ({args.split}, {len(samples):,} samples)\nA: {args.a}\nB: {args.b}\n"
          f"{format_comparison(rows)}")


def cmd_evaluate_requests(args) -> None:
    from llmkb.evaluation.requests import TOP, evaluate_requests, format_report
    from llmkb.paths import artifacts_dir
    from llmkb.pipeline.tuned import with_tuned_ranking

    # the full system as chat runs it, on the fusion weights: the benchmark's variants change the fusion's signals
    config = dataclasses.replace(with_tuned_ranking(_config(args, k=TOP, reply_int8=False)), ranker=None)
    out = args.out or artifacts_dir() / "requests" / f"{args.dataset}-report.json"
    report = evaluate_requests(config, args.variants, args.per_type, args.seed, out, args.min_items, noise=args.noise)
    print(f"{format_report(report)}\nreport: {out} ({report['seconds']:.0f} s)")


def _sources(spec: str | None) -> tuple[str, ...]:
    """``"graph,kb"`` → the candidate sources an ablation leaves out."""
    from llmkb.ranking.candidates import SOURCES

    chosen = tuple(dict.fromkeys(part.strip() for part in (spec or "").split(",") if part.strip()))
    unknown = [source for source in chosen if source not in SOURCES]
    if unknown:
        raise LLMKBError(f"unknown candidate source(s) {', '.join(unknown)}; choose from {', '.join(SOURCES)}")
    return chosen


def cmd_train_ranker(args) -> None:
    from llmkb.fitting.train_ranker import RankerConfig, train_ranker

    ranker, path = train_ranker(_stages(args, use_llm=False), args.protocol, RankerConfig(without=_sources(args.without)),
                                args.out)
    meta = json.loads(path.read_text())
    print(f"{args.dataset}-{args.protocol}: {ranker.rounds} rounds chosen on valid (objective {meta['score']:.4f}; "
          f"a mentioned movie in the top 10 of {meta['mentioned_in_top10']:.0%} of the lists); trained on "
          f"{meta['training_samples']:,} samples in {meta['seconds'] / 60:.1f} min\nranker: {path}")


def cmd_tune_fusion(args) -> None:
    from llmkb.fitting.tune_fusion import tune_fusion

    weights, path = tune_fusion(_stages(args), args.protocol, args.out, args.tune_samples)
    shown = ", ".join(f"{name} {value:g}" for name, value in weights.__dict__.items())
    print(f"{args.dataset}-{args.protocol}: {shown}\nweights: {path}")


def cmd_train_retriever(args) -> None:
    from llmkb.retrieval.artifacts import finetuned_path
    from llmkb.retrieval import DenseRetriever
    from llmkb.retrieval.train import TrainConfig, train_retriever

    dataset = _dataset(args)
    out = args.out or finetuned_path(args.dataset).parent
    config = TrainConfig(max_steps=args.max_steps, batch_size=args.batch_size, learning_rate=args.lr,
                         eval_steps=args.eval_steps, hard_negatives=not args.no_hard_negatives)
    base = DenseRetriever.for_dataset(dataset, args.base)
    summary = train_retriever(dataset, base, out, config)
    print(f"trained in {summary['seconds'] / 60:.1f} min on {summary['training_rows']:,} pairs; "
          f"valid R@50 {summary['base_valid'].get('valid_cosine_recall@50', float('nan')):.4f} → "
          f"{summary['best_valid_recall@50']:.4f} (best checkpoint)\nmodel: {out / 'model'}")


def cmd_calibrate_retriever(args) -> None:
    from llmkb.retrieval import DenseRetriever
    from llmkb.retrieval.artifacts import calibration_base, calibration_record
    from llmkb.retrieval.calibrate import CalibrationConfig, ensure_calibrated

    dataset = _dataset(args)
    base = DenseRetriever.for_dataset(dataset, args.base or calibration_base(args.dataset))
    config = CalibrationConfig(epochs=args.epochs, learning_rate=args.lr, temperature=args.temperature, seed=args.seed)
    model = ensure_calibrated(dataset, base, config)
    record = calibration_record(model)
    print(f"valid R@50 {record['valid_recall@50']['base']:.4f} (base) → {record['valid_recall@50']['best']:.4f} "
          f"(epoch {record['best_epoch']}), built in {record['seconds'] / 60:.1f} min on {record['date']}"
          f"\nmodel: {model}")


def cmd_chat(args) -> None:
    from llmkb.app.build import build_served
    from llmkb.app.session import llm_label, ranking_label
    from llmkb.pipeline import Recommender
    from llmkb.pipeline.tuned import with_tuned_ranking
    from llmkb.fitting.reply_data import with_reply_writer

    print(f"Loading the {args.dataset} recommender (the first run builds the KB, the index, the LLM cache, the "
          "calibrated retriever and the tuned weights: about 5 minutes on 2 cores)...", file=sys.stderr)
    if not (args.no_build or args.retriever):
        build_served(args.dataset, args.data_dir)
    config = with_tuned_ranking(_config(args, k=args.k, exclude_mentioned=not args.keep_mentioned,
                                        reply_int8=not args.float32_reply, llm_scoring=args.llm_scoring))
    recommender = Recommender(with_reply_writer(config) if not args.base_replies else config)
    print(f"Retriever {recommender.config.retriever}; {llm_label(recommender)}; {ranking_label(recommender.config)}. "
          "Tell me about movies you like; 'reset' starts over, 'quit' ends.")
    turns = []
    while True:
        try:
            message = input("you> ").strip()
        except EOFError:
            break
        if message.lower() in {"quit", "exit"}:
            break
        if message.lower() == "reset":
            turns = []
            print("(new conversation)")
            continue
        try:
            found = recommender.rank(turns, message)
        except LLMKBError as exc:
            print(f"bot> {exc}")
            continue
        if found.detected:
            print(f"     (recognised: {', '.join(found.detected)})")
        for rank, rec in enumerate(found.items, start=1):  # the list first, as the demo shows the cards first
            cues = f"  ({'; '.join(rec.cues)})" if rec.cues else ""
            print(f"  {rank}. {rec.item.display}  [{rec.score:.2f}]{cues}  {rec.evidence[:160]}")
        out = recommender.reply(found)
        print(f"bot> {out.reply}")
        turns = out.turns


def cmd_train_llm(args) -> None:
    from llmkb.generation.lora import LoraSettings, train_lora
    from llmkb.paths import artifacts_dir
    from llmkb.fitting.lora_data import lora_pairs

    stages = _stages(args)
    pairs = lora_pairs(stages, stages.dataset.samples("train", "std"), args.max_steps * args.batch_size)
    out = args.out or artifacts_dir() / "lora" / args.dataset
    settings = LoraSettings(r=args.rank, alpha=2 * args.rank, batch_size=args.batch_size, learning_rate=args.lr)
    started = time.time()
    train_lora(stages.scorer.model, stages.scorer.tokenizer, pairs, out, args.max_steps, settings)
    print(f"trained LoRA (rank {args.rank}) on {len(pairs):,} prompt → target pairs in "
          f"{(time.time() - started) / 60:.1f} min\nadapter: {out}\n"
          f"evaluate with: llmkb evaluate --dataset {args.dataset} --system rag --lora {out}")


def cmd_train_replies(args) -> None:
    from llmkb.fitting.reply_data import train_reply_writer

    started = time.time()
    out = train_reply_writer(args.data_dir, args.llm, args.datasets.split(","), max_steps=args.max_steps)
    about = json.loads((out / "about.json").read_text()) if (out / "about.json").is_file() else {}
    print(f"reply writer: {out} ({about.get('pairs', '?')} training pairs, {about.get('steps', '?')} steps; "
          f"{(time.time() - started) / 60:.1f} min this run)\n"
          f"evaluate with: llmkb evaluate-conversation --dataset redial --system llm-trained")


def cmd_evaluate_conversation(args) -> None:
    from llmkb.evaluation.conversation import ConversationRun, conversation_report, evaluate_conversation
    from llmkb.paths import artifacts_dir
    from llmkb.pipeline import Stages
    from llmkb.fitting.reply_data import reply_writer_key, reply_writer_path

    runs = artifacts_dir() / "runs"
    predictions = args.predictions or runs / f"{args.dataset}-std-{args.split}-{args.ranking}.predictions.jsonl"
    if not predictions.is_file():
        raise LLMKBError(f"no ranked lists at {predictions}; run llmkb evaluate --dataset {args.dataset} --protocol "
                         f"std --split {args.split} --system {args.ranking} first (or pass --predictions)")
    lists = {row["sample_id"]: row["ranked"] for _, row in read_jsonl(predictions, dict)}
    reply_lora = None
    if args.system == "llm-trained":
        reply_lora = args.reply_lora or reply_writer_path(reply_writer_key(args.data_dir, args.llm))
        if not (reply_lora / "adapter_config.json").is_file():
            raise LLMKBError(f"no trained reply writer at {reply_lora}; run llmkb train-replies first")
    int8 = args.int8_reply and args.system != "template"
    config = _config(args, use_llm=args.system != "template", llm_scoring=False, reply_int8=int8, reply_lora=reply_lora)
    stages = Stages.load(config)
    run = ConversationRun(args.dataset, args.system, args.ranking, args.split, args.limit, args.samples,
                          args.perplexity_samples)
    report = conversation_report(args.dataset, args.split, args.system, int8, args.samples)
    models = {"llm": str(args.llm or "packaged SmolLM2-135M-Instruct") if args.system != "template" else None,
              "reply_lora": str(reply_lora) if reply_lora else None, "int8": int8,
              "ranking": str(predictions)}
    replies = report.with_name(report.name.removesuffix(".report.json") + ".replies.jsonl")
    report = evaluate_conversation(stages, run, lists, replies, report, models)
    m = report["metrics"]
    ppl = m.get("perplexity", {}).get("perplexity")
    print(f"{args.dataset} {args.split} ({m['replies']:,} replies) {args.system}: BLEU-2 {m['bleu2'][0]:.4f}  "
          f"BLEU-4 {m['bleu4'][0]:.4f}  Dist-2/3/4 {m['dist2']:.3f}/{m['dist3']:.3f}/{m['dist4']:.3f}  "
          f"item ratio {m['item_ratio']:.3f}  templated {m['templated']:.3f}  consistency {m['consistency']:.3f}  "
          f"grounding {m['grounding']:.3f}" + (f"  PPL {ppl:.2f}" if ppl else ""))
    print(f"replies: {report['replies']}")


def _add_recommender_options(parser) -> None:
    parser.add_argument("--retriever", type=Path, default=None,
                        help="retriever model dir (default: the calibrated retriever when built by `llmkb "
                             "calibrate-retriever`, else the fine-tuned one when trained, else the packaged "
                             "all-MiniLM-L6-v2; for retriever-zeroshot: the packaged one)")
    parser.add_argument("--llm", type=Path, default=None,
                        help="LLM: a local HF model dir or .gguf file (default: packaged SmolLM2-135M-Instruct)")
    parser.add_argument("--lora", type=Path, default=None, help="LoRA adapter dir from `llmkb train-llm`")
    parser.add_argument("--no-llm", action="store_true", help="retriever and dialogue signals only; template replies")
    parser.add_argument("--no-kb-candidates", action="store_true",
                        help="ablation: no candidates from the KB's index of the linked preferences")
    parser.add_argument("--no-constraints", action="store_true",
                        help="ablation: the latest explicit request and the dislikes do not constrain the list")
    parser.add_argument("--llm-candidates", type=int, default=10,
                        help="the LLM scores this many top retrieved and top co-mentioned candidates, and the mentioned movies")


def _add_system_options(parser) -> None:
    """How ``evaluate`` and ``simulate`` build the system they run."""
    _add_recommender_options(parser)
    parser.add_argument("--weights", type=Path, default=None,
                        help="fusion weights JSON for rag from `llmkb tune-fusion` (default: those tuned for this "
                             "setup and protocol, tuned on the validation split first when missing)")
    parser.add_argument("--retune", action="store_true",
                        help="tune rag's fusion weights (rag-ranker: train its ranker) again (scores are cached)")
    parser.add_argument("--tune-samples", type=int, default=None,
                        help="tune the fusion on the first N validation samples only (default: all; LLM scoring "
                             "costs seconds per sample on a CPU)")
    parser.add_argument("--without", default=None,
                        help="rag-ranker ablation: a comma list of candidate sources the ranker is trained and "
                             "run without (retriever, co_mention, kb, item2vec, graph, mentioned)")
    parser.add_argument("--query", default="all",
                        help="query parts for bm25/retriever: 'all' or a comma list of mentions,sentiment,"
                             "preferences,dialogue,roles")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="llmkb", description=__doc__.split(":", 1)[1].strip(),
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=data_dir(), help="data directory (env LLMKB_DATA_DIR)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    data = commands.add_parser("data", help="fetch the public datasets, print statistics").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    fetch = data.add_parser("fetch", help="install the data files from a local mirror or the official URLs (sha256-checked)")
    fetch.add_argument("--source", type=Path, default=None,
                       help="a local mirror laid out like ../shared/data (env LLMKB_DATA_SOURCE); "
                            "without it, files are downloaded from their official public locations")
    fetch.set_defaults(run=cmd_data_fetch)
    data.add_parser("stats", help="dialogue, sample and pair counts per dataset, split and protocol").set_defaults(
        run=cmd_data_stats)

    kb = commands.add_parser("kb", help="build and inspect the knowledge bases").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    build = kb.add_parser("build", help="write kb.jsonl + manifest.json (cached by input hash)")
    build.add_argument("--dataset", choices=["redial", "inspired", "all"], default="all")
    build.add_argument("--out", type=Path, default=None, help="output folder (default artifacts/kb/DATASET)")
    build.add_argument("--force", action="store_true", help="rebuild even when the cache is up to date")
    build.set_defaults(run=cmd_kb_build)
    index = kb.add_parser("index", help="encode a KB with the retriever and build its FAISS index (cached; the "
                                        "recommender loads it)", formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    index.add_argument("--dataset", choices=["redial", "inspired"], required=True)
    index.add_argument("--retriever", type=Path, default=None,
                       help="sentence-transformers dir (default: the calibrated retriever when built, else the "
                            "packaged all-MiniLM-L6-v2)")
    index.add_argument("--kind", choices=["auto", *INDEX_KINDS], default="auto",
                       help="flat (exact), hnsw or ivfpq (approximate, for large catalogues); auto: by size "
                            "(docs/scale.md)")
    add_scale_options(index, "the encoding (Ray Data map_batches, one encoder per worker)")
    index.set_defaults(run=cmd_kb_index)

    show = kb.add_parser("show", help='print the KB document of one movie, e.g. llmkb kb show "Toy Story (1995)"')
    show.add_argument("title")
    show.add_argument("--dataset", choices=["redial", "inspired"], default="redial")
    show.add_argument("--kb", type=Path, default=None, help="KB folder (default artifacts/kb/DATASET)")
    show.set_defaults(run=cmd_kb_show)

    evaluate = commands.add_parser("evaluate", help="rank every sample of a protocol; write predictions + report",
                                   formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    evaluate.add_argument("--dataset", choices=["redial", "inspired"], required=True)
    evaluate.add_argument("--protocol", choices=["std", "dedup"], default="std")
    evaluate.add_argument("--system", choices=SYSTEMS + RAG_SYSTEMS, required=True,
                          help="baselines, retrievers, and the end-to-end recommender (rag) with its ablations")
    evaluate.add_argument("--split", choices=["test", "valid"], default="test")
    evaluate.add_argument("--predictions", type=Path, default=None,
                          help="predictions JSONL (default artifacts/runs/DATASET-PROTOCOL-SPLIT-SYSTEM.predictions.jsonl)")
    evaluate.add_argument("--report", type=Path, default=None, help="report JSON (default beside the predictions)")
    evaluate.add_argument("--limit", type=int, default=None, help="evaluate only the first N samples (a quick look)")
    evaluate.add_argument("--exclude-mentioned", action="store_true",
                          help="system option: never recommend a movie already mentioned (the protocol is unchanged)")
    _add_system_options(evaluate)
    add_scale_options(evaluate, "the samples' ranking")
    evaluate.set_defaults(run=cmd_evaluate)

    about = ("talk to a system with a simulated user who hides a target movie (PROTOCOLS.md, Interactive "
             "evaluation): up to --rounds rounds; each round the user reads the top 5, accepts the target or turns "
             "them down and reveals one attribute (genre, lead actor, director, decade, plot keyword), never the "
             "title. Writes transcripts (JSONL) and a report with success@1/5/10/50 and 95% intervals")
    simulate = commands.add_parser("simulate", help=about.split(" (")[0], description=about,
                                   formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    simulate.add_argument("--dataset", choices=["redial", "inspired"], required=True)
    simulate.add_argument("--system", choices=SYSTEMS + ("rag", "rag-no-llm", "rag-ranker"), required=True,
                          help="rag-ranker is the served system; rag scores with the LLM (about 1.3 s a round)")
    simulate.add_argument("--simulator", choices=["kb", "llm"], default="kb",
                          help="kb: seeded templates (deterministic); llm: a local LLM phrases the same feedback")
    simulate.add_argument("--simulator-llm", type=Path, default=None,
                          help="the llm simulator's model (HF dir or GGUF; default: the packaged SmolLM2)")
    simulate.add_argument("--setting", choices=["free-chat", "cold-start"], default="free-chat",
                          help="start from the real dialogue before the target turn, or from a generic opener")
    simulate.add_argument("--rounds", type=int, default=5)
    simulate.add_argument("--shown", type=int, default=5, help="movies the user reads each round")
    simulate.add_argument("--targets", type=int, default=300,
                          help="test std samples drawn with --seed (all of them when fewer)")
    simulate.add_argument("--seed", type=int, default=0, help="draws the targets and the user's phrasings")
    simulate.add_argument("--protocol", choices=["std", "dedup"], default="std",
                          help="which tuned fusion weights / trained ranker the rag systems use")
    simulate.add_argument("--out", type=Path, default=None,
                          help="transcripts JSONL (default artifacts/simulations/...; the report beside it)")
    _add_system_options(simulate)
    add_scale_options(simulate, "the conversations")
    simulate.set_defaults(run=cmd_simulate)

    compare = commands.add_parser("compare", help="two prediction files of the same samples: Recall@k of each, their "
                                  "paired difference and its standard error",
                                  formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    compare.add_argument("--dataset", choices=["redial", "inspired"], required=True)
    compare.add_argument("--protocol", choices=["std", "dedup"], default="std")
    compare.add_argument("--split", choices=["test", "valid"], default="test")
    compare.add_argument("a", type=Path, help="predictions JSONL from `llmkb evaluate`")
    compare.add_argument("b", type=Path, help="predictions JSONL of the same samples")
    compare.set_defaults(run=cmd_compare)

    about = ("the request benchmark: explicit requests written from the KB (a director, an actor, a genre, a decade, "
             "two of them, a negation, 'like X but Y'), answered as one-message dialogues; each variant's top 5 is "
             "checked against the KB's facts (precision@5, hit@5); the report keeps every request and list")
    bench = commands.add_parser("evaluate-requests", help=about.split(" (")[0], description=about,
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    bench.add_argument("--dataset", choices=["redial", "inspired"], required=True)
    bench.add_argument("--variants", default="all",
                       help="'all' or a comma list of full, no-kb-candidates, no-kb-signal, no-constraints, no-kb, "
                            "dense-only")
    bench.add_argument("--per-type", type=int, default=25, help="requests of each of the nine kinds")
    bench.add_argument("--seed", type=int, default=0, help="seed of the request generator")
    bench.add_argument("--noise", type=float, default=0.0,
                       help="type the requests as people do: all lower case, and this share of the name and title "
                            "words (4+ letters) with one typo (a swap, a neighbouring key, a dropped or doubled "
                            "letter); 0 writes them cleanly. The same seed gives the same requests either way")
    bench.add_argument("--min-items", type=int, default=5,
                       help="draw values that at least this many catalogue items satisfy; the headline numbers "
                            "count the requests that many items satisfy")
    bench.add_argument("--out", type=Path, default=None,
                       help="report JSON (default artifacts/requests/DATASET-report.json)")
    _add_recommender_options(bench)
    bench.add_argument("--weights", type=Path, default=None,
                       help="fusion weights JSON of the full system (default: those tuned for this setup, as chat "
                            "uses them, else the built-in weights)")
    bench.set_defaults(run=cmd_evaluate_requests)

    tune = commands.add_parser("tune-fusion", help="tune rag's fusion weights on the validation split; write them "
                               "with their provenance", formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    tune.add_argument("--dataset", choices=["redial", "inspired"], required=True)
    tune.add_argument("--protocol", choices=["std", "dedup"], default="std")
    tune.add_argument("--out", type=Path, default=None,
                      help="weights JSON (default artifacts/fusion/DATASET/PROTOCOL-SETUP.json, where chat, the demo "
                           "and evaluate look for the tuned weights of their setup)")
    tune.add_argument("--tune-samples", type=int, default=None,
                      help="tune on the first N validation samples only (default: all)")
    _add_recommender_options(tune)
    tune.set_defaults(run=cmd_tune_fusion)

    about = ("train the learned ranker (LightGBM LambdaRank over every signal, without the LLM's) on the training "
             "split with out-of-fold features, its rounds chosen on valid; the demo serves it once trained")
    ranker = commands.add_parser("train-ranker", help=about.split(";")[0], description=about,
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ranker.add_argument("--dataset", choices=["redial", "inspired"], required=True)
    ranker.add_argument("--protocol", choices=["std", "dedup"], default="dedup",
                        help="the protocol whose gold movies it learns (dedup: new movies, as chat recommends)")
    ranker.add_argument("--without", default=None,
                        help="an ablation: a comma list of candidate sources left out (retriever, co_mention, kb, "
                             "item2vec, graph, mentioned)")
    ranker.add_argument("--out", type=Path, default=None,
                        help="ranker JSON (default artifacts/ranker/DATASET/PROTOCOL-SETUP.json, where chat, the demo "
                             "and evaluate look for it)")
    _add_recommender_options(ranker)
    ranker.set_defaults(run=cmd_train_ranker)

    train = commands.add_parser("train-retriever", help="fine-tune the retriever on training dialogues (contrastive)",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    train.add_argument("--dataset", choices=["redial", "inspired"], required=True)
    train.add_argument("--max-steps", type=int, default=300, help="optimizer steps (bounded for a 2-core CPU)")
    train.add_argument("--batch-size", type=int, default=32)
    train.add_argument("--lr", type=float, default=5e-5)
    train.add_argument("--eval-steps", type=int, default=100, help="validate (and checkpoint) every N steps")
    train.add_argument("--no-hard-negatives", action="store_true", help="in-batch negatives only")
    train.add_argument("--base", type=Path, default=None, help="base model dir (default: packaged all-MiniLM-L6-v2)")
    train.add_argument("--out", type=Path, default=None, help="output dir (default artifacts/retriever/DATASET)")
    train.set_defaults(run=cmd_train_retriever)

    calibrate = commands.add_parser(
        "calibrate-retriever", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        help="calibrate the retriever in minutes: a linear map trained on cached embeddings (the default retriever "
             "once built)",
        description="Train a linear map on top of the frozen retriever so that training queries land near their gold "
                    "KB documents (cross-entropy over the whole catalogue, on embeddings computed once); the epoch "
                    "with the best validation Recall@50 is kept. 2-3 minutes on 2 CPU cores. The result "
                    "(artifacts/retriever/DATASET/calibrated) becomes the recommender's default retriever; it is "
                    "reused while its inputs are unchanged, and the demo builds it on first run.")
    calibrate.add_argument("--dataset", choices=["redial", "inspired"], required=True)
    calibrate.add_argument("--base", type=Path, default=None,
                           help="base model dir (default: the fine-tuned retriever when trained, else the packaged "
                                "all-MiniLM-L6-v2)")
    calibrate.add_argument("--epochs", type=int, default=20, help="at most this many epochs (early stopping on valid)")
    calibrate.add_argument("--lr", type=float, default=1e-3)
    calibrate.add_argument("--temperature", type=float, default=0.05)
    calibrate.add_argument("--seed", type=int, default=13, help="seed of the map's training (batch order)")
    calibrate.set_defaults(run=cmd_calibrate_retriever)

    chat = commands.add_parser("chat", help="chat with the recommender in the terminal",
                               formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    chat.add_argument("--dataset", choices=["redial", "inspired"], default="redial", help="catalogue to recommend from")
    _add_recommender_options(chat)
    chat.add_argument("--weights", type=Path, default=None,
                      help="fusion weights JSON (default: those `llmkb tune-fusion` wrote for this setup, dedup's "
                           "first, else the built-in weights); the learned ranker `llmkb train-ranker` wrote for this "
                           "setup ranks instead when there is one")
    chat.add_argument("--k", type=int, default=5, help="recommendations per turn")
    chat.add_argument("--keep-mentioned", action="store_true", help="allow movies already mentioned")
    chat.add_argument("--float32-reply", action="store_true",
                      help="write replies with the float32 LLM instead of its int8 copy (exact, ~3x slower on a CPU)")
    chat.add_argument("--llm-scoring", action="store_true",
                      help="the LLM also scores the candidates (a fusion signal; ~0.7 s a turn). Off by default: its "
                           "tuned weight is 0 on most setups (docs/RESULTS.md)")
    chat.add_argument("--base-replies", action="store_true",
                      help="replies from the base LLM, not the trained reply writer (`llmkb train-replies`)")
    chat.add_argument("--no-build", action="store_true",
                      help="use what is built; do not calibrate the retriever or tune the weights first")
    chat.set_defaults(run=cmd_chat)

    lora = commands.add_parser("train-llm", help="LoRA-tune the LLM on training dialogues (prompt → gold title)",
                               formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    lora.add_argument("--dataset", choices=["redial", "inspired"], required=True)
    lora.add_argument("--max-steps", type=int, default=100, help="optimizer steps (bounded for a 2-core CPU)")
    lora.add_argument("--batch-size", type=int, default=4)
    lora.add_argument("--rank", type=int, default=8, help="LoRA rank (alpha = 2 × rank)")
    lora.add_argument("--lr", type=float, default=2e-4)
    lora.add_argument("--out", type=Path, default=None, help="adapter dir (default artifacts/lora/DATASET)")
    _add_recommender_options(lora)
    lora.set_defaults(run=cmd_train_llm)
    about = ("train the reply writer: LoRA on SmolLM2 from the training splits' recommender turns whose human reply "
             "gives a grounded reason (prompt as the recommender writes it → the human reply); resumes; ~25 min")
    replies = commands.add_parser("train-replies", help=about.split(" (")[0], description=about,
                                  formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    replies.add_argument("--datasets", default="redial,inspired", help="training splits it learns from")
    replies.add_argument("--llm", type=Path, default=None, help="base LLM (default: packaged SmolLM2-135M-Instruct)")
    replies.add_argument("--max-steps", type=int, default=None, help="stop after N steps (default: one epoch)")
    replies.set_defaults(run=cmd_train_replies)
    about = ("the conversation task (CRSLab/UniCRS): a reply to every std test turn, recommending the top of the "
             "ranking's list; BLEU-2/4 against the human reply, Dist-2/3/4, perplexity, item ratio, consistency, "
             "grounding; writes the replies (JSONL) and a report")
    conv = commands.add_parser("evaluate-conversation", help=about.split(";")[0], description=about,
                               formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    conv.add_argument("--dataset", choices=["redial", "inspired"], required=True)
    conv.add_argument("--system", choices=["template", "llm", "llm-trained"], default="llm-trained",
                      help="the reply writer: the template, the base LLM, or the trained reply writer")
    conv.add_argument("--ranking", default="rag-ranker", help="the system whose std predictions give the lists")
    conv.add_argument("--predictions", type=Path, default=None, help="ranked lists (default: the ranking's run file)")
    conv.add_argument("--split", default="test", choices=["valid", "test"])
    conv.add_argument("--limit", type=int, default=None, help="the first N samples only")
    conv.add_argument("--perplexity-samples", type=int, default=200,
                      help="perplexity on this many seeded samples (a forward pass each); 0: none")
    conv.add_argument("--reply-lora", type=Path, default=None,
                      help="llm-trained: the adapter (default: the one `llmkb train-replies` trains)")
    conv.add_argument("--int8-reply", action="store_true",
                      help="write with an int8 copy of the LLM (faster; it loses much of the trained writer's skill)")
    conv.add_argument("--samples", type=int, default=None,
                      help="a seeded subset of N samples (the same N gives the same subset for every system)")
    _add_recommender_options(conv)
    conv.set_defaults(run=cmd_evaluate_conversation)
    add_rram_commands(commands)
    add_reproduce_command(commands)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"warning: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    warnings.showwarning = _show_warning
    try:
        args.run(args)
    except LLMKBError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; finished files are kept and the next run resumes from them", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
