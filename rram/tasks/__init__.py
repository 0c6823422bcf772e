"""Task adapters: what ``rram.experiment`` needs from a kind of model (an evaluation, a training loss, batches),
independent of any dataset; the caller brings the texts.

- ``rram.tasks.retriever``: sentence-transformer encoders trained on (query, document) text pairs.
- ``rram.tasks.causal_lm``: causal language models on token windows, evaluated by perplexity.
"""
