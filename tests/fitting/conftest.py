import pytest


@pytest.fixture()
def stages(make_stages):
    """The tiny INSPIRED world without an LLM (the ReDial one has no validation dialogue); artifacts in this
    test's temporary folder."""
    return make_stages(dataset="inspired", use_llm=False)
