"""LLMKB: conversational movie recommendation with an LLM over a knowledge-graph knowledge base.

Packages, lowest layer first (each imports only from its own layer and those below; ``tests/test_architecture.py``
checks it): ``data`` → ``kb`` → ``priors``, ``retrieval``, ``generation``, ``postprocess`` → ``ranking`` →
``pipeline`` → ``fitting`` → ``evaluation`` → ``scale``, ``prune`` → ``app`` → ``cli``, the single command-line
entry point (``llmkb --help``). ``rram`` stands alone and never imports ``llmkb``.
"""

__version__ = "0.1.0"
