"""k-nearest neighbours on L2-normalised embeddings: exact below ``ANN_MIN_ROWS`` rows, HNSW above.

Exact search is a blocked BLAS matmul, quadratic in rows: 1.4 s at 5,000 rows but 16 s at 20,000 and
~10^15 operations at a million. Above ``ANN_MIN_ROWS`` an HNSW graph (hnswlib, inner-product space)
answers instead, in about n log n. Measured on 384-d MiniLM vectors of the intent bases (two shared
cores): at 20,000 rows HNSW takes 5.5 s against 16 s exact, with recall@30 of 0.996 against the exact
search; hnswlib built and queried faster than faiss (IVF-Flat or HNSW) and pynndescent at equal recall.
Below 20,000 rows the gain is at most ~1.2x, so small datasets keep the exact, bit-for-bit answer.

The graph is built on one thread: hnswlib's parallel insertion makes the graph depend on thread
timing, a single-threaded build with a fixed seed gives the same neighbours on every run (queries are
independent of each other, so they run on every core without changing the answer).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

_BLOCK = 2048
# Rows from which the approximate search answers (see the module docstring for the measurements).
ANN_MIN_ROWS = 20_000
# HNSW parameters: graph degree, build and search beam widths. The search beam is at least twice
# the number of neighbours asked for; with these, recall@30 against exact search was >= 0.99.
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 100
HNSW_EF_MIN = 60
HNSW_SEED = 0
_QUERY_BLOCK = 65_536  # rows queried per call: bounds the distance/label buffers hnswlib returns
_MODES = ("auto", "exact", "ann")


def knn_mode() -> str:
    """``Settings.knn`` (``SANITAS_KNN``: auto, exact or ann), read at call time: ``auto`` picks by size."""
    from sanitas.config import load_settings

    # secret_key given: reading the mode must not create the installation's secret file.
    mode = load_settings(secret_key=b"").knn.strip().lower() or "auto"
    if mode not in _MODES:
        raise ValueError(f"SANITAS_KNN must be one of {', '.join(_MODES)}, not {mode!r}")
    return mode


def uses_ann(n: int, mode: str | None = None) -> bool:
    """Whether ``knn`` answers ``n`` rows approximately under ``mode`` (default: ``knn_mode()``)."""
    mode = mode or knn_mode()
    if mode == "exact":
        return False
    if mode == "ann":
        return n > 2
    return n >= ANN_MIN_ROWS


def knn(emb: np.ndarray, *, k: int = 10, mode: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Indices and cosine similarities of each row's ``k`` nearest other rows (self excluded).

    Rows sorted by descending similarity. ``mode`` (auto, exact, ann) overrides ``SANITAS_KNN``.
    ``emb`` may be a memory-mapped array: it is read in blocks.
    """
    n = emb.shape[0]
    k = max(0, min(k, n - 1))
    if k == 0:
        return np.zeros((n, 0), dtype=np.int64), np.zeros((n, 0), dtype=np.float32)
    if uses_ann(n, mode):
        return _hnsw(emb, k=k)
    return _exact(emb, k=k)


def _exact(emb: np.ndarray, *, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Brute force in blocks of 2,048 rows (the similarity buffer stays under ~1 GB at 10^5 rows)."""
    n = emb.shape[0]
    idx = np.zeros((n, k), dtype=np.int64)
    sim = np.zeros((n, k), dtype=np.float32)
    full = np.asarray(emb)  # the dtype given (float64 stays float64: same answers as ever)
    for start in range(0, n, _BLOCK):
        stop = min(n, start + _BLOCK)
        block = full[start:stop] @ full.T
        block[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        part = np.argpartition(-block, k - 1, axis=1)[:, :k]
        vals = np.take_along_axis(block, part, axis=1)
        order = np.argsort(-vals, axis=1)
        idx[start:stop] = np.take_along_axis(part, order, axis=1)
        sim[start:stop] = np.take_along_axis(vals, order, axis=1)
    return idx, sim


def build_index(emb: np.ndarray) -> Any:
    """A deterministic HNSW index (inner product) over ``emb``; labels are row numbers."""
    import hnswlib  # imported here: small jobs and cached re-runs never load it

    n, d = emb.shape
    index = hnswlib.Index(space="ip", dim=d)
    index.init_index(max_elements=n, M=HNSW_M, ef_construction=HNSW_EF_CONSTRUCTION, random_seed=HNSW_SEED)
    index.set_num_threads(1)
    for start in range(0, n, _QUERY_BLOCK):
        stop = min(n, start + _QUERY_BLOCK)
        index.add_items(np.ascontiguousarray(emb[start:stop], dtype=np.float32), np.arange(start, stop))
    return index


def query_index(index: Any, queries: np.ndarray, *, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``k`` approximate nearest rows of each query, by descending inner product.

    Raises ``RuntimeError`` (hnswlib's) when the search beam reaches fewer than ``k`` rows for some
    query: ``_hnsw`` answers those rows another way.
    """
    q = np.ascontiguousarray(queries, dtype=np.float32)
    index.set_ef(max(HNSW_EF_MIN, 2 * k))
    index.set_num_threads(max(1, os.cpu_count() or 1))
    labels, dist = index.knn_query(q, k=k)
    return labels.astype(np.int64), (1.0 - dist).astype(np.float32)


def _query_robust(index: Any, emb: np.ndarray, rows: np.ndarray, *, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``query_index`` of ``emb[rows]``, with the rows the graph cannot answer searched exactly.

    hnswlib fails a whole batch when one query's beam reaches fewer than ``k`` rows, which happens
    where many rows share one vector (a million-row dataset of near-duplicates has thousands of
    identical TF-IDF rows; measured: the 1M-row scale run failed there). The batch is halved until
    the failing rows stand alone, and each of those is scanned exactly (few rows, each linear).
    """
    try:
        return query_index(index, emb[rows], k=k)
    except RuntimeError:
        if len(rows) > 1:
            half = len(rows) // 2
            a_lab, a_sim = _query_robust(index, emb, rows[:half], k=k)
            b_lab, b_sim = _query_robust(index, emb, rows[half:], k=k)
            return np.vstack([a_lab, b_lab]), np.vstack([a_sim, b_sim])
    sims = np.empty(emb.shape[0], dtype=np.float32)
    one = np.asarray(emb[rows[0]], dtype=np.float32)
    for start in range(0, emb.shape[0], _QUERY_BLOCK):
        stop = min(emb.shape[0], start + _QUERY_BLOCK)
        sims[start:stop] = np.asarray(emb[start:stop], dtype=np.float32) @ one
    top = np.argpartition(-sims, k - 1)[:k]
    top = top[np.argsort(-sims[top], kind="stable")]
    return top[None, :].astype(np.int64), sims[top][None, :]


def distinct_rows(emb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(first, group)``: the first row of each distinct vector, ascending, and each row's position in
    ``first``. Rows are compared bit for bit, through a 64-bit hash of each row's bits that is then
    checked against the row it names (a hash collision, never seen, means: no two rows are merged)."""
    n = emb.shape[0]
    rng = np.random.default_rng(HNSW_SEED)
    weights = rng.integers(1, 2**63, size=emb.shape[1], dtype=np.uint64) | np.uint64(1)
    hashes = np.empty(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for start in range(0, n, _QUERY_BLOCK):
            stop = min(n, start + _QUERY_BLOCK)
            bits = np.ascontiguousarray(emb[start:stop], dtype=np.float32).view(np.uint32).astype(np.uint64)
            hashes[start:stop] = (bits * weights).sum(axis=1)  # wraps modulo 2**64, as a hash should
    _, first, group = np.unique(hashes, return_index=True, return_inverse=True)
    # np.unique orders by hash: renumber the distinct vectors by their first row
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    first, group = first[order], rank[group.ravel()]
    if len(first) < n:
        for start in range(0, n, _QUERY_BLOCK):
            stop = min(n, start + _QUERY_BLOCK)
            reps = np.asarray(emb[first[group[start:stop]]], dtype=np.float32)
            if not np.array_equal(reps, np.asarray(emb[start:stop], dtype=np.float32)):
                return np.arange(n), np.arange(n)
    return first, group


class _Gathered:
    """Rows ``rows`` of ``emb``, read a block at a time as float32 (slices, index arrays or one row): the
    distinct vectors without a copy of them all (1.5 GB at a million rows; the graph holds its own)."""

    def __init__(self, emb: np.ndarray, rows: np.ndarray) -> None:
        self.emb, self.rows = emb, rows
        self.shape = (len(rows), emb.shape[1])

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, sel: Any) -> np.ndarray:
        return np.asarray(self.emb[self.rows[sel]], dtype=np.float32)


def _hnsw(emb: np.ndarray, *, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Approximate kNN: the graph's ``k + 1`` nearest, the row itself dropped (else the farthest).

    The graph holds each distinct vector once. Thousands of identical rows (a dataset of
    near-duplicates has them in TF-IDF space) leave parts of a graph built on every copy unreachable,
    so hnswlib fails whole query batches there, and each failed call leaks its output buffers
    (hnswlib 0.8's ``knn_query`` allocates them before it throws): at a million rows 7,662 failed
    calls leaked 7 GB for the rest of the heal. A row's candidates are then the rows of the nearest distinct
    vectors, its own vector's copies (similarity 1) first."""
    n = emb.shape[0]
    first, group = distinct_rows(emb)
    distinct: Any = emb if len(first) == n else _Gathered(emb, first)
    u = len(first)
    index = build_index(distinct)
    idx = np.zeros((n, k), dtype=np.int64)
    sim = np.zeros((n, k), dtype=np.float32)
    kk = min(k + 1, n)
    if u == n:
        cand_of = None
    else:
        cand_of, csim_of = _expand_groups(index, distinct, group, k=kk)
    for start in range(0, n, _QUERY_BLOCK):
        stop = min(n, start + _QUERY_BLOCK)
        rows = np.arange(start, stop)
        if cand_of is None:
            lab, s = _query_robust(index, emb, rows, k=kk)
        else:
            lab, s = cand_of[group[rows]], csim_of[group[rows]]
        is_self = lab == rows[:, None]
        # drop the row itself where found, else the last (farthest) candidate: k remain per row
        drop = np.where(is_self.any(axis=1), is_self.argmax(axis=1), kk - 1)
        keep = np.ones_like(is_self)
        keep[np.arange(stop - start), drop] = False
        lab = lab[keep].reshape(stop - start, kk - 1)[:, :k]
        s = s[keep].reshape(stop - start, kk - 1)[:, :k]
        # hnswlib returns nearest first; a stable sort makes ties and float noise irrelevant to order
        order = np.argsort(-s, axis=1, kind="stable")
        idx[start:stop] = np.take_along_axis(lab, order, axis=1)
        sim[start:stop] = np.take_along_axis(s, order, axis=1)
    return idx, sim


def _expand_groups(
    index: Any, distinct: np.ndarray, group: np.ndarray, *, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per distinct vector, the ``k`` nearest rows (its own copies among them) and their similarities:
    the rows of its nearest distinct vectors in order, each vector's rows ascending."""
    u = distinct.shape[0]
    members = np.argsort(group, kind="stable")  # rows grouped by distinct vector, ascending within
    sizes = np.bincount(group, minlength=u)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    cand = np.zeros((u, k), dtype=np.int64)
    csim = np.full((u, k), -np.inf, dtype=np.float32)
    kq = min(k, u)
    for start in range(0, u, _QUERY_BLOCK):
        stop = min(u, start + _QUERY_BLOCK)
        lab, s = _query_robust(index, distinct, np.arange(start, stop), k=kq)
        m = stop - start
        # rows each neighbour vector contributes: all of its copies, until k rows are reached
        take = sizes[lab]
        before = np.cumsum(take, axis=1) - take
        take = np.clip(k - before, 0, take)
        owner = np.repeat(np.arange(m), take.sum(axis=1))
        which = np.repeat(lab.ravel(), take.ravel())
        within, slot = _positions(take.ravel()), _positions(take.sum(axis=1))
        cand[start + owner, slot] = members[starts[which] + within]
        csim[start + owner, slot] = np.repeat(s.ravel(), take.ravel())
    return cand, csim


def _positions(counts: np.ndarray) -> np.ndarray:
    """Each item's position within its run, for runs of ``counts`` items laid end to end."""
    return np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
