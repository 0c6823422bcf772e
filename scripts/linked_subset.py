"""Recall on the whole test split and on the samples that link a person, genre or decade; see llmkb.evaluation.subsets."""

from llmkb.evaluation.subsets import main

if __name__ == "__main__":
    main()
