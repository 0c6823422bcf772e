import pytest

ray = pytest.importorskip("ray", reason="the optional extra .[scale] (Ray) is not installed")


@pytest.fixture(scope="package")
def cluster():
    """A local 2-worker Ray cluster, started once for the package's tests."""
    from llmkb.scale import connect

    with connect(2) as running:
        yield running
