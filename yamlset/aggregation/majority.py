"""Majority vote: the most frequent answer wins when it clears the spec's bars."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from yamlset.aggregation.base import UNDECIDED, Answers, Decision, build_decisions, encode
from yamlset.spec.model import AggregationSpec


class Majority:
    """Keep an item's top value when it has `min_votes` votes, `min_share` of all, and no tie."""

    name = "majority"

    def aggregate(
        self, answers: Answers, options: Sequence[str], spec: AggregationSpec
    ) -> dict[str, Decision]:
        enc = encode(answers, options)
        counts = enc.counts()
        if not len(enc.items):
            return {}
        ordered = np.sort(counts, axis=1)
        top = ordered[:, -1]
        second = ordered[:, -2] if counts.shape[1] > 1 else np.zeros_like(top)
        share = top / counts.sum(axis=1)
        keep = top > second
        if spec.min_votes is not None:
            keep &= top >= spec.min_votes
        if spec.min_share is not None:
            keep &= share >= spec.min_share
        label = np.where(keep, np.argmax(counts, axis=1), UNDECIDED)
        return build_decisions(enc, counts, label, share)
