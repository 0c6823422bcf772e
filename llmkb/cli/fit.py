"""``llmkb tune-fusion``, ``train-ranker``, ``train-retriever``, ``calibrate-retriever``, ``train-llm`` and
``train-replies``: what is fitted on the training and validation splits."""

from __future__ import annotations

import json
import time
from pathlib import Path

from llmkb.cli.options import (DATASETS, PROTOCOLS, HelpFormatter, add_command, add_recommender_options,
                               dataset_of, left_out_sources, ranking_stages)


def add(commands) -> None:
    """Add the fitting commands to the ``llmkb`` subcommands."""
    tune = commands.add_parser("tune-fusion", help="tune rag's fusion weights on the validation split; write them "
                               "with their provenance", formatter_class=HelpFormatter)
    tune.add_argument("--dataset", choices=DATASETS, required=True)
    tune.add_argument("--protocol", choices=PROTOCOLS, default="std")
    tune.add_argument("--out", type=Path, default=None,
                      help="weights JSON (default artifacts/fusion/DATASET/PROTOCOL-SETUP.json, where chat, the demo "
                           "and evaluate look for the tuned weights of their setup)")
    tune.add_argument("--tune-samples", type=int, default=None,
                      help="tune on the first N validation samples only (default: all)")
    add_recommender_options(tune)
    tune.set_defaults(run=cmd_tune_fusion)
    about = ("train the learned ranker (LightGBM LambdaRank over every signal, without the LLM's) on the training "
             "split with out-of-fold features, its rounds chosen on valid; the demo serves it once trained")
    ranker = add_command(commands, "train-ranker", about, ";")
    ranker.add_argument("--dataset", choices=DATASETS, required=True)
    ranker.add_argument("--protocol", choices=PROTOCOLS, default="dedup",
                        help="the protocol whose gold movies it learns (dedup: new movies, as chat recommends)")
    ranker.add_argument("--without", default=None,
                        help="an ablation: a comma list of candidate sources left out (retriever, co_mention, kb, "
                             "item2vec, graph, movielens, mentioned)")
    ranker.add_argument("--out", type=Path, default=None,
                        help="ranker JSON (default artifacts/ranker/DATASET/PROTOCOL-SETUP.json, where chat, the demo "
                             "and evaluate look for it)")
    booster = ranker.add_argument_group("LightGBM settings, to compare on valid (default: the served ranker's, "
                                        "llmkb.fitting.train_ranker.RankerConfig; another is written beside it)")
    booster.add_argument("--num-leaves", type=int)
    booster.add_argument("--min-data-in-leaf", type=int)
    booster.add_argument("--learning-rate", type=float)
    add_recommender_options(ranker)
    ranker.set_defaults(run=cmd_train_ranker)
    train = commands.add_parser("train-retriever", help="fine-tune the retriever on training dialogues (contrastive)",
                                formatter_class=HelpFormatter)
    train.add_argument("--dataset", choices=DATASETS, required=True)
    train.add_argument("--max-steps", type=int, default=300, help="optimizer steps (bounded for a 2-core CPU)")
    train.add_argument("--batch-size", type=int, default=32)
    train.add_argument("--lr", type=float, default=5e-5)
    train.add_argument("--eval-steps", type=int, default=100, help="validate (and checkpoint) every N steps")
    train.add_argument("--no-hard-negatives", action="store_true", help="in-batch negatives only")
    train.add_argument("--base", type=Path, default=None, help="base model dir (default: packaged all-MiniLM-L6-v2)")
    train.add_argument("--out", type=Path, default=None, help="output dir (default artifacts/retriever/DATASET)")
    train.set_defaults(run=cmd_train_retriever)
    calibrate = commands.add_parser(
        "calibrate-retriever", formatter_class=HelpFormatter,
        help="calibrate the retriever in minutes: a linear map trained on cached embeddings (the default retriever "
             "once built)",
        description="Train a linear map on top of the frozen retriever so that training queries land near their gold "
                    "KB documents (cross-entropy over the whole catalogue, on embeddings computed once); the epoch "
                    "with the best validation Recall@50 is kept. 2-3 minutes on 2 CPU cores. The result "
                    "(artifacts/retriever/DATASET/calibrated) becomes the recommender's default retriever; it is "
                    "reused while its inputs are unchanged, and the demo builds it on first run.")
    calibrate.add_argument("--dataset", choices=DATASETS, required=True)
    calibrate.add_argument("--base", type=Path, default=None,
                           help="base model dir (default: the fine-tuned retriever when trained, else the packaged "
                                "all-MiniLM-L6-v2)")
    calibrate.add_argument("--epochs", type=int, default=20, help="at most this many epochs (early stopping on valid)")
    calibrate.add_argument("--lr", type=float, default=1e-3)
    calibrate.add_argument("--temperature", type=float, default=0.05)
    calibrate.add_argument("--seed", type=int, default=13, help="seed of the map's training (batch order)")
    calibrate.set_defaults(run=cmd_calibrate_retriever)
    lora = commands.add_parser("train-llm", help="LoRA-tune the LLM on training dialogues (prompt → gold title)",
                               formatter_class=HelpFormatter)
    lora.add_argument("--dataset", choices=DATASETS, required=True)
    lora.add_argument("--max-steps", type=int, default=100, help="optimizer steps (bounded for a 2-core CPU)")
    lora.add_argument("--batch-size", type=int, default=4)
    lora.add_argument("--rank", type=int, default=8, help="LoRA rank (alpha = 2 × rank)")
    lora.add_argument("--lr", type=float, default=2e-4)
    lora.add_argument("--out", type=Path, default=None, help="adapter dir (default artifacts/lora/DATASET)")
    add_recommender_options(lora)
    lora.set_defaults(run=cmd_train_llm)
    about = ("train the reply writer: LoRA on SmolLM2 from the training splits' recommender turns whose human reply "
             "gives a grounded reason (prompt as the recommender writes it → the human reply); resumes; ~25 min")
    replies = add_command(commands, "train-replies", about)
    replies.add_argument("--datasets", default="redial,inspired", help="training splits it learns from")
    replies.add_argument("--llm", type=Path, default=None, help="base LLM (default: packaged SmolLM2-135M-Instruct)")
    replies.add_argument("--max-steps", type=int, default=None,
                         help="train N steps over up to N batches of distinct pairs, keeping the adapter every 30 "
                              "steps (snapshots/step-K) to choose the length on valid; a separate adapter, not served "
                              "(default: the first-run build's 60 steps over 480 pairs)")
    replies.set_defaults(run=cmd_train_replies)


def cmd_tune_fusion(args) -> None:
    from llmkb.fitting.tune_fusion import tune_fusion

    weights, path = tune_fusion(ranking_stages(args), args.protocol, args.out, args.tune_samples)
    shown = ", ".join(f"{name} {value:g}" for name, value in weights.__dict__.items())
    print(f"{args.dataset}-{args.protocol}: {shown}\nweights: {path}")


def cmd_train_ranker(args) -> None:
    from llmkb.fitting.train_ranker import RankerConfig, train_ranker
    from llmkb.pipeline.tuned import trained_ranker_path

    settings = {name: value for name in ("num_leaves", "min_data_in_leaf", "learning_rate")
                if (value := getattr(args, name)) is not None}
    config = RankerConfig(without=left_out_sources(args.without), **settings)
    stages = ranking_stages(args, use_llm=False)
    out = args.out
    if out is None and settings:  # another setting: beside the served ranker, not in its place
        served = trained_ranker_path(args.dataset, args.protocol, stages.config.setup_key, config.without)
        out = served.with_name(served.stem + "".join(f"-{name}-{value}" for name, value in settings.items()) + ".json")
    ranker, path = train_ranker(stages, args.protocol, config, out)
    meta = json.loads(path.read_text())
    print(f"{args.dataset}-{args.protocol}: {ranker.rounds} rounds chosen on valid (objective {meta['score']:.4f}; "
          f"a mentioned movie in the top 10 of {meta['mentioned_in_top10']:.0%} of the lists); trained on "
          f"{meta['training_samples']:,} samples in {meta['seconds'] / 60:.1f} min\nranker: {path}")


def cmd_train_retriever(args) -> None:
    from llmkb.retrieval.artifacts import finetuned_path
    from llmkb.retrieval import DenseRetriever
    from llmkb.retrieval.train import TrainConfig, train_retriever

    dataset = dataset_of(args)
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

    dataset = dataset_of(args)
    base = DenseRetriever.for_dataset(dataset, args.base or calibration_base(args.dataset))
    config = CalibrationConfig(epochs=args.epochs, learning_rate=args.lr, temperature=args.temperature, seed=args.seed)
    model = ensure_calibrated(dataset, base, config)
    record = calibration_record(model)
    print(f"valid R@50 {record['valid_recall@50']['base']:.4f} (base) → {record['valid_recall@50']['best']:.4f} "
          f"(epoch {record['best_epoch']}), built in {record['seconds'] / 60:.1f} min on {record['date']}"
          f"\nmodel: {model}")


def cmd_train_llm(args) -> None:
    from llmkb.generation.lora import LoraSettings, train_lora
    from llmkb.paths import artifacts_dir
    from llmkb.fitting.lora_data import lora_pairs

    stages = ranking_stages(args)
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
          f"evaluate with: llmkb evaluate-conversation --dataset redial --system llm-trained"
          + (f" --reply-lora {out}" if args.max_steps else "")
          + "".join(f"\n  snapshot: {path}" for path in sorted((out / "snapshots").glob("step-*"))))
