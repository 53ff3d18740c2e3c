"""Start-up of a PII worker process (``sanitas.pii.pool``), run before ``sanitas.pii`` is imported.

It lives outside the ``sanitas.pii`` package on purpose: importing anything in that package imports the
engine, spaCy and thinc, and thinc imports torch whenever it is installed (~290 MB resident and seconds
per process) although the NER model runs on numpy alone. A worker blocks torch before that import, so
two workers stay within the engine's memory promise (a 50 MB text under 2 GB).
"""

from __future__ import annotations

import os
import sys
import threading
import time

# Modules a worker never needs; a recognizer that did would fail in the worker, which breaks the pool and
# sends the batch back in-process (where they import normally).
BLOCKED_MODULES = ("torch",)
PARENT_CHECK_S = 1.0


def _exit_with_parent(parent: int) -> None:
    # A killed parent leaves its workers blocked on queues they hold both ends of: they would live on
    # as orphans, so each worker leaves as soon as it has been re-parented.
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(1)


def init_worker(key: tuple[str, tuple[str, ...], float]) -> None:
    """Initializer of a pool worker: block unneeded modules, then set up ``key``'s engine once."""
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    # One BLAS/OpenMP thread per worker: the pool is the parallelism, more threads would fight over cores.
    # Set before numpy is first imported, which is what reads them.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    # transformers (pulled in by spaCy's entry points) prints an advisory when torch is missing.
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    for name in BLOCKED_MODULES:
        # None in sys.modules makes ``import torch`` raise ImportError, which thinc handles.
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]

    from sanitas.pii.pool import worker_engine

    worker_engine(key)
