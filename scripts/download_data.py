#!/usr/bin/env python
"""Fetch the public datasets into ./data (thin wrapper of `llmkb data fetch`).

    python scripts/download_data.py --source ../shared/data   # from a local mirror
    python scripts/download_data.py                           # from the official URLs
"""

import sys

from llmkb.cli import main

if __name__ == "__main__":
    sys.exit(main(["data", "fetch", *sys.argv[1:]]))
