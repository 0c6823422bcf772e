"""``llmkb``: the one command-line entry point. Run ``llmkb --help`` or ``llmkb COMMAND --help``.

Each module adds one family of commands (``add(commands)``) and turns their arguments into the library's configs at
the edge: ``data`` (data, kb), ``evaluate`` (evaluate, simulate, compare, evaluate-requests, evaluate-conversation),
``fit`` (tune-fusion, train-*, calibrate-retriever), ``chat``, ``rram`` (rram prune) and ``reproduce``.

>>> args = build_parser().parse_args(["data", "stats"])
>>> args.command, args.run.__module__
('data', 'llmkb.cli.data')
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from llmkb.cli import chat, data, evaluate, fit, reproduce, rram
from llmkb.cli.options import HelpFormatter
from llmkb.errors import LLMKBError
from llmkb.paths import data_dir

FAMILIES = (data, evaluate, fit, chat, rram, reproduce)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="llmkb", description=__doc__.split(":", 1)[1].split("\n")[0].strip(),
                                     formatter_class=HelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=data_dir(), help="data directory (env LLMKB_DATA_DIR)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for family in FAMILIES:
        family.add(commands)
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
