"""The in-flight registry: one computation per key, others wait for it."""

from __future__ import annotations

import threading

import pytest

from sanitas.models.inflight import Inflight

A, B, C = ("d", 1, "a"), ("d", 1, "b"), ("d", 2, "a")


@pytest.mark.parametrize(
    ("held", "asked", "mine", "waits"),
    [
        ([], [A, B], [A, B], 0),
        ([A], [A, B], [B], 1),
        ([A, B], [A, B], [], 1),  # one holder of both: one event to wait for
        ([A], [C], [C], 0),  # another version is another key
    ],
)
def test_claim(
    held: list[tuple[str, int, str]], asked: list[tuple[str, int, str]], mine: list, waits: int
) -> None:
    reg = Inflight()
    reg.claim(held)
    claim = reg.claim(asked)
    assert claim.mine == mine
    assert len(claim.theirs) == waits


def test_release_wakes_waiters_and_frees_keys() -> None:
    reg = Inflight()
    first = reg.claim([A, B])
    second = reg.claim([A])
    assert not second.theirs[0].is_set()
    reg.release(first.mine)
    assert second.theirs[0].is_set()
    assert len(reg) == 0
    assert reg.claim([A]).mine == [A]


def test_concurrent_claims_split_the_work() -> None:
    reg = Inflight()
    keys = [("d", 1, str(i)) for i in range(200)]
    taken: list[list[tuple[str, int, str]]] = []
    lock = threading.Lock()

    def claim() -> None:
        got = reg.claim(keys).mine
        with lock:
            taken.append(got)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(k for got in taken for k in got) == sorted(keys)
