"""Fitting through the recommender's own stages, above the pipeline: the per-split candidate cache (``cache``), the
objective (``objective``), fusion tuning (``tune_fusion``), the learned ranker's out-of-fold rows and training
(``folds``, ``train_ranker``), and the LoRA and reply-writer training pairs (``lora_data``, ``reply_data``).

Commands call it at their edge ("load it, or fit it now"); evaluation only reads what it wrote."""
