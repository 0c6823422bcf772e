"""A Ray cluster for ``--workers N [--address ADDR]``: a local one started for the run, or an existing one.

>>> require_ray.__doc__.split(";")[0]
'Ray, or an error that says how to install it'
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from llmkb.errors import LLMKBError

INSTALL = "pip install '.[scale]'  (or: pip install 'ray[data]>=2.40')"
# what workers must see as the driver does: where data, artifacts and models are, and no model-hub access
FORWARDED = ("LLMKB_DATA_DIR", "LLMKB_ARTIFACTS", "LLMKB_DATA_SOURCE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


def require_ray():
    """Ray, or an error that says how to install it; the one place ``llmkb`` imports Ray for ``--workers``."""
    try:
        import ray
    except ImportError as exc:
        raise LLMKBError(f"--workers needs Ray, the optional extra; install it with: {INSTALL}") from exc
    return ray


@dataclass(frozen=True)
class Cluster:
    """The workers of one run: how many, and the CPUs (and so the torch threads) each gets."""

    workers: int
    cpus_per_worker: int
    address: str | None = None


@contextmanager
def connect(workers: int, address: str | None = None, cpus_per_worker: int | None = None) -> Iterator[Cluster]:
    """Ray for the duration of a run: a local cluster with this machine's cores (``address`` None), or the existing
    cluster at ``address`` (``auto``: the one this machine belongs to); a process already connected to Ray keeps
    its connection. Each worker gets ``cpus_per_worker`` CPUs
    (default: an equal share of the cluster's, at least one). Relative data and artifact paths are made absolute for
    the workers."""
    if workers < 1 or (cpus_per_worker is not None and cpus_per_worker < 1):
        raise LLMKBError(f"--workers and --cpus-per-worker must be at least 1, not {workers} and {cpus_per_worker}")
    ray = require_ray()
    if ray.is_initialized():  # a caller (a notebook, a test) already connected this process: use that, leave it up
        yield _cluster(ray, workers, cpus_per_worker, address)
        return
    env = {name: os.environ[name] for name in FORWARDED if name in os.environ}
    env.update(LLMKB_DATA_DIR=os.path.abspath(os.environ.get("LLMKB_DATA_DIR", "data")),
               LLMKB_ARTIFACTS=os.path.abspath(os.environ.get("LLMKB_ARTIFACTS", "artifacts")))
    local = address is None
    try:
        ray.init(address=address,
                 num_cpus=max(os.cpu_count() or 1, workers * (cpus_per_worker or 1)) if local else None,
                 include_dashboard=False, configure_logging=True, logging_level="WARNING", log_to_driver=True,
                 runtime_env={"env_vars": env})
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = "a local Ray cluster" if local else f"the Ray cluster at {address}"
        raise LLMKBError(f"could not start or reach {where}: {exc}" +
                         ("" if local else "; start it with `ray start --head` and pass its address "
                                           "(ray status prints it), or leave out --address for a local cluster")) from exc
    try:
        yield _cluster(ray, workers, cpus_per_worker, address)
    finally:
        ray.shutdown()


def _cluster(ray, workers: int, cpus_per_worker: int | None, address: str | None) -> Cluster:
    cpus = int(ray.cluster_resources().get("CPU", workers))
    return Cluster(workers, cpus_per_worker or max(1, cpus // workers), address)
