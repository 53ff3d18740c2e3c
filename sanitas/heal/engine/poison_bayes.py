"""Which classes a candidate's rows are about: a Bayes factor between "taken from other labels" and
"what the target's own rows read as".

The poisoned check's binomial test asks whether the candidate's rows, read without it, disagree with
the target more often than the target's own rows do. On a small target among larger neighbours the
content model misreads nearly every own row (the bar is 1.0) and that test has no power, even when
every trigger row reads as some far-off class. The classes themselves still say which story fits:

* H1, a backdoor: the rows were taken from other labels, so their content classes are distributed as
  the content model reads rows of other labels (``reference``);
* H0, a keyword: the rows are the target's own kind, so their content classes are distributed as the
  target's own rows (with as many words cut) are read, a distribution known only through a few rows:
  a Dirichlet-multinomial with those rows as counts, updated row by row (a keyword whose rows keep
  reading as one neighbouring class makes that class likely under H0 after a few rows, as it should).
  Its base measure is uniform over the classes (which class a label's topic reads as has nothing to do
  with how many rows each class holds; H1's reference does, as a backdoor's source rows do), and its
  concentration is the one under which the own rows are likeliest (empirical Bayes): own rows read as
  all sorts of classes (a label whose rows without the phrase are mostly other defects) make H0 diffuse,
  and it then explains rows of any content about as well as H1.

Under H0 the likelihood ratio has expectation 1, so ``P(BF >= 1/a) <= a`` (Markov): ``1 / BF`` is a valid
p-value, with no distributional assumption beyond the models themselves.
"""

from __future__ import annotations

import numpy as np

# Concentrations of H0's Dirichlet tried (empirical Bayes: the one under which the target's own rows'
# classes are likeliest is used). Small: the own rows' classes are all the label's content is read as;
# large: its content may be read as any class alike.
CONCENTRATIONS = np.logspace(-1.0, 3.0, 41)
# Jeffreys smoothing of the reference distribution: half a row per class.
SMOOTHING = 0.5


def reference_distribution(reference: np.ndarray, n_classes: int) -> np.ndarray:
    """The content classes of rows of other labels as a smoothed distribution over the classes."""
    ref = np.asarray(reference, dtype=np.int64)
    counts = np.bincount(ref[ref >= 0], minlength=n_classes).astype(np.float64)
    return (counts + SMOOTHING) / (counts.sum() + SMOOTHING * n_classes)


def concentration(own_counts: np.ndarray, base: np.ndarray) -> float:
    """The Dirichlet concentration under which the own rows' classes are likeliest (empirical Bayes).

    The log marginal likelihood of counts ``n`` under a Dirichlet-multinomial with parameters
    ``a * base``: log G(a) - log G(a + N) + sum_c [log G(n_c + a b_c) - log G(a b_c)]. Own rows read as a
    few classes pick a small ``a`` (H0 is sharp); own rows read as all sorts of classes (a label whose
    rows without the phrase are other defects, or a diffuse one) pick a large one, and H0 then
    explains rows of any content, so no backdoor is claimed on their evidence.
    """
    from scipy.special import gammaln  # here: a warm re-run answered from the cache never loads scipy

    n = np.asarray(own_counts, dtype=np.float64)
    total = float(n.sum())
    if total == 0:
        return float(CONCENTRATIONS[-1])
    seen = n > 0
    a = CONCENTRATIONS[:, None]
    loglik = (
        gammaln(CONCENTRATIONS)
        - gammaln(CONCENTRATIONS + total)
        + (gammaln(n[seen][None, :] + a * base[seen][None, :]) - gammaln(a * base[seen][None, :])).sum(axis=1)
    )
    return float(CONCENTRATIONS[int(np.argmax(loglik))])


def backdoor_log_bf(content: np.ndarray, own: np.ndarray, reference: np.ndarray, n_classes: int) -> float:
    """log P(content | taken from other labels) - log P(content | read as the target's own rows are).

    ``content``: the candidate's rows' content classes (read without it); ``own``: the target's own
    rows' content classes (read with as many words cut); ``reference``: other labels' rows' content
    classes. Entries below 0 (no verdict) are left out.
    """
    q = reference_distribution(reference, n_classes)
    seen = np.asarray(content, dtype=np.int64)
    seen = seen[seen >= 0]
    mine = np.asarray(own, dtype=np.int64)
    counts = np.bincount(mine[mine >= 0], minlength=n_classes).astype(np.float64)
    base = np.full(n_classes, 1.0 / n_classes)
    alpha = concentration(counts, base)
    total = float(counts.sum())
    log_h1 = float(np.log(q[seen]).sum())
    log_h0 = 0.0
    # the Dirichlet-multinomial's predictive, one row at a time (the order does not matter)
    for c in seen.tolist():
        log_h0 += float(np.log((counts[c] + alpha * base[c]) / (total + alpha)))
        counts[c] += 1.0
        total += 1.0
    return log_h1 - log_h0


def bf_pvalue(log_bf: float) -> float:
    """``1 / BF`` capped at 1: a p-value for H0 by Markov's inequality (E[BF] = 1 under H0)."""
    return float(np.exp(-max(log_bf, 0.0)))
