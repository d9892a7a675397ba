"""Aggregation: crowd answers in, one decision per item out.

Methods live in one registry, `METHODS`, keyed by the spec's `aggregation.method`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from yamlset.aggregation.base import Answers, Decision, LabelerAgreement, Method, factorize
from yamlset.aggregation.crowdkit import GLAD, WAWA
from yamlset.aggregation.dawid_skene import DawidSkene
from yamlset.aggregation.majority import Majority
from yamlset.errors import YamlsetError
from yamlset.spec.model import AggregationSpec

__all__ = [
    "METHODS",
    "Answers",
    "Decision",
    "LabelerAgreement",
    "Method",
    "aggregate",
    "labeler_agreement",
]

METHODS: dict[str, Method] = {m.name: m for m in (Majority(), DawidSkene(), WAWA, GLAD)}


def aggregate(
    answers: Answers, options: Sequence[str], spec: AggregationSpec
) -> dict[str, Decision]:
    """One Decision per answered item, by the spec's method; items in order of first answer."""
    method = METHODS.get(spec.method)
    if method is None:
        raise YamlsetError(
            f"unknown aggregation method {spec.method!r}; choose one of {', '.join(METHODS)}"
        )
    return method.aggregate(answers, options, spec)


def labeler_agreement(
    answers: Answers, decisions: Mapping[str, Decision]
) -> list[LabelerAgreement]:
    """Per labeler, how many answers matched the decided label; worst share first.

    Only items that got a label count towards `decided`: an undecided item says
    nothing about who was right.
    """
    n = len(answers)
    labelers, labeler = factorize(answers.labelers, n)
    items, item = factorize(answers.items, n)
    values, value = factorize(answers.values, n)
    code = {v: i for i, v in enumerate(values)}
    # per item: the code of its decided value; -1 undecided, -2 decided but nobody's answer
    decided_code = np.array([_code_of(decisions.get(i), code) for i in items], dtype=np.intp)
    per_answer = decided_code[item] if n else np.zeros(0, dtype=np.intp)
    decided = per_answer != -1
    size = len(labelers)
    totals = np.bincount(labeler, minlength=size)
    decided_n = np.bincount(labeler[decided], minlength=size)
    agreed_n = np.bincount(labeler[per_answer == value], minlength=size)
    rows = [
        LabelerAgreement(name, int(t), int(d), int(a))
        for name, t, d, a in zip(labelers, totals, decided_n, agreed_n, strict=True)
    ]
    return sorted(rows, key=lambda r: (r.share, -r.decided, r.labeler))


def _code_of(decision: Decision | None, code: Mapping[str, int]) -> int:
    if decision is None or decision.label is None:
        return -1
    return code.get(decision.label, -2)
