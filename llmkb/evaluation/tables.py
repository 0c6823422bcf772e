"""Markdown results tables from the reports that ``llmkb evaluate``, ``llmkb evaluate-requests`` and ``llmkb simulate``
write.

One table per dataset-protocol, test split only, a row per system with the metrics of PROTOCOLS.md, the exact
command that produced them and its date:

>>> report = {"protocol": "inspired-std", "split": "test", "system": "bm25", "exclude_mentioned": False,
...           "limit": None, "command": "llmkb evaluate --dataset inspired --system bm25", "date": "2026-11-30",
...           "metrics": {"samples": 227, "pairs": 252, **dict.fromkeys(COLUMNS.values(), 0.25)}}
>>> print(results_tables([report]))
### inspired-std (test: 227 samples, 252 pairs)
<BLANKLINE>
| system | R@1 | R@10 | R@50 | NDCG@10 | MRR@50 | pair R@10 | pair R@50 | command | date |
|---|---|---|---|---|---|---|---|---|---|
| bm25 | 0.250 | 0.250 | 0.250 | 0.250 | 0.250 | 0.250 | 0.250 | `llmkb evaluate --dataset inspired --system bm25` | 2026-11-30 |
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

# Row order within a table; systems not listed come last.
ORDER = ["popularity", "copy-context", "bm25", "retriever-zeroshot", "retriever-calibrated", "retriever",
         "rag-no-llm", "rag-ranker", "rag", "llm-zeroshot", "rag-no-postprocess"]
COLUMNS = {"R@1": "recall@1", "R@10": "recall@10", "R@50": "recall@50", "NDCG@10": "ndcg@10", "MRR@50": "mrr@50",
           "pair R@10": "pair_recall@10", "pair R@50": "pair_recall@50"}


def read_reports(paths: Iterable[str | Path]) -> list[dict]:
    """The JSON reports at ``paths``, in that order."""
    return [json.loads(Path(path).read_text(encoding="utf-8")) for path in paths]


def results_tables(reports: Iterable[Mapping]) -> str:
    """Markdown: a ``### dataset-protocol`` table per protocol (sorted), rows in ``ORDER``; "" without test reports."""
    reports = [r for r in reports if r["split"] == "test"]
    return "\n\n".join(_protocol_table(protocol, sorted((r for r in reports if r["protocol"] == protocol), key=_rank))
                       for protocol in sorted({r["protocol"] for r in reports}))


def _rank(report: Mapping) -> tuple:
    system = report["system"]
    return ORDER.index(system) if system in ORDER else len(ORDER), _row_name(report), report["exclude_mentioned"]


def _row_name(report: Mapping) -> str:
    without = report.get("models", {}).get("without")
    name = report["system"] + (f" without {', '.join(without)}" if without else "")
    name += " (excl. mentioned)" if report["exclude_mentioned"] else ""
    return name + (f" (first {report['limit']:,} samples)" if report.get("limit") else "")


def _protocol_table(protocol: str, rows: list[Mapping]) -> str:
    whole = max(rows, key=lambda r: r["metrics"]["samples"])["metrics"]  # a --limit run covers fewer samples
    lines = [f"### {protocol} (test: {whole['samples']:,} samples, {whole['pairs']:,} pairs)", "",
             "| system | " + " | ".join(COLUMNS) + " | command | date |", "|---" * (len(COLUMNS) + 3) + "|"]
    for r in rows:
        numbers = " | ".join(f"{r['metrics'][key]:.3f}" for key in COLUMNS.values())
        lines.append(f"| {_row_name(r)} | {numbers} | `{r['command']}` | {r['date']} |")
    return "\n".join(lines)


def requests_table(reports: list[Mapping]) -> str:
    """Markdown: the request benchmark's precision@5 / hit@5 per group and overall (with its 95% interval), over the
    requests that enough catalogue items satisfy (the headline), a row per dataset and variant; "" without reports.

    >>> cell = {"requests": 4, "precision@5": 0.9, "hit@5": 1.0, "precision@5 95% CI": [0.8, 1.0]}
    >>> report = {"dataset": "redial", "command": "llmkb evaluate-requests --dataset redial", "date": "2026-11-30",
    ...           "generation": {"min_items": 5}, "variants": {"full": {"metrics": {"satisfiable": {
    ...               "overall": cell, "groups": {"single": cell, "negated": {"requests": 0}}}}}}}
    >>> print(requests_table([report]).splitlines()[-1])
    | redial (4/0) | full | 0.900 / 1.00 | – | 0.900 [0.800, 1.000] / 1.00 | `llmkb evaluate-requests --dataset redial` | 2026-11-30 |
    """
    if not reports:
        return ""
    groups = list(_headline(next(iter(reports[0]["variants"].values())))["groups"])
    lines = [f"### Requests (`llmkb evaluate-requests`): P@5 / hit@5 over the requests at least "
             f"{reports[0]['generation']['min_items']} catalogue items satisfy", "",
             "| dataset | variant | " + " | ".join(groups) + " | overall P@5 [95% CI] / hit@5 | command | date |",
             "|---" * (len(groups) + 5) + "|"]
    for report in reports:
        for i, (variant, result) in enumerate(report["variants"].items()):
            headline = _headline(result)
            counts = "/".join(str(headline["groups"][g]["requests"]) for g in groups)
            dataset, source = (f"{report['dataset']} ({counts})", f"`{report['command']}` | {report['date']}") \
                if i == 0 else ("", " | ")  # dataset, command and date on its first row only
            cells = " | ".join(_cell(headline["groups"][g]) for g in groups)
            lines.append(f"| {dataset} | {variant} | {cells} | {_cell(headline['overall'], interval=True)} | {source} |")
    return "\n".join(lines)


def _headline(variant_result: Mapping) -> Mapping:
    return variant_result["metrics"]["satisfiable"]


def _cell(numbers: Mapping, interval: bool = False) -> str:
    if not numbers["requests"]:
        return "–"
    ci = " [{:.3f}, {:.3f}]".format(*numbers["precision@5 95% CI"]) if interval else ""
    return f"{numbers['precision@5']:.3f}{ci} / {numbers['hit@5']:.2f}"


def simulation_table(reports: list[Mapping]) -> str:
    """Markdown: interactive evaluation (``llmkb simulate``), a row per dataset, setting, simulated user and system:
    success@1/10 within the rounds with 95% Wilson intervals, success@5/50, the mean rounds to success, success@1/10
    /50 after the first round (before any feedback: iEvaLM's "before"), and the leaks the guard caught (and left: 0); "" without reports.

    >>> rate = {"rate": 0.5, "low": 0.2, "high": 0.8}
    >>> report = {"dataset": "inspired", "setting": "cold-start", "simulator": "kb", "system": "popularity",
    ...           "rounds": 5, "command": "llmkb simulate ...", "date": "2026-11-30", "metrics": {"targets": 227,
    ...           **{f"success@{k}": rate for k in (1, 5, 10, 50)}, "mean_rounds": {"mean": 2.0},
    ...           "curve": {"success@1": [0.1], "success@10": [0.3], "success@50": [0.4]}, "leaks": {"caught": 3, "scored": 0}}}
    >>> print(simulation_table([report]).splitlines()[-1])
    | inspired | cold-start | kb | popularity | 227 | 0.500 [0.200, 0.800] | 0.500 | 0.500 [0.200, 0.800] | 0.500 | 2.00 | 0.100 / 0.300 / 0.400 | 3 / 0 | `llmkb simulate ...` | 2026-11-30 |
    """
    if not reports:
        return ""
    rounds = reports[0]["rounds"]
    lines = [f"### Interactive evaluation (`llmkb simulate`): success within {rounds} rounds, 95% Wilson intervals", "",
             "| dataset | setting | user | system | targets | S@1 | S@5 | S@10 | S@50 | mean rounds | round 1: S@1 / 10 / 50 "
             "| leaks caught / scored | command | date |", "|---" * 14 + "|"]
    key = lambda r: (r["dataset"], r["setting"], r["simulator"], ORDER.index(r["system"]) if r["system"] in ORDER  # noqa: E731
                     else len(ORDER))
    for r in sorted(reports, key=key):
        m = r["metrics"]
        rate = lambda k, interval=False: f"{m[f'success@{k}']['rate']:.3f}" + (  # noqa: E731
            f" [{m[f'success@{k}']['low']:.3f}, {m[f'success@{k}']['high']:.3f}]" if interval else "")
        lines.append(f"| {r['dataset']} | {r['setting']} | {r['simulator']} | {r['system']} | {m['targets']} | "
                     f"{rate(1, True)} | {rate(5)} | {rate(10, True)} | {rate(50)} | {m['mean_rounds']['mean']:.2f} | "
                     + " / ".join(f"{m['curve'][f'success@{k}'][0]:.3f}" for k in (1, 10, 50)) + " | "
                     f"{m['leaks']['caught']} / {m['leaks']['scored']} | `{r['command']}` | {r['date']} |")
    return "\n".join(lines)


def conversation_table(reports: list[Mapping]) -> str:
    """Markdown: the conversation task (``llmkb evaluate-conversation``), a row per dataset and reply writer: BLEU-2/4
    with 95% bootstrap intervals, Dist-2/3/4, perplexity, item ratio, the share templated, and consistency and
    grounding of the replies the LLM wrote; "" without reports.

    >>> report = {"dataset": "inspired", "system": "template", "samples": None, "command": "llmkb ...",
    ...           "date": "2026-11-30", "models": {"int8": False}, "metrics": {"replies": 227, "bleu2": [0.02, 0.01, 0.03],
    ...           "bleu4": [0.001, 0.0, 0.002], "dist2": 6.1, "dist3": 9.0, "dist4": 11.5, "item_ratio": 1.0,
    ...           "templated": 1.0, "consistency": float("nan"), "grounding": float("nan"), "says_why": float("nan")}}
    >>> print(conversation_table([report]).splitlines()[-1])
    | inspired | template | 227 | .020 [.010, .030] | .0010 | 6.10 / 9.00 / 11.50 | – | 1.000 | 1.000 | – / – | `llmkb ...` | 2026-11-30 |
    """
    if not reports:
        return ""
    lines = ["### Conversation task (`llmkb evaluate-conversation`): test replies against the human ones", "",
             "| dataset | reply writer | replies | BLEU-2 [95%] | BLEU-4 | Dist-2 / 3 / 4 | perplexity [95%] | item ratio "
             "| templated | consistency / grounding (LLM-written) | command | date |", "|---" * 12 + "|"]
    order = ("template", "llm", "llm-trained")
    key = lambda r: (r["dataset"], order.index(r["system"]) if r["system"] in order else 3, r["models"].get("int8"))  # noqa: E731
    share = lambda value: "–" if value != value else f"{value:.3f}"  # noqa: E731 (NaN: no LLM-written reply)
    for r in sorted(reports, key=key):
        m = r["metrics"]
        ppl = m.get("perplexity")
        ppl = f"{ppl['perplexity']:.1f} [{ppl['interval'][0]:.1f}, {ppl['interval'][1]:.1f}]" if ppl else "–"
        writer = r["system"] + (" (int8)" if r["models"].get("int8") else "")
        lines.append(f"| {r['dataset']} | {writer} | {m['replies']:,} | {m['bleu2'][0]:.3f} [{m['bleu2'][1]:.3f}, "
                     f"{m['bleu2'][2]:.3f}] | {m['bleu4'][0]:.4f} | {m['dist2']:.2f} / {m['dist3']:.2f} / "
                     f"{m['dist4']:.2f} | {ppl} | {m['item_ratio']:.3f} | {m['templated']:.3f} | "
                     f"{share(m['consistency'])} / {share(m['grounding'])} | `{r['command']}` | {r['date']} |")
    return "\n".join(lines).replace(" 0.", " .").replace("[0.", "[.")
