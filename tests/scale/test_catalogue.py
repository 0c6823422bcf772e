"""The KB encoded through Ray Data: the same embeddings, in the documents' order, as one process's encoding."""

import numpy as np

from llmkb.retrieval.retriever import load_encoder
from llmkb.scale.catalogue import encode_documents


def test_ray_data_encoding_matches_one_process(cluster, tiny_kb, tiny_models):
    _, documents = tiny_kb
    texts = [doc.text for doc in documents] * 30  # several map_batches batches
    model = load_encoder(tiny_models["retriever"], 32)
    expected = model.encode(texts, batch_size=64, convert_to_numpy=True)
    got = encode_documents(texts, tiny_models["retriever"], cluster, 32, progress=False)
    assert got.shape == expected.shape
    assert np.allclose(got, expected, atol=1e-5)
