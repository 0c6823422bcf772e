#!/usr/bin/env python
"""Replies of several writers to the same test turns, side by side, as Markdown (docs/replies.md).

    python scripts/replies_side_by_side.py --dataset redial \\
        artifacts/runs/redial-test-conversation-llm-300-samples.replies.jsonl \\
        artifacts/runs/redial-test-conversation-llm-trained-300-samples.replies.jsonl --names base,trained
"""

import argparse
from pathlib import Path

from llmkb.data import load_dataset
from llmkb.evaluation.conversation import side_by_side

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("replies", nargs="+", type=Path, help="replies files of `llmkb evaluate-conversation`")
    parser.add_argument("--names", required=True, help="a comma list: one name per replies file")
    parser.add_argument("--dataset", choices=["redial", "inspired"], required=True, help="for the seeker's turns")
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    names = args.names.split(",")
    if len(names) != len(args.replies):
        parser.error(f"{len(args.replies)} replies files but {len(names)} names")
    seeker = {s.sample_id: s.context[-1].text for s in load_dataset(args.dataset).samples("test", "std") if s.context}
    print(side_by_side(args.replies, names, args.count, args.seed, seeker))
