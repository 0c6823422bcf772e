"""``llmkb data`` (fetch, stats) and ``llmkb kb`` (build, index, show)."""

from __future__ import annotations

import functools
import json
import time
from pathlib import Path

from llmkb.cli.options import DATASETS, HelpFormatter, dataset_of
from llmkb.errors import LLMKBError
from llmkb.retrieval.index import KINDS as INDEX_KINDS
from llmkb.scale.options import add_scale_options, cluster_of


def add(commands) -> None:
    """Add ``data`` and ``kb`` to the ``llmkb`` subcommands."""
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
    build.add_argument("--dataset", choices=[*DATASETS, "all"], default="all")
    build.add_argument("--out", type=Path, default=None, help="output folder (default artifacts/kb/DATASET)")
    build.add_argument("--force", action="store_true", help="rebuild even when the cache is up to date")
    build.set_defaults(run=cmd_kb_build)
    index = kb.add_parser("index", help="encode a KB with the retriever and build its FAISS index (cached; the "
                                        "recommender loads it)", formatter_class=HelpFormatter)
    index.add_argument("--dataset", choices=DATASETS, required=True)
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
    show.add_argument("--dataset", choices=DATASETS, default="redial")
    show.add_argument("--kb", type=Path, default=None, help="KB folder (default artifacts/kb/DATASET)")
    show.set_defaults(run=cmd_kb_show)


def cmd_data_fetch(args) -> None:
    from llmkb.data.fetch import fetch

    status = fetch(args.data_dir, args.source)
    counts = {s: sum(v == s for v in status.values()) for s in ("copied", "downloaded", "kept")}
    print(f"{args.data_dir}: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n) + " (sha256 verified)")


def data_stats(root: Path) -> list[dict]:
    from llmkb.data import PROTOCOLS, SPLITS, count_pairs, load_dataset

    rows = []
    for name in DATASETS:
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

    from llmkb.priors.behaviour import dataset_behaviour
    from llmkb.priors.training import items_cache

    names = ["redial", "inspired"] if args.dataset == "all" else [args.dataset]
    for name in names:
        out_dir = args.out / name if args.out and len(names) > 1 else args.out
        dataset = load_dataset(name, args.data_dir)
        out, rebuilt = build_kb(dataset, out_dir, force=args.force)
        counts = json.loads((out / "manifest.json").read_text())["counts"]
        n = counts["documents"]
        print(f"{name}: {'built' if rebuilt else 'up to date (cached)'} {out}/kb.jsonl — {n:,} documents, "
              f"{counts['with_kg_facts'] / n:.1%} with KG facts, {counts['with_metadata'] / n:.1%} with metadata, "
              f"{counts['with_co_mentions'] / n:.1%} with training co-mentions")
        scores, made = dataset_behaviour(dataset, items_cache(name))
        if scores is not None:
            print(f"{name}: MovieLens maps {made['mapped']:,} of {made['catalogue']:,} movies ({made['scored']:,} "
                  f"in its item-item model of {made['movies_fitted']:,} movies; {made['model']}, "
                  f"{made['seconds']:.1f} s, cached)")


def cmd_kb_index(args) -> None:
    from llmkb.retrieval import DenseRetriever
    from llmkb.retrieval.artifacts import best_available

    dataset = dataset_of(args)
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

    out, _ = build_kb(dataset_of(args), args.kb)
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
