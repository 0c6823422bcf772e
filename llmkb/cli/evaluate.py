"""``llmkb evaluate``, ``simulate``, ``compare``, ``evaluate-requests`` and ``evaluate-conversation``: they read what
was built; a missing fusion tuning or ranker is fitted here, at the command's edge (``llmkb.fitting``)."""

from __future__ import annotations

import dataclasses
import functools
import sys
from pathlib import Path

from llmkb.cli.options import (DATASETS, PROTOCOLS, HelpFormatter, add_command, add_recommender_options,
                               add_system_options, dataset_of, left_out_sources, ranking_stages, recommender_config)
from llmkb.data.io import read_jsonl
from llmkb.errors import LLMKBError
from llmkb.evaluation.systems import SYSTEMS, make_system
from llmkb.pipeline.config import REPLY_RUNTIMES, WRITER_RUNTIME
from llmkb.scale.options import add_scale_options, cluster_of, portable


def add(commands) -> None:
    """Add the evaluation commands to the ``llmkb`` subcommands."""
    evaluate = commands.add_parser("evaluate", help="rank every sample of a protocol; write predictions + report",
                                   formatter_class=HelpFormatter)
    evaluate.add_argument("--dataset", choices=DATASETS, required=True)
    evaluate.add_argument("--protocol", choices=PROTOCOLS, default="std")
    evaluate.add_argument("--system", choices=list(SYSTEMS), required=True,
                          help="baselines, retrievers, and the end-to-end recommender (rag) with its ablations")
    evaluate.add_argument("--split", choices=["test", "valid"], default="test")
    evaluate.add_argument("--predictions", type=Path, default=None,
                          help="predictions JSONL (default artifacts/runs/DATASET-PROTOCOL-SPLIT-SYSTEM.predictions.jsonl)")
    evaluate.add_argument("--report", type=Path, default=None, help="report JSON (default beside the predictions)")
    evaluate.add_argument("--limit", type=int, default=None, help="evaluate only the first N samples (a quick look)")
    evaluate.add_argument("--exclude-mentioned", action="store_true",
                          help="system option: never recommend a movie already mentioned (the protocol is unchanged)")
    add_system_options(evaluate)
    add_scale_options(evaluate, "the samples' ranking")
    evaluate.set_defaults(run=cmd_evaluate)
    about = ("talk to a system with a simulated user who hides a target movie (PROTOCOLS.md, Interactive "
             "evaluation): up to --rounds rounds; each round the user reads the top 5, accepts the target or turns "
             "them down and reveals one attribute (genre, lead actor, director, decade, plot keyword), never the "
             "title; in the descriptions setting it only retells the target's plot, a part per round, without names "
             "or rare words. Writes transcripts (JSONL) and a report with success@1/5/10/50 and 95% intervals")
    simulate = add_command(commands, "simulate", about)
    simulate.add_argument("--dataset", choices=DATASETS, required=True)
    simulate.add_argument("--system", choices=[name for name, entry in SYSTEMS.items() if entry.conversational],
                          required=True,
                          help="rag-ranker is the served system; rag scores with the LLM (about 1.3 s a round)")
    simulate.add_argument("--simulator", choices=["kb", "llm"], default="kb",
                          help="kb: seeded templates (deterministic); llm: a local LLM phrases the same feedback")
    simulate.add_argument("--simulator-llm", type=Path, default=None,
                          help="the llm simulator's model (HF dir or GGUF; default: the packaged SmolLM2)")
    simulate.add_argument("--setting", choices=["free-chat", "cold-start", "descriptions"], default="free-chat",
                          help="start from the real dialogue before the target turn, or from a generic opener; or "
                               "a user who only describes the target's plot, without names or rare words")
    simulate.add_argument("--rounds", type=int, default=None,
                          help="rounds before the user gives up (default: 5; 3 in the descriptions setting)")
    simulate.add_argument("--shown", type=int, default=5, help="movies the user reads each round")
    simulate.add_argument("--targets", type=int, default=300,
                          help="test std samples drawn with --seed (all of them when fewer)")
    simulate.add_argument("--seed", type=int, default=0, help="draws the targets and the user's phrasings")
    simulate.add_argument("--protocol", choices=PROTOCOLS, default="std",
                          help="which tuned fusion weights / trained ranker the rag systems use")
    simulate.add_argument("--out", type=Path, default=None,
                          help="transcripts JSONL (default artifacts/simulations/...; the report beside it)")
    add_system_options(simulate)
    add_scale_options(simulate, "the conversations")
    simulate.set_defaults(run=cmd_simulate)
    compare = commands.add_parser("compare", help="two prediction files of the same samples: Recall@k of each, their "
                                  "paired difference and its standard error",
                                  formatter_class=HelpFormatter)
    compare.add_argument("--dataset", choices=DATASETS, required=True)
    compare.add_argument("--protocol", choices=PROTOCOLS, default="std")
    compare.add_argument("--split", choices=["test", "valid"], default="test")
    compare.add_argument("a", type=Path, help="predictions JSONL from `llmkb evaluate`")
    compare.add_argument("b", type=Path, help="predictions JSONL of the same samples")
    compare.set_defaults(run=cmd_compare)
    about = ("the request benchmark: explicit requests written from the KB (a director, an actor, a genre, a decade, "
             "two of them, a negation, 'like X but Y', a studio or series wanted or ruled out), answered as "
             "one-message dialogues; each variant's top 5 is checked against the KB's facts (precision@5, hit@5); "
             "the report keeps every request and list")
    bench = add_command(commands, "evaluate-requests", about)
    bench.add_argument("--dataset", choices=DATASETS, required=True)
    bench.add_argument("--variants", default="all",
                       help="'all' or a comma list of full, no-kb-candidates, no-kb-signal, no-constraints, no-kb, "
                            "dense-only")
    bench.add_argument("--per-type", type=int, default=25, help="requests of each of the thirteen kinds")
    bench.add_argument("--seed", type=int, default=0, help="seed of the request generator")
    bench.add_argument("--noise", type=float, default=0.0,
                       help="type the requests as people do: all lower case, and this share of the name and title "
                            "words (4+ letters) with one typo (a swap, a neighbouring key, a dropped or doubled "
                            "letter; studio and series names stay as written); 0 writes them cleanly. The same "
                            "seed gives the same requests either way")
    bench.add_argument("--min-items", type=int, default=5,
                       help="draw values that at least this many catalogue items satisfy; the headline numbers "
                            "count the requests that many items satisfy")
    bench.add_argument("--out", type=Path, default=None,
                       help="report JSON (default artifacts/requests/DATASET-report.json)")
    add_recommender_options(bench)
    bench.add_argument("--weights", type=Path, default=None,
                       help="fusion weights JSON of the full system (default: those tuned for this setup, as chat "
                            "uses them, else the built-in weights)")
    bench.set_defaults(run=cmd_evaluate_requests)
    about = ("the refinement benchmark: two-turn chats written from the KB; the second turn refines the cards the "
             "first showed ('something more recent', 'older', 'funnier', 'scarier', 'not the first one'); the share "
             "of the second top 5 that satisfies it, against the same system asked 'Something else?'")
    refine = add_command(commands, "evaluate-refinements", about)
    refine.add_argument("--dataset", choices=DATASETS, required=True)
    refine.add_argument("--per-kind", type=int, default=40, help="cases of each of the five refinements")
    refine.add_argument("--seed", type=int, default=0, help="seed of the case generator")
    refine.add_argument("--out", type=Path, default=None,
                        help="report JSON (default artifacts/requests/DATASET-refinements.json)")
    add_recommender_options(refine)
    refine.set_defaults(run=cmd_evaluate_refinements)
    about = ("the conversation task (CRSLab/UniCRS): a reply to every std test turn, recommending the top of the "
             "ranking's list; BLEU-2/4 against the human reply, Dist-2/3/4, perplexity, item ratio, consistency, "
             "grounding; writes the replies (JSONL) and a report")
    conv = add_command(commands, "evaluate-conversation", about, ";")
    conv.add_argument("--dataset", choices=DATASETS, required=True)
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
    conv.add_argument("--reply-runtime", choices=REPLY_RUNTIMES, default=None,
                      help="how the replies are computed (default: the served writer's for llm-trained, "
                           f"{WRITER_RUNTIME}; float32 for llm); another than the default names the report")
    conv.add_argument("--samples", type=int, default=None,
                      help="a seeded subset of N samples (the same N gives the same subset for every system)")
    add_recommender_options(conv)
    conv.set_defaults(run=cmd_evaluate_conversation)


def system_of(args, dataset, split: str | None):
    """The system ``args.system`` names, and what it loads (for the report). ``split`` None: it ranks simulated
    conversations, so nothing is read from or written to the split's score caches."""
    from llmkb.fitting.train_ranker import learned_ranker
    from llmkb.fitting.tune_fusion import fusion_weights
    from llmkb.retrieval import QueryConfig

    entry = SYSTEMS[args.system]
    if not entry.stages:
        models = {"retriever": str(args.retriever)} if args.retriever else {}
        return make_system(args.system, dataset, args.retriever, QueryConfig.parse(args.query)), models
    stages = ranking_stages(args, use_llm=entry.llm)
    ranking = None
    models = {"setup": stages.config.setup, "retriever": str(stages.config.retriever),
              "llm": str(args.llm or "packaged SmolLM2-135M-Instruct") if stages.uses_llm else None,
              "lora": str(args.lora) if args.lora else None}
    if entry.ranking == "fusion":  # loaded, or tuned now: here, at the command's edge
        ranking, path = fusion_weights(stages, args.protocol, args.retune, args.tune_samples)
        print(f"fusion weights: {path}", file=sys.stderr)
        models.update(fusion_weights=ranking.__dict__, fusion_weights_file=str(path))
    if entry.ranking == "learned":  # loaded, or trained now
        ranking = learned_ranker(stages, args.protocol, left_out_sources(args.without), args.retune)
        print(f"learned ranker: {ranking.path}", file=sys.stderr)
        models.update(ranker_file=str(ranking.path), ranker_rounds=ranking.rounds, without=list(ranking.without))
    return make_system(args.system, dataset, stages=stages, ranking=ranking, split=split), models


def cmd_evaluate(args) -> None:
    from llmkb.evaluation import Run, evaluate
    from llmkb.paths import artifacts_dir

    dataset = dataset_of(args)
    stem = f"{args.dataset}-{args.protocol}-{args.split}-{args.system}" + ("-excl" if args.exclude_mentioned else "")
    stem += variant_suffix(args)
    predictions = args.predictions or artifacts_dir() / "runs" / f"{stem}.predictions.jsonl"
    report = args.report or predictions.with_name(f"{stem}.report.json")
    system, models = system_of(args, dataset, args.split)
    run = Run(args.dataset, args.protocol, args.split, args.system, args.exclude_mentioned, args.limit, models)
    with cluster_of(args) as cluster:
        if cluster:
            from llmkb.scale import ShardedSystem

            batch_size = None if system.batch_invariant else system.batch_size
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


def variant_suffix(args) -> str:
    """What a run's file names add for the recommender options it changes."""
    return (("-lora" if args.lora else "") + ("-no-kb-candidates" if args.no_kb_candidates else "")
            + ("-no-constraints" if args.no_constraints else "")
            + ({True: "-movielens", False: "-no-movielens"}.get(getattr(args, "movielens", None), ""))
            + "".join(f"-without-{source}" for source in sorted(left_out_sources(args.without)))
            + (f"-ranker-{args.ranker.stem}" if getattr(args, "ranker", None) else ""))  # not the served ranker's run


def cmd_simulate(args) -> None:
    from llmkb.evaluation.interactive import ROUNDS, Simulation, simulate, simulation_paths

    args.rounds = ROUNDS[args.setting] if args.rounds is None else args.rounds
    if args.rounds < 1 or args.targets < 1:
        raise LLMKBError("--rounds and --targets must be at least 1")
    dataset = dataset_of(args)
    transcripts, report = simulation_paths(args.dataset, args.system, args.simulator, args.setting, args.rounds,
                                           args.targets, args.seed, variant_suffix(args), args.out)
    system, models = system_of(args, dataset, split=None)
    simulator = simulator_of(args)
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
    return system_of(args, dataset_of(args), split)[0]


def worker_conversations(args, run):
    """In a Ray worker: ``run``'s conversations with the system and the simulated user ``args`` name."""
    from llmkb.evaluation.interactive import Conversations

    dataset = dataset_of(args)
    return Conversations(dataset, system_of(args, dataset, split=None)[0], simulator_of(args), run)


def simulator_of(args):
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

    samples = dataset_of(args).samples(args.split, args.protocol)
    rows = compare_rankings(read_predictions(args.a), read_predictions(args.b), {s.sample_id: s.gold for s in samples})
    print(f"{args.dataset}-{args.protocol} ({args.split}, {len(samples):,} samples)\nA: {args.a}\nB: {args.b}\n"
          f"{format_comparison(rows)}")


def cmd_evaluate_requests(args) -> None:
    from llmkb.evaluation.requests import TOP, evaluate_requests, format_report
    from llmkb.paths import artifacts_dir
    from llmkb.pipeline.tuned import with_tuned_ranking

    # the full system as chat runs it, on the fusion weights: the benchmark's variants change the fusion's signals
    config = dataclasses.replace(with_tuned_ranking(recommender_config(args, k=TOP, reply_runtime="float32")),
                                 ranker=None)
    out = args.out or artifacts_dir() / "requests" / f"{args.dataset}-report.json"
    report = evaluate_requests(config, args.variants, args.per_type, args.seed, out, args.min_items, noise=args.noise)
    print(f"{format_report(report)}\nreport: {out} ({report['seconds']:.0f} s)")


def cmd_evaluate_refinements(args) -> None:
    from llmkb.evaluation.refinements import TOP, evaluate_refinements, format_report
    from llmkb.paths import artifacts_dir
    from llmkb.pipeline.tuned import with_tuned_ranking

    # chat's ranking
    config = with_tuned_ranking(recommender_config(args, use_llm=False, k=TOP, reply_runtime="float32"))
    out = args.out or artifacts_dir() / "requests" / f"{args.dataset}-refinements.json"
    report = evaluate_refinements(config, args.per_kind, args.seed, out)
    print(f"{format_report(report)}\nreport: {out} ({report['seconds']:.0f} s)")


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
    runtime = WRITER_RUNTIME if args.system == "llm-trained" else "float32"
    config = recommender_config(args, use_llm=args.system != "template", llm_scoring=False,
                                reply_runtime=args.reply_runtime or runtime, reply_lora=reply_lora)
    stages = Stages.load(config)
    run = ConversationRun(args.dataset, args.system, args.ranking, args.split, args.limit, args.samples,
                          args.perplexity_samples)
    other = args.reply_runtime if args.reply_runtime not in (None, runtime) and args.system != "template" else None
    report = conversation_report(args.dataset, args.split, args.system, other, args.samples,
                                 reply_lora if args.reply_lora else None)  # another writer: its own report
    models = {"llm": str(args.llm or "packaged SmolLM2-135M-Instruct") if args.system != "template" else None,
              "reply_lora": str(reply_lora) if reply_lora else None,
              "reply_runtime": config.reply_runtime if args.system != "template" else None,
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
