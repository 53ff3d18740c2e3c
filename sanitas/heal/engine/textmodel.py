"""How well a dataset's own text explains each row: a leave-one-out word model, no word list.

The outlier check asks whether a far row is a different *kind* of text (an encyclopedia sentence
among commands, a log line among questions), not merely another topic. The evidence here is learnt
from the dataset itself: an interpolated word-bigram model of every row (with start and end marks),
each row scored with its own counts taken out, so a row is judged only by what the *other* rows say.
Two statistics per row:

* the mean surprisal (negative log probability) per word transition: prose from another corpus strings
  words together in ways the dataset never does;
* the surprisal of the first word after the start mark: how a dataset's rows open (a verb, a question
  word) is one of its most regular traits, and a fragment of other text rarely opens that way.

Each is turned into a tail p-value against the rows the dataset vouches for (the outlier check's
null) of about the row's length, the two are summed as ``-log p`` and that sum is calibrated again
on the same null, so the correlation between the two never inflates the evidence. Nothing here
names a word.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from sanitas.heal.engine.calibrate import tail_pvalues
from sanitas.heal.engine.textstats import tokens

_START, _END = "<s>", "</s>"
# Add-half smoothing of the unigram back-off: an unseen word is possible, never free.
_UNIGRAM_PRIOR = 0.5
# Weight of the unigram back-off beside a context's own counts (Dirichlet prior on the bigram): a
# context seen a few times leans on the unigram, one seen hundreds of times on its own counts.
_BIGRAM_PRIOR = 2.0
# A p-value this small is treated as this small (logs stay finite).
_TINY = 1e-300
# Rows are compared with vouched rows of about their length (quartiles of the vouched rows' word
# counts): the mean surprisal of two words varies far more than that of twenty, and a short row of
# the dataset's own ("bonjour", "cant say") must not look like another kind for that alone.
LENGTH_BINS = 4
# A length bin with fewer vouched rows than this is compared with all of them.
MIN_BIN_NULL = 50


def length_bins(texts: list[str], null: np.ndarray) -> np.ndarray:
    """Each row's length bin: the quantiles (``LENGTH_BINS``) of the vouched rows' word counts."""
    ntok = np.array([len(tokens(t)) for t in texts])
    cuts = np.linspace(0.0, 1.0, LENGTH_BINS + 1)[1:-1]
    edges = np.unique(np.quantile(ntok[null], cuts)) if null.any() else np.zeros(0)
    return np.asarray(np.searchsorted(edges, ntok, side="right"))


def bigram_surprisal(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per row: mean leave-one-out surprisal per word transition, and that of the first transition."""
    seqs = [[_START, *tokens(t), _END] for t in texts]
    uni: Counter[str] = Counter()
    big: Counter[tuple[str, str]] = Counter()
    ctx: Counter[str] = Counter()
    for s in seqs:
        uni.update(s[1:])
        ctx.update(s[:-1])
        big.update(zip(s[:-1], s[1:], strict=False))
    total, vocab = sum(uni.values()), len(uni) + 1
    mean = np.zeros(len(seqs))
    first = np.zeros(len(seqs))
    for i, s in enumerate(seqs):
        pairs = list(zip(s[:-1], s[1:], strict=False))
        own_uni, own_big, own_ctx = Counter(s[1:]), Counter(pairs), Counter(s[:-1])
        rest = total - len(pairs)
        out = []
        for prev, word in pairs:
            p_uni = (uni[word] - own_uni[word] + _UNIGRAM_PRIOR) / (rest + _UNIGRAM_PRIOR * vocab)
            seen = big[(prev, word)] - own_big[(prev, word)]
            p = (seen + _BIGRAM_PRIOR * p_uni) / (ctx[prev] - own_ctx[prev] + _BIGRAM_PRIOR)
            out.append(-math.log(p))
        mean[i] = sum(out) / len(out)
        first[i] = out[0]
    return mean, first


def kind_pvalues(texts: list[str], null: np.ndarray) -> np.ndarray:
    """P-value per row that the dataset's rows explain its words as poorly (small: another kind of text).

    ``null`` marks the rows the dataset vouches for; both statistics and their combination are
    calibrated on them (``calibrate.tail_pvalues``).
    """
    if not len(texts):
        return np.ones(0)
    null = np.asarray(null, dtype=bool)
    if not null.any():
        null = np.ones(len(texts), dtype=bool)
    evidence = np.zeros(len(texts))
    bins = length_bins(texts, null)
    # a null with a degenerate tail (a few identical rows) overflows the tail fit on the rows far
    # *below* it, whose p-values come from the conformal branch anyway
    with np.errstate(over="ignore"):
        for stat in bigram_surprisal(texts):
            pv = np.ones(len(texts))
            for b in np.unique(bins):
                rows = bins == b
                ref = rows & null if (rows & null).sum() >= MIN_BIN_NULL else null
                pv[rows] = tail_pvalues(stat[rows], stat[ref])
            evidence -= np.log(np.maximum(pv, _TINY))
        return np.asarray(tail_pvalues(evidence, evidence[null]))


def kind_weights(kind_p: np.ndarray, *, level: float) -> np.ndarray:
    """Weighted-BH weights from kind p-values: ``log(level / p)`` where positive, else 0, mean 1.

    A row whose text the dataset explains at least as well as a ``level`` share of its vouched rows
    gets no weight (it is this dataset's kind of text); beyond that the weight grows with the log of
    the evidence, so a few extreme rows (random strings) do not take all of the weight.
    """
    w = np.maximum(0.0, np.log(level / np.maximum(np.asarray(kind_p, dtype=np.float64), _TINY)))
    total = float(w.sum())
    return w * (len(w) / total) if total > 0 else w
