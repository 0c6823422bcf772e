"""Scale-out on Ray (the optional extra ``pip install '.[scale]'``): evaluation, simulated conversations and RRAM
sweeps sharded across workers that each load their models once, and the KB encoded with Ray Data.

- :mod:`llmkb.scale.cluster`: connect to a local or existing Ray cluster (:func:`connect`);
- :mod:`llmkb.scale.shards`: run shards of work on long-lived workers, results handed back as they finish;
- :mod:`llmkb.scale.sharded`: a recommender system ranked on workers (``llmkb evaluate --workers``);
- :mod:`llmkb.scale.catalogue`: encode a catalogue's documents with Ray Data ``map_batches`` and index them.

Nothing else in ``llmkb`` imports Ray: without the extra everything runs in one process, and ``--workers`` says what
to install (:func:`require_ray`).
"""

from llmkb.scale.cluster import Cluster, connect, require_ray
from llmkb.scale.sharded import ShardedSystem
from llmkb.scale.shards import on_workers, run_shards, shards_of

__all__ = ["Cluster", "ShardedSystem", "connect", "on_workers", "require_ray", "run_shards", "shards_of"]
