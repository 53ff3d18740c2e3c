"""Which classes a candidate's rows are about: a Bayes factor between "taken from other labels" and
"what the target's own rows read as".

The poisoned check's binomial test asks whether the candidate's rows, read without it, disagree with
the target more often than the target's own rows do. On a small target among larger neighbours the
content model misreads nearly every own row (the bar is 1.0) and that test has no power, even when
every trigger row reads as some far-off class. The classes themselves still say which story fits:

* H1, a backdoor: the rows were taken from other labels, so their content classes are distributed as
  the content model reads rows of other labels (``reference``);
* H0, a keyword: the rows are the target's own kind, so their content classes are distributed as the
  target's own rows (with as many words cut) are read, a distribution known only through a few rows.
  H0 is a Dirichlet-multinomial whose parameters are learnt from those rows: every concentration on a
  grid times each of several base measures (the reference, for a diffuse label whose rows read as
  anyone's; uniform, for a label whose topic reads as classes regardless of their size; classes near
  the target in the embedding, for a label read as its neighbours), averaged with weights
  proportional to how likely each makes the own rows (hierarchical Bayes with an equal prior). A keyword
  whose rows keep reading as one neighbouring class makes that class likely under H0 after a few rows,
  as it should; own rows read as all sorts of classes (a label whose rows without the phrase are mostly
  other defects) make H0 as diffuse as H1, and then no backdoor is claimed on this evidence.

``1 / BF`` is a p-value under H0's predictive (the likelihood ratio has expectation 1 there, so
``P(BF >= 1/a) <= a`` by Markov's inequality). The candidate's rows are cut where the phrase is and the
own rows at a place chosen blindly, so a real keyword's rows may read more scattered than H0 predicts:
the poisoned check's pull gate (their lean to the target) is what guards against that. Simulated with
both sets drawn from the reference distribution (K = 7 with one class at 75%, K = 20 and 77 Zipf, K =
150 flat; 5 to 40 own rows, 10 to 40 candidate rows; 300 draws each; class similarities drawn at
random), the factor passed the check's cut at 20 candidates (log BF >= 9.9) in none of the draws.
"""

from __future__ import annotations

import numpy as np

# Concentrations of H0's Dirichlets. Small: the own rows' classes are all the label's content is read
# as; large: its content is read as the base measure says. The grid spans both ends, so the own rows,
# not a chosen value, decide between them.
CONCENTRATIONS = np.logspace(-1.0, 3.0, 41)
# Jeffreys smoothing of the reference distribution: half a row per class.
SMOOTHING = 0.5


def reference_distribution(reference: np.ndarray, n_classes: int) -> np.ndarray:
    """The content classes of rows of other labels as a smoothed distribution over the classes."""
    ref = np.asarray(reference, dtype=np.int64)
    counts = np.bincount(ref[ref >= 0], minlength=n_classes).astype(np.float64)
    return (counts + SMOOTHING) / (counts.sum() + SMOOTHING * n_classes)


def _log_dm(counts: np.ndarray, params: np.ndarray) -> np.ndarray:
    """log P(a sequence with class ``counts``) under Dirichlet-multinomials, one per row of ``params``.

    log G(A) - log G(A + N) + sum_c [log G(n_c + a_c) - log G(a_c)], with A the sum of a row's
    parameters; classes never seen add nothing.
    """
    from scipy.special import gammaln  # here: a warm re-run answered from the cache never loads scipy

    n = np.asarray(counts, dtype=np.float64)
    seen = n > 0
    total = params.sum(axis=1)
    a = params[:, seen]
    return np.asarray(
        gammaln(total) - gammaln(total + n.sum()) + (gammaln(n[seen][None, :] + a) - gammaln(a)).sum(axis=1)
    )


# Softmax temperatures (on cosine) of the base measures that favour classes near the target: a
# label's topic is read as its neighbours, the nearer the likelier, at a fall-off the own rows choose.
NEAR_TEMPERATURES = (0.05, 0.1, 0.2)


def h0_parameters(q: np.ndarray, near: np.ndarray | None = None) -> np.ndarray:
    """Every Dirichlet H0 may be: each concentration of ``CONCENTRATIONS`` times each base measure: the
    reference ``q`` (a diffuse label, read as rows of other labels are), uniform (a label whose topic is
    read as classes regardless of their size) and, given ``near`` (each class centroid's cosine to the
    target's), a softmax of it at each of ``NEAR_TEMPERATURES`` (a label read as its neighbours)."""
    uniform = np.full(len(q), 1.0 / len(q))
    bases = [q, uniform]
    if near is not None:
        for t in NEAR_TEMPERATURES:
            w = np.exp((near - near.max()) / t)
            bases.append(w / w.sum())
    return np.vstack([CONCENTRATIONS[:, None] * b[None, :] for b in bases])


def backdoor_log_bf(
    content: np.ndarray,
    own: np.ndarray,
    reference: np.ndarray,
    n_classes: int,
    near: np.ndarray | None = None,
) -> float:
    """log P(content | taken from other labels) - log P(content | read as the target's own rows are).

    ``content``: the candidate's rows' content classes (read without it); ``own``: the target's own
    rows' content classes (read with as many words cut); ``reference``: other labels' rows' content
    classes; ``near``: each class centroid's cosine to the target's (optional). Entries below 0 (no
    verdict) are left out. H0's predictive averages its Dirichlets (an equal prior over
    ``h0_parameters``), each weighed by how likely it makes the own rows.
    """
    from scipy.special import logsumexp

    q = reference_distribution(reference, n_classes)
    seen = np.asarray(content, dtype=np.int64)
    seen = seen[seen >= 0]
    mine = np.asarray(own, dtype=np.int64)
    own_counts = np.bincount(mine[mine >= 0], minlength=n_classes)
    params = h0_parameters(q, near)
    both = own_counts + np.bincount(seen, minlength=n_classes)
    # P(content | own) = sum_h P(h) P(own, content | h) / sum_h P(h) P(own | h)
    log_h0 = float(logsumexp(_log_dm(both, params)) - logsumexp(_log_dm(own_counts, params)))
    log_h1 = float(np.log(q[seen]).sum())
    return log_h1 - log_h0


def bf_pvalue(log_bf: float) -> float:
    """``1 / BF`` capped at 1: a p-value for H0 by Markov's inequality (E[BF] = 1 under H0's predictive).

    Not a finite number (no factor computed): 1.
    """
    if not np.isfinite(log_bf):
        return 1.0
    return float(np.exp(-max(log_bf, 0.0)))
