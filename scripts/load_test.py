#!/usr/bin/env python
"""Load-test a running demo (see ``llmkb.app.load_test``, or ``--help``):

    python scripts/load_test.py --url http://127.0.0.1:7860/ --sessions 20 --turns 5
    python scripts/load_test.py --url http://127.0.0.1:7860/ --concurrency 1,2,5,10,20 --turns 5
    python scripts/load_test.py --replot artifacts/load_test/sweep-<UTC time>.json --plot docs/load.png
"""

import sys

from llmkb.app.load_test import main

if __name__ == "__main__":
    sys.exit(main())
