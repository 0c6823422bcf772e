import pytest

from tiny_models import tiny_llama, tiny_tokenizer


@pytest.fixture(scope="session")
def tokenizer():
    return tiny_tokenizer()


@pytest.fixture()
def model(tokenizer):
    return tiny_llama(len(tokenizer))
