"""Off-topic rows: coherent text about something the dataset is not about (0-100 score)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from sanitas.heal.detectors.base import (
    Detector,
    DetectorContext,
    DetectorResult,
    RequestFlag,
    RequestOption,
    register,
)
from sanitas.heal.engine.calibrate import tail_pvalues
from sanitas.heal.engine.far import (
    FDR_LEVEL,
    FENCE_Z,
    bh_families,
    chance_confirmation,
    clipped_fence,
    far_stats,
    prototype_distance,
)
from sanitas.heal.engine.offtopic_form import form_features
from sanitas.heal.engine.offtopic_topics import (
    confirmed_distance,
    foreign_probability_test,
    foreign_topic_probability,
    found_neighbour_test,
    marked_share_pvalues,
    neighbourhood_agreement,
)
from sanitas.heal.engine.shared import label_ids, neighbours
from sanitas.heal.engine.support import off_topic_families, unsupported_rows


@register
class OffTopicDetector(Detector):
    """Rows far from what the dataset vouches for, or in a foreign topic's region; 50 = the cut.

    With labels, rows are tested at a false discovery rate (``engine.far``) on their distance to the
    label-confirmed rows and the nearest class prototype, in families: rows whose label no neighbour
    backs *and* whose neighbours agree on no label (the off-topic signature), rows whose label no
    neighbour backs but whose neighbours agree on another label (the mislabeled signature), the other
    unconfirmed rows, the confirmed rows. The second is rich in signals by construction and is
    tested with adaptive BH; kept apart, the mislabeled rows do not dilute the off-topic family. The
    first is tested on distance at the plain FDR and, with adaptive BH, on the share of its neighbours
    that are unsupported too (a foreign topic is a cluster of such rows; an odd row of the dataset's
    own is alone, and often the farther). Rows a classifier places in the same region as the rows
    already found (a dense foreign topic, ``engine.offtopic_topics``; on meaning and on surface form,
    ``engine.offtopic_form``, which the uncased embedding does not see) are flagged too; with few
    classes, where a foreign row's label is
    often confirmed by chance, that includes confirmed rows; the classifier's probability is also
    tested at the FDR against the confirmed rows' own out-of-fold probabilities (conformal p-values),
    so its cut is calibrated on the dataset rather than fixed at 0.5 alone (that null leaves out the
    rows the classifier already places in the foreign region: with few classes, foreign rows
    confirmed by chance). The classifier is then refit once on every row found so far, which reaches
    the parts of a foreign topic beside the dataset's classes that the label statistics could not
    seed. Last, the unconfirmed rows whose
    neighbours were already found off-topic more often than the confirmed rows' are flagged at the
    FDR (a cluster-level test: a foreign topic's rows beside a class of the dataset).
    """

    name = "off_topic"
    order = 3
    run_order = 1
    flags = (
        RequestFlag(
            "remove_off_topics",
            "remove",
            False,
            "Remove coherent text about something the dataset is not about.",
        ),
    )
    options = (
        RequestOption("off_topic_score_min", 0, 0, 100, "Remove off-topic rows scoring at least this."),
        RequestOption("off_topic_score_max", 100, 0, 100, "… and at most this (0-100)."),
    )
    models = (
        "confirmed-knn-distance",
        "class-prototypes",
        "neighbourhood-agreement",
        "foreign-topic-logreg",
        "found-neighbour-share",
        "unsupported-neighbour-share",
        "surface-form",
    )

    @classmethod
    def validate_options(cls, values: Mapping[str, Any]) -> None:
        """The removal window must not be empty: min <= max."""
        lo, hi = values.get("off_topic_score_min", 0), values.get("off_topic_score_max", 100)
        if lo > hi:
            raise ValueError(f"off_topic_score_min ({lo}) must not exceed off_topic_score_max ({hi})")

    @classmethod
    def finding(cls, detail: dict[str, Any] | None) -> dict[str, Any]:
        """A flagged row's finding carries its 0-100 score."""
        return {"off_topic_score": detail["off_topic_score"]} if detail else {}

    @classmethod
    def applies(cls, flag: RequestFlag, detail: dict[str, Any] | None, options: Mapping[str, Any]) -> bool:
        """A flagged row is removed only when its 0-100 score lies in the request's window."""
        if not detail:
            return False
        lo, hi = options["off_topic_score_min"], options["off_topic_score_max"]
        return bool(lo <= detail["off_topic_score"] <= hi)

    @staticmethod
    def _topic(
        emb: np.ndarray,
        form: np.ndarray,
        found: np.ndarray,
        conf: np.ndarray,
        few_classes: bool,
        tested: list[np.ndarray],
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Foreign-region probability, its FDR scores and the rows it flags, learnt from ``found``.

        The classifier learns the rows ``found`` off-topic (less the confirmed ones where many classes
        make a confirmed label no chance match) against the confirmed rows not found. A row of the
        ``tested`` families is flagged when its p-value against the vouched rows' (out-of-fold)
        probabilities passes the FDR; any row (only unconfirmed ones with many classes) when its
        probability passes 0.5.
        """
        vouched = conf & ~found
        prob = foreign_topic_probability(emb, found if few_classes else found & ~conf, vouched, form)
        # many classes: a confirmed label is rarely a chance match, so it vouches for the row
        foreign = prob if few_classes else np.where(conf, 0.0, prob)
        topic = foreign > 0.5
        # the probability is also tested at the FDR against the vouched rows' own (out-of-fold) ones,
        # less the rows it places in the foreign region (with few classes, foreign rows confirmed
        # by chance: they would fatten the null's tail)
        prob_scores, prob_flags = foreign_probability_test(prob, vouched & ~topic, tested)
        return foreign, prob_scores, topic | prob_flags

    def detect(self, ctx: DetectorContext) -> DetectorResult:
        """``off_topic_score`` = round(100 * score); flagged at the FDR or by the topic model."""
        st = far_stats(ctx)
        distance = st.distance
        summary: dict[str, Any] = {**st.summary()}
        if not (ctx.has_labels and st.confirmed_null):
            families, adaptive = off_topic_families(ctx, st)
            scores, flags = bh_families(st.pvalue, families, adaptive=adaptive)
        else:
            conf = st.confirmed
            classes, y = label_ids(ctx)
            # float32 as given: each use casts what it reads (no float64 copy of every row at once)
            emb = ctx.embeddings
            near_conf = confirmed_distance(emb, conf, neighbours(ctx))
            distance = (near_conf + prototype_distance(emb, y, len(classes))) / 2.0
            null = conf
            # few classes: a foreign row's arbitrary label is confirmed by chance more often than the FDR
            few_classes = chance_confirmation(ctx) > FDR_LEVEL
            if few_classes:
                # far rows confirmed by chance would weigh on the null's tail: keep its bulk only
                _, _, fence = clipped_fence(distance[conf], k=FENCE_Z)
                null = conf & (distance <= fence)
            pvalue = tail_pvalues(distance, distance[null])
            unsup = unsupported_rows(ctx, conf)
            # "agree on nothing": no label holds a majority of the neighbours' vote
            scattered = unsup & (neighbourhood_agreement(ctx) < 0.5)
            families = [scattered, unsup & ~scattered, ~conf & ~unsup, conf]
            # far-ness alone does not tell a foreign topic's scattered rows from the dataset's own odd
            # rows (those are often the farther): the scattered family is tested on distance at the
            # plain FDR, and on the share of its neighbours as unsupported as itself (a foreign topic
            # is a cluster of such rows) with adaptive BH, since it is rich in such rows by construction
            scores, flags = bh_families(pvalue, families, adaptive=[False, True, False, False])
            cl_scores, cl_flags = bh_families(
                marked_share_pvalues(ctx, unsup, conf), [scattered], adaptive=[True]
            )
            scores, flags = np.maximum(scores, cl_scores), flags | cl_flags
            # the foreign region is learnt from every row already found off-topic (the scattered family
            # and the rows flagged at the FDR) against the confirmed rows not flagged, on the rows'
            # meaning and their surface form (a foreign source's typography, which the embedding
            # does not see); then once more from every row that first pass found too. The first
            # seed is what the label statistics found, thin where few classes leave them weak (a
            # chance-confirmed label, chance support): the rows it reaches teach the region's
            # parts near the dataset's classes. Once: a classifier refit on its own findings until
            # nothing changes drifts towards its own errors.
            form = form_features(ctx.texts)
            found, tested = scattered | flags, [f & ~flags for f in families[:3]]
            foreign, prob_scores, topic = self._topic(emb, form, found, conf, few_classes, tested)
            foreign2, prob_scores2, topic2 = self._topic(
                emb, form, found | topic, conf, few_classes, [f & ~topic for f in tested]
            )
            foreign, prob_scores = np.maximum(foreign, foreign2), np.maximum(prob_scores, prob_scores2)
            topic = topic | topic2
            scores = np.maximum(np.maximum(scores, foreign), prob_scores)
            flags = flags | topic
            # a cluster-level test: unconfirmed rows among rows already found off-topic
            near_scores, near = found_neighbour_test(ctx, flags, conf & ~flags, families[:3])
            scores = np.maximum(scores, near_scores)
            flags = flags | near
            summary.update(
                families=[int(f.sum()) for f in families],
                foreign_topic=int(topic.sum()),
                found_neighbours=int(near.sum()),
            )
        details: list[dict[str, Any] | None] = [
            {"off_topic_score": int(round(100 * s)), "distance": round(float(d), 4)}
            for s, d in zip(scores, distance, strict=True)
        ]
        summary["flagged"] = int(flags.sum())
        return DetectorResult(scores=scores, flags=flags, threshold=0.5, summary=summary, details=details)
