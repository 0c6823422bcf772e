"""LLMKB: conversational movie recommendation with an LLM over a knowledge-graph knowledge base.

Stages, in the order data flows through them:
``data`` → ``kb`` → ``retrieval`` → ``generation`` → ``postprocess`` → ``pipeline`` → ``evaluation``,
with ``cli`` as the single command-line entry point (``llmkb --help``).
"""

__version__ = "0.1.0"
