"""The Ray executor (``SANITAS_EXECUTOR=ray``, ``pip install sanitas[ray]``).

The same ``Stage`` objects the local executor runs go to a Ray cluster as a Ray Data ``map_batches``
over an actor pool: each actor calls ``stage.setup()`` once (models load once per actor) and then
``process_batch()`` on whole input batches. A batch is one row of the Ray dataset (its items pickled),
so the executor never regroups the caller's batches: a stage whose output depends on what else is in
its batch (the embedder pads a forward pass to its longest text) gives the same result as locally.

Job state stays in Sanitas' database; Ray only runs the batches. A worker process that dies mid-run is
restarted and the batch it held is retried (``max_restarts`` / ``max_task_retries``), so the job still
completes with the same output. Ray Data's own default is to retry without end; a batch that kills its
worker every time (out of memory) would then hang the job, so the retries are bounded and the job
fails over to Sanitas' job runner instead. With ``RAY_ADDRESS`` set the executor joins that cluster,
otherwise it starts a local one bound to the loopback interface with ``SANITAS_RAY_NUM_CPUS`` CPUs.

Only this module imports ``ray``, when a stage first runs on it (``get_executor("ray")`` imports
this module).
"""

from __future__ import annotations

import heapq
import logging
import os
import pickle
import sys
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from types import ModuleType
from typing import Any

from sanitas.jobs.executor import Executor, In, Out, Stage

log = logging.getLogger(__name__)
# Restarts of a dead actor, and retries of the batch it held, before the run fails.
MAX_RESTARTS = 3
_INIT_LOCK = threading.Lock()
# Environment the workers need to read the same settings as the driver (a remote cluster's processes
# do not inherit ours). Secrets and the database address stay out: Ray keeps the runtime environment
# in its cluster metadata, and stages carry what they need in their own fields.
_NOT_FORWARDED = frozenset({"SANITAS_SECRET_KEY", "SANITAS_DATABASE_URL"})
_FORWARDED = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "TOKENIZERS_PARALLELISM")


def forwarded_env() -> dict[str, str]:
    """The ``SANITAS_*`` (less secrets) and Hugging Face offline variables the workers get."""
    return {
        k: v
        for k, v in os.environ.items()
        if (k.startswith("SANITAS_") and k not in _NOT_FORWARDED) or k in _FORWARDED
    }


def import_ray(*, local: bool = True) -> ModuleType:
    """Import Ray (and Ray Data); for a local cluster, make it bind to the loopback interface.

    Ray picks a node's address as the machine's routable one, and its servers listen on every
    interface, unless clusters are off (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, read when Ray is
    imported, inherited by the processes it starts): then everything binds to 127.0.0.1.
    """
    if local and "ray" not in sys.modules:
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        with warnings.catch_warnings():
            # Ray's own modules warn about their deprecated internals on import; not ours to act on.
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"ray(\.|$)")
            import ray
            import ray.data  # noqa: F401 - registers the submodule
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError("SANITAS_EXECUTOR=ray needs Ray: `pip install 'sanitas[ray]'`") from exc
    return ray


def connect(address: str | None = None, num_cpus: int | None = None) -> ModuleType:
    """Join the cluster at ``address``, or start a local one on 127.0.0.1 (once per process); Ray.

    A process where Ray is already initialised (a test's fixture, a notebook) keeps its connection.
    """
    ray = import_ray(local=not address)
    with _INIT_LOCK:
        if ray.is_initialized():
            return ray
        runtime_env = {"env_vars": forwarded_env()}
        if address:
            ray.init(address=address, runtime_env=runtime_env, logging_level=logging.WARNING)
        else:
            # address="local": never join a cluster named by a stray RAY_ADDRESS; loopback only.
            ray.init(
                address="local",
                num_cpus=num_cpus or os.cpu_count() or 1,
                include_dashboard=False,
                runtime_env=runtime_env,
                logging_level=logging.WARNING,
            )
        logging.getLogger("ray.data").setLevel(logging.WARNING)
    return ray


class _StageActor:
    """One actor of the pool: the stage, set up once; each input row is one whole batch."""

    def __init__(self, stage: Stage[Any, Any]) -> None:
        self.stage = stage
        stage.setup()

    def __call__(self, rows: dict[str, Any]) -> dict[str, Any]:
        index, results = [], []
        for i, payload in zip(rows["i"], rows["batch"], strict=True):
            out = self.stage.process_batch(pickle.loads(payload))
            index.append(int(i))
            results.append(pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL))
        return {"i": index, "result": results}


class RayExecutor(Executor):
    """Runs a stage's batches on a Ray cluster's actor pool; results come back in input order."""

    name = "ray"

    def __init__(
        self, *, address: str | None = None, num_cpus: int | None = None, actors: int | None = None
    ) -> None:
        self.address = address
        self.num_cpus = num_cpus
        self.actors = actors

    def map(
        self,
        stage: Stage[In, Out],
        batches: Iterable[list[In]],
        *,
        on_batch: Callable[[int], None] | None = None,
    ) -> Iterator[list[Out]]:
        """See :meth:`Executor.map`. The input batches are read up front (Ray needs a dataset)."""
        items = [b for b in batches]
        if not items:
            return
        ray = connect(self.address, self.num_cpus)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"ray(\.|$)")
            context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False
        rows = [
            {"i": i, "batch": pickle.dumps(b, protocol=pickle.HIGHEST_PROTOCOL)} for i, b in enumerate(items)
        ]
        # Actors: the setting, else one per CPU of the cluster; never more than there are batches.
        size = max(1, min(self.actors or int(ray.cluster_resources().get("CPU", 1)), len(items)))
        with warnings.catch_warnings():
            # Ray 2.60 has no named parameter for an actor's restarts and calls passing them
            # deprecated (removal planned for 2.64; the extra pins 2.60); its default never gives up.
            warnings.filterwarnings("ignore", message="`ray_remote_args` is deprecated")
            dataset = ray.data.from_items(rows, override_num_blocks=len(rows)).map_batches(
                _StageActor,
                fn_constructor_args=(stage,),
                batch_size=1,
                compute=ray.data.ActorPoolStrategy(min_size=1, max_size=size),
                num_cpus=1,
                max_restarts=MAX_RESTARTS,
                max_task_retries=MAX_RESTARTS,
            )
        yield from _in_order(dataset.iter_rows(), [len(b) for b in items], on_batch)


def _in_order(
    rows: Iterable[dict[str, Any]], sizes: list[int], on_batch: Callable[[int], None] | None
) -> Iterator[Any]:
    """Yield each batch's result by input index (a reorder buffer, in case Ray returns them out of order)."""
    pending: list[tuple[int, bytes]] = []
    following, done = 0, 0
    for row in rows:
        heapq.heappush(pending, (int(row["i"]), row["result"]))
        while pending and pending[0][0] == following:
            _, payload = heapq.heappop(pending)
            done += sizes[following]
            following += 1
            result = pickle.loads(payload)
            if on_batch is not None:
                on_batch(done)
            yield result
    if following != len(sizes):
        raise RuntimeError(f"the Ray run returned {following} of {len(sizes)} batches")
