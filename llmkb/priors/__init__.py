"""What is known about items before any dialogue is read, learnt from the training dialogues and the KB graph:
popularity and co-mentions (``training``), item2vec and the graph embedding (``items``)."""
