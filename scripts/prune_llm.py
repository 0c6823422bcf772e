#!/usr/bin/env python
"""Kept for recorded commands: ``python scripts/prune_llm.py ARGS`` is ``llmkb rram prune --model llm ARGS``
(``--model PATH`` among ARGS overrides the packaged SmolLM2). See ``llmkb rram prune --help``."""

import sys

from llmkb.cli import main

if __name__ == "__main__":
    sys.exit(main(["rram", "prune", "--model", "llm", *sys.argv[1:]]))
