"""Shards of work on long-lived Ray workers, results handed back to the driver as each shard finishes.

A worker is built once per Ray actor by ``factory`` (a picklable callable: a class, or a ``functools.partial`` of a
module-level function), so it loads its models once, and then runs shard after shard with one of its methods. The
driver hands a shard to whichever worker is free and gives each finished shard's results, with the shard's index, to
``on_result``, where the caller caches them: an interrupted run loses only the shards in flight. Progress is the
driver's one bar over every worker.

>>> shards_of(list("abcde"), 2)
[['a', 'b'], ['c', 'd'], ['e']]
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence

from tqdm.auto import tqdm

from llmkb.errors import LLMKBError
from llmkb.scale.cluster import Cluster, require_ray


def shards_of(items: Sequence, size: int) -> list[list]:
    """``items`` cut into consecutive shards of ``size`` (the last may be shorter)."""
    if size < 1:
        raise ValueError(f"shard size must be at least 1, not {size}")
    return [list(items[start:start + size]) for start in range(0, len(items), size)]


class ShardWorker:
    """What runs in each Ray actor: the object ``factory`` builds, with torch limited to the worker's CPUs."""

    def __init__(self, factory: Callable[[], object], threads: int):
        import torch

        torch.set_num_threads(threads)
        try:
            self.target, self.failed = factory(), None
        except Exception as exc:  # Ray keeps only the text of an error raised here: raise it with the first shard
            self.target, self.failed = None, exc

    def call(self, method: str, *args):
        if self.failed is not None:
            raise self.failed
        return getattr(self.target, method)(*args)


def run_shards(shards: Sequence[tuple[int, Sequence]], factory: Callable[[], object], method: str, cluster: Cluster,
               on_result: Callable[[int, list], None], progress: bool = True, desc: str = "shards",
               unit: str = "item", total: int | None = None, initial: int = 0) -> None:
    """Run ``factory()``'s ``method`` on each ``(index, shard)`` across ``cluster``'s workers; ``on_result(index,
    results)`` is called in the driver as each shard finishes, in the order they finish. The bar counts items
    (``total``/``initial``: when the caller resumes, of the whole run)."""
    ray = require_ray()
    queue = deque((index, list(shard)) for index, shard in shards if len(shard))
    if not queue:
        return
    total = total if total is not None else sum(len(shard) for _, shard in queue)
    remote = ray.remote(num_cpus=cluster.cpus_per_worker)(ShardWorker)
    actors = [remote.remote(factory, cluster.cpus_per_worker) for _ in range(min(cluster.workers, len(queue)))]
    running: dict = {}

    def submit(actor) -> None:
        index, shard = queue.popleft()
        running[actor.call.remote(method, shard)] = (index, actor, len(shard))

    label = f"{desc} ({len(actors)} worker{'s' * (len(actors) != 1)})"
    try:
        with tqdm(total=total, initial=initial, desc=label, unit=unit, disable=not progress) as bar:
            for actor in actors:
                submit(actor)
            while running:
                (ref,), _ = ray.wait(list(running), num_returns=1)
                index, actor, size = running.pop(ref)
                try:
                    results = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    raise _worker_error(exc, index) from exc
                on_result(index, results)
                bar.update(size)
                if queue:
                    submit(actor)
    finally:  # free the workers' CPUs now, for whatever runs next on the cluster
        for actor in actors:
            ray.kill(actor)


def _worker_error(exc: Exception, index: int) -> Exception:
    """The worker's own error when it is one of ours (it says what to do), else one that names the shard."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, LLMKBError):
        return cause
    return LLMKBError(f"a Ray worker failed on shard {index}: {cause or exc}")


def on_workers(factory: Callable[[], object], method: str, cluster: Cluster, progress: bool = True,
               desc: str = "shards", unit: str = "item") -> Callable:
    """A runner ``run(shards, keep, total=None, initial=0)`` that runs each shard on ``cluster``'s workers and calls
    ``keep(shard, results)`` in the driver as each finishes (what ``llmkb.evaluation.interactive.simulate`` takes
    as ``elsewhere``)."""
    def run(shards: Sequence[Sequence], keep: Callable[[Sequence, list], None], total: int | None = None,
            initial: int = 0) -> None:
        run_shards(list(enumerate(shards)), factory, method, cluster, lambda i, results: keep(shards[i], results),
                   progress, desc, unit, total, initial)
    return run
