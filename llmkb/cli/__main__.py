"""``python -m llmkb.cli``: the same as ``llmkb``."""

import sys

from llmkb.cli import main

sys.exit(main())
