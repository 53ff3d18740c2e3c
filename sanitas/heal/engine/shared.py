"""Computations several detectors need, memoised on the context so each runs once per job."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sanitas.heal.detectors.base import DetectorContext

from sanitas.heal.engine.neighbors import knn

K_NEIGHBOURS = 30
# Softmax temperature on cosine similarity for neighbour votes: at 0.1 a neighbour 0.1 closer in cosine
# weighs e times more, which keeps far, unrelated neighbours from outvoting near paraphrases.
VOTE_TEMPERATURE = 0.1
TFIDF_TEMPERATURE = 0.2
TFIDF_WEIGHT = 0.3
_TFIDF_BLOCK = 2048
# Row pairs of a TF-IDF product block: its stored entries, or at worst (a term in every row, read
# densely) ~600 MB of float64 and int64 buffers.
_TFIDF_BLOCK_ENTRIES = 25_000_000
# A product block holding more than this share of its pairs is read densely (``_tfidf_exact``).
_TFIDF_DENSE_SHARE = 0.3
# Rows per block of the neighbour-vote probabilities (block x classes float64 buffers).
_VOTE_BLOCK = 8192
# Above the approximate-search size: TF-IDF rows projected to this many SVD components give the
# candidates (``_TFIDF_CANDIDATES`` per wanted neighbour), whose exact TF-IDF cosine then decides.
# Measured on 20,000 intent-base texts this finds 0.76 of the exact neighbours (by similarity
# reached), so it is used only where the exact product no longer fits in a job (it grows with the
# square of the rows: ~20 s at 10^5 short texts on two cores, ~30 min at 10^6): from 200,000 rows.
TFIDF_ANN_MIN_ROWS = 200_000
_TFIDF_SVD = 128
_TFIDF_CANDIDATES = 3


def label_ids(ctx: DetectorContext) -> tuple[list[str], np.ndarray]:
    """Sorted class names and each row's class index (-1 when the row has no label)."""

    def compute() -> tuple[list[str], np.ndarray]:
        classes = sorted({lab for lab in ctx.labels if lab is not None})
        index = {c: i for i, c in enumerate(classes)}
        y = np.array([index[lab] if lab is not None else -1 for lab in ctx.labels], dtype=np.int64)
        return classes, y

    return ctx.shared("label_ids", compute)


def neighbours(ctx: DetectorContext) -> tuple[np.ndarray, np.ndarray]:
    """The kNN graph of the embeddings (indices, cosine similarities), self excluded."""
    return ctx.shared("knn", lambda: knn(ctx.embeddings, k=K_NEIGHBOURS))


def novelty(ctx: DetectorContext) -> np.ndarray:
    """Mean cosine distance to the nearest neighbours: how unlike the rest of the dataset a row is."""

    def compute() -> np.ndarray:
        _, sim = neighbours(ctx)
        if sim.shape[1] == 0:
            return np.zeros(ctx.n)
        return 1.0 - sim.mean(axis=1).astype(np.float64)

    return ctx.shared("novelty", compute)


def vote_probs(
    y: np.ndarray, idx: np.ndarray, sim: np.ndarray, n_classes: int, *, temperature: float = VOTE_TEMPERATURE
) -> np.ndarray:
    """Similarity-weighted neighbour label votes, normalised per row (rows without a label ignored).

    The neighbours of a row never include the row itself, so these are out-of-sample (leave-one-out)
    probabilities, the input confident learning needs. Neighbours of similarity 0 or less carry no vote.
    """
    n = idx.shape[0]
    probs = np.full((n, n_classes), 1e-3, dtype=np.float64)
    if idx.shape[1] == 0:
        return probs / probs.sum(axis=1, keepdims=True)
    weights = np.exp((sim.astype(np.float64) - 1.0) / temperature)
    neigh_labels = y[idx]
    # a neighbour with no similarity at all (a TF-IDF row sharing no term, listed only to fill k places)
    # is no evidence for its label: it gets no vote, not a small one
    weights = np.where((neigh_labels >= 0) & (sim > 0), weights, 0.0)
    rows = np.repeat(np.arange(n), idx.shape[1])
    np.add.at(probs, (rows, np.maximum(neigh_labels, 0).ravel()), weights.ravel())
    return probs / probs.sum(axis=1, keepdims=True)


def tfidf_neighbours(ctx: DetectorContext) -> tuple[np.ndarray, np.ndarray]:
    """kNN graph on word 1-2-gram TF-IDF vectors: the exact wording, which sentence embeddings blur."""

    def compute() -> tuple[np.ndarray, np.ndarray]:
        from sklearn.feature_extraction.text import TfidfVectorizer

        n = ctx.n
        k = max(0, min(K_NEIGHBOURS, n - 1))
        idx = np.zeros((n, k), dtype=np.int64)
        sim = np.zeros((n, k), dtype=np.float32)
        if k == 0:
            return idx, sim
        try:
            x = TfidfVectorizer(
                ngram_range=(1, 2), min_df=2, sublinear_tf=True, stop_words="english"
            ).fit_transform(ctx.texts)
        except ValueError:  # no term survives (tiny or empty vocabulary)
            return idx, sim
        if n >= TFIDF_ANN_MIN_ROWS:
            return _tfidf_ann(x, k, neighbours(ctx)[0])
        return _tfidf_exact(x.tocsr(), k)

    return ctx.shared("tfidf_knn", compute)


def label_probs(ctx: DetectorContext) -> np.ndarray:
    """Out-of-sample class probabilities for every row, from its neighbours' labels.

    A mixture of votes in embedding space (meaning) and in TF-IDF space (wording); TF-IDF cosines
    are lower and flatter than embedding cosines, hence its softer temperature.
    """

    def compute() -> np.ndarray:
        classes, y = label_ids(ctx)
        idx, sim = neighbours(ctx)
        t_idx, t_sim = tfidf_neighbours(ctx)
        # float32: the table is held for the whole heal (a million rows of 261 classes are 2.1 GB in
        # float64), and votes are shares of ten-odd neighbours, far coarser than float32's precision
        out = np.empty((ctx.n, len(classes)), dtype=np.float32)
        # a block of rows at a time (each row's mixture is its own): one rows x classes array, not five
        for start in range(0, ctx.n, _VOTE_BLOCK):
            b = slice(start, min(ctx.n, start + _VOTE_BLOCK))
            p_emb = vote_probs(y, idx[b], sim[b], len(classes))
            if t_idx.shape[1] == 0:
                out[b] = p_emb
                continue
            p_tfidf = vote_probs(y, t_idx[b], t_sim[b], len(classes), temperature=TFIDF_TEMPERATURE)
            out[b] = (1.0 - TFIDF_WEIGHT) * p_emb + TFIDF_WEIGHT * p_tfidf
        return out

    return ctx.shared("label_probs", compute)


def _tfidf_exact(x: Any, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact kNN on sparse, L2-normalised TF-IDF rows, read from the product ``X @ X.T`` a block at a time.

    Only rows sharing a term have a similarity, a few percent of all pairs on short texts, so a block's
    candidates are its product's stored entries and one sort of packed integer keys (block row,
    quantised distance, scrambled column) picks each row's ``k`` best: measured at 100,000 short texts,
    ~20 s against ~120 s for a dense rows x n block and its partition. Where a term is in most rows the
    product is nearly dense and that cost is the lesser (one word in every row: 2.3 s dense against
    11.7 s sparse at 12,000 rows), so a block whose product holds more than ``_TFIDF_DENSE_SHARE`` of its
    pairs is read densely, its candidates cut to each row's ``k`` best keys first. Both ways rank by the
    same keys, so the neighbours do not depend on the block. A row with fewer than ``k`` term-sharing
    rows is padded with similarity 0: such places are no neighbour at all and carry no vote
    (``vote_probs``), nor support (``support.label_support``).
    """
    n = x.shape[0]
    idx = np.zeros((n, k), dtype=np.int64)
    sim = np.zeros((n, k), dtype=np.float32)
    xt = x.T.tocsr()
    step = max(64, min(_TFIDF_BLOCK, _TFIDF_BLOCK_ENTRIES // n))
    # key bits: block row | distance | the column, scrambled per row (ties at one distance fall in an
    # order of their own in every row, not the file's: a file sorted by label would otherwise hand
    # every row of a tie the same first rows). The distance's scale is fixed for the whole search
    # (at most 27 bits: 7.5e-9), so ties rank alike in every block.
    row_bits = max(1, (step - 1).bit_length())
    col_bits = max(1, (n - 1).bit_length())
    q_bits = min(27, 63 - row_bits - col_bits)
    scale = float((1 << q_bits) - 1)
    col_mask = np.uint64((1 << col_bits) - 1)
    ks = np.arange(k)
    for start in range(0, n, step):
        stop = min(n, start + step)
        b = stop - start
        prod = (x[start:stop] @ xt).tocsr()
        if prod.nnz > _TFIDF_DENSE_SHARE * b * n:
            row, col, q = _dense_candidates(prod, start, k, scale)
        else:
            row = np.repeat(np.arange(b, dtype=np.int64), np.diff(prod.indptr))
            keep = np.flatnonzero((prod.indices != row + start) & (prod.data > 0))  # never the row itself
            row, col = row[keep], prod.indices[keep].astype(np.int64)
            q = _distance_key(prod.data[keep], scale)
        # a place no term-sharing row fills: another row (never this one) at similarity 0
        idx[start:stop] = (np.arange(start, stop)[:, None] + 1 + ks[None, :]) % n
        if not len(row):
            continue
        mixed = _scramble(col, row + start, col_mask)
        keys = np.sort((row << (q_bits + col_bits)) | (q << col_bits) | mixed)
        counts = np.bincount(row, minlength=b)
        first = np.concatenate(([0], np.cumsum(counts)[:-1]))
        valid = ks[None, :] < counts[:, None]
        top = keys[np.minimum(first[:, None] + ks[None, :], len(keys) - 1)]
        top_row = top >> (q_bits + col_bits)
        top_col = _unscramble(top & int(col_mask), top_row + start, col_mask)
        # the similarity back from its key: within 1 / scale (7.5e-9) of the cosine, far finer than
        # anything that reads it (a vote's weight moves by under 1e-7 of itself)
        top_sim = 1.0 - ((top >> col_bits) & ((1 << q_bits) - 1)) / scale
        idx[start:stop] = np.where(valid, top_col, idx[start:stop])
        sim[start:stop] = np.where(valid, top_sim, 0.0)
    return idx, sim


# an odd multiplier is a bijection on integers modulo a power of two; its inverse undoes it
_MIX = 0x9E3779B97F4A7C15
_MIX_INVERSE = pow(_MIX, -1, 1 << 64)
_ROW_SALT = 0xBF58476D1CE4E5B9


def _scramble(col: np.ndarray, row: np.ndarray, mask: np.uint64) -> np.ndarray:
    """Each column number mapped to another in ``0..mask`` by a bijection of its own per row."""
    with np.errstate(over="ignore"):  # arithmetic modulo 2**64 is the point
        c = col.astype(np.uint64) + row.astype(np.uint64) * np.uint64(_ROW_SALT)
        return ((c * np.uint64(_MIX)) & mask).astype(np.int64)


def _unscramble(mixed: np.ndarray, row: np.ndarray, mask: np.uint64) -> np.ndarray:
    """The column numbers ``_scramble`` mapped to ``mixed``."""
    with np.errstate(over="ignore"):
        c = mixed.astype(np.uint64) * np.uint64(_MIX_INVERSE) - row.astype(np.uint64) * np.uint64(_ROW_SALT)
        return (c & mask).astype(np.int64)


def _distance_key(val: np.ndarray, scale: float) -> np.ndarray:
    """Cosine similarities (0, 1] as integer distances: larger similarity, smaller key."""
    return np.floor(np.clip(1.0 - val, 0.0, 1.0) * scale).astype(np.int64)


def _dense_candidates(
    prod: Any, start: int, k: int, scale: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A nearly dense product block's candidates (block row, column, distance key): per row, the positive
    entries whose key is within its ``k`` best (ties at the ``k``-th key all kept)."""
    block = prod.toarray()
    b = block.shape[0]
    block[np.arange(b), np.arange(start, start + b)] = 0.0  # never the row itself
    q = np.where(block > 0, _distance_key(block, scale), np.iinfo(np.int64).max)
    kth = np.partition(q, min(k, q.shape[1]) - 1, axis=1)[:, min(k, q.shape[1]) - 1]
    row, col = np.nonzero((q <= kth[:, None]) & (block > 0))
    return row.astype(np.int64), col.astype(np.int64), q[row, col]


def _tfidf_ann(x: Any, k: int, near: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """kNN on sparse, L2-normalised TF-IDF rows in about n log n: the exact product is quadratic.

    Frequent terms make ``X @ X.T`` nearly dense (a term in 10% of rows pairs 1% of all row pairs),
    so candidates come from an approximate search over a 128-component SVD of the rows and from the
    rows' embedding neighbours ``near`` (texts alike in meaning often share words), and the exact
    TF-IDF cosine of each candidate pair (a row-wise sparse dot) picks the ``k`` nearest.
    """
    from sklearn.decomposition import TruncatedSVD

    n = x.shape[0]
    dims = max(2, min(_TFIDF_SVD, x.shape[1] - 1))
    dense = TruncatedSVD(n_components=dims, algorithm="randomized", n_iter=4, random_state=0).fit_transform(x)
    dense = (dense / np.maximum(np.linalg.norm(dense, axis=1, keepdims=True), 1e-12)).astype(np.float32)
    svd_cand, _ = knn(dense, k=min(n - 1, _TFIDF_CANDIDATES * k), mode="ann")
    cand = np.sort(np.hstack([svd_cand, near]), axis=1)
    dup = np.zeros(cand.shape, dtype=bool)
    dup[:, 1:] = cand[:, 1:] == cand[:, :-1]  # a row found both ways counts once
    m = cand.shape[1]
    idx = np.zeros((n, k), dtype=np.int64)
    sim = np.zeros((n, k), dtype=np.float32)
    x = x.tocsr()
    for start in range(0, n, _TFIDF_BLOCK):
        stop = min(n, start + _TFIDF_BLOCK)
        rows = np.repeat(np.arange(start, stop), m)
        exact = np.asarray(x[rows].multiply(x[cand[start:stop].ravel()]).sum(axis=1), dtype=np.float32)
        exact = np.where(dup[start:stop], -1.0, exact.reshape(stop - start, m)).astype(np.float32)
        order = np.argsort(-exact, axis=1, kind="stable")[:, :k]
        idx[start:stop] = np.take_along_axis(cand[start:stop], order, axis=1)
        sim[start:stop] = np.take_along_axis(exact, order, axis=1)
    return idx, sim
