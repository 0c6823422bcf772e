import pytest

from llmkb.postprocess import TitleMatcher
from tiny_catalog import CATALOG, POPULARITY


@pytest.fixture(scope="session")
def matcher() -> TitleMatcher:
    return TitleMatcher(CATALOG, popularity=POPULARITY)
