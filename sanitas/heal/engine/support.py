"""How much of a row's neighbourhood carries its given label, and the off-topic families built on it.

A row about something the dataset does not cover still carries one of the dataset's labels (every
row of an intent dataset has one), picked with no relation to its text: so its neighbours, which
are about whatever lies nearest, almost never share it. A clean row the neighbours do not confirm
(an ambiguous or terse query) is different: its own label is usually among its neighbours' labels,
only not the most frequent. Counting the neighbours that share the given label, in embedding space
and in TF-IDF space, separates the two far better than any distance can on a dataset of short,
diverse queries, where off-topic queries lie no farther from the classes than a terse clean one.

The count only chooses the family a row is tested in; whether a row is flagged is still decided by
its far-ness p-value (``engine.far``) at the false discovery rate. The unsupported family is rich
in off-topic rows by construction, so it is tested with adaptive BH (Storey's estimate of its share
of nulls), which spends the FDR budget on that family as it is, not as if all of it were null.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sanitas.heal.detectors.base import DetectorContext
    from sanitas.heal.engine.far import FarStats

from sanitas.heal.engine.shared import label_ids, neighbours, tfidf_neighbours

# One neighbour out of the ~60 looked at (30 by meaning, 30 by wording) sharing an arbitrary label
# is a coincidence on a dataset of many classes; two or more is support.
MAX_SUPPORT = 1


def label_support(ctx: DetectorContext) -> np.ndarray:
    """How many of a row's embedding and TF-IDF neighbours carry its given label (-1: no label)."""

    def compute() -> np.ndarray:
        _, y = label_ids(ctx)
        idx, _ = neighbours(ctx)
        t_idx, t_sim = tfidf_neighbours(ctx)
        same = (y[idx] == y[:, None]).sum(axis=1)
        # a TF-IDF neighbour with no shared term is not a neighbour (padding when the vocabulary is tiny)
        same_t = ((y[t_idx] == y[:, None]) & (t_sim > 0)).sum(axis=1)
        return np.asarray(np.where(y >= 0, same + same_t, -1), dtype=np.int64)

    return ctx.shared("label_support", compute)


def unsupported_rows(ctx: DetectorContext, confirmed: np.ndarray) -> np.ndarray:
    """Labelled, unconfirmed rows whose label at most ``MAX_SUPPORT`` of their neighbours share.

    A row of a class too small to show support is never one: support is two or more of its classmates
    among its neighbours, so a row alone in its class (no classmate) or in a class of two (one
    classmate) cannot have it, and its missing support says nothing about its text.
    """
    sup = label_support(ctx)
    _, y = label_ids(ctx)
    classmates = np.bincount(y[y >= 0], minlength=1)[np.maximum(y, 0)] - 1
    return np.asarray((sup >= 0) & (sup <= MAX_SUPPORT) & ~confirmed & (classmates > MAX_SUPPORT))


def off_topic_families(ctx: DetectorContext, st: FarStats) -> tuple[list[np.ndarray], list[bool]]:
    """BH families for the off-topic check, and which of them are tested adaptively.

    With a label-confirmed null: unsupported rows (adaptive), the other unconfirmed rows, the
    confirmed rows. Otherwise (no labels, too few confirmed rows) the far-ness families unchanged.
    """
    if not (ctx.has_labels and st.confirmed_null):
        fams = st.families()
        return fams, [False] * len(fams)
    unsup = unsupported_rows(ctx, st.confirmed)
    return [unsup, ~unsup & ~st.confirmed, st.confirmed], [True, False, False]
