#!/usr/bin/env python
"""Kept for recorded commands: ``python scripts/prune_retriever.py ARGS`` is ``llmkb rram prune --model retriever ARGS``
(``--model PATH`` among ARGS overrides the packaged all-MiniLM-L6-v2). See ``llmkb rram prune --help``."""

import sys

from llmkb.cli import main

if __name__ == "__main__":
    sys.exit(main(["rram", "prune", "--model", "retriever", *sys.argv[1:]]))
