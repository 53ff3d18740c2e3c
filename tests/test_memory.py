"""The allocator's free pages go back to the system after a phase (glibc)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from sanitas.memory import release_free_memory


def _rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="resident memory read from /proc")
def test_fragmented_heap_is_returned() -> None:
    """Blocks below the mmap threshold, freed with every tenth kept (so the heap cannot shrink from its
    top): their pages stay resident until the trim hands them back."""
    blocks = [np.ones(8000) for _ in range(20000)]  # 64 KB each, ~1.2 GB of heap
    kept = blocks[::10]
    del blocks
    before = _rss_mb()
    assert release_free_memory()
    after = _rss_mb()
    assert before - after > 500, (before, after)
    assert all(float(b[0]) == 1.0 for b in kept)
