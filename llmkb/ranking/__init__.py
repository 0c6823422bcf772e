"""Ranking the candidates: item representations (``items``), the features of a candidate (``features``), the
out-of-fold training data (``folds``) and the learned ranker (``learned``)."""
