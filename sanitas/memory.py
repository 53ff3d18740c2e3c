"""Handing freed memory back to the operating system between the heavy phases of a long job.

A heal of a million rows allocates and frees many block-sized arrays (a few MB each) per check. glibc's
allocator serves blocks of that size from its heap once a larger one has been freed (its mmap threshold
rises with each free of a mapped block) and keeps the freed pages mapped: measured at 250,000 rows, a
quarter of the process's resident memory after the outlier check was such free space. ``malloc_trim``
returns it. No library exposes it (it is one libc call), hence this module.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None  # musl has none
    except OSError:
        return None


def release_free_memory() -> bool:
    """Collect garbage and return the allocator's free pages to the system (glibc only).

    True when the allocator was asked to trim; False where there is no such call (other C libraries,
    other systems), which is harmless: the memory is reused by the process either way.
    """
    gc.collect()
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
