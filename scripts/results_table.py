#!/usr/bin/env python
"""Print markdown results tables from evaluation reports (artifacts/runs/*.report.json by default).

    python scripts/results_table.py [REPORT ...]
Each row shows the metrics of PROTOCOLS.md and the exact command that produced them
(``llmkb.evaluation.tables``; ``llmkb reproduce`` writes the same tables to artifacts/results/tables.md).
"""

import sys
from pathlib import Path

from llmkb.evaluation.tables import read_reports, results_tables
from llmkb.paths import artifacts_dir


def main(paths: list[str]) -> None:
    print(results_tables(read_reports(paths or sorted(Path(artifacts_dir(), "runs").glob("*.report.json")))))


if __name__ == "__main__":
    main(sys.argv[1:])
