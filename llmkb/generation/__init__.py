"""LLM side of the recommender: load the model, fuse prompts, score candidates, write replies, LoRA-tune.

Reading order: ``llm`` (load) → ``prompt`` (fuse dialogue + KB docs) → ``scorer`` (rank candidates)
→ ``reply`` (write the answer) → ``lora`` (fine-tune).
"""

from llmkb.generation.llm import int8_copy, load_llm

__all__ = ["int8_copy", "load_llm"]
