from __future__ import annotations

from tests.aggregation.simulate import OPTIONS, simulate
from yamlset.aggregation import Answers, LabelerAgreement, aggregate, labeler_agreement
from yamlset.spec.model import AggregationSpec


def test_counts_only_decided_items() -> None:
    answers = Answers(
        items=["a", "a", "a", "b", "b"],
        labelers=["ann", "bob", "cid", "ann", "bob"],
        values=["cat", "cat", "dog", "cat", "dog"],  # b is a tie: undecided
    )
    decisions = aggregate(answers, OPTIONS, AggregationSpec())
    assert labeler_agreement(answers, decisions) == [
        LabelerAgreement("cid", answers=1, decided=1, agreed=0),
        LabelerAgreement("ann", answers=2, decided=1, agreed=1),
        LabelerAgreement("bob", answers=2, decided=1, agreed=1),
    ]


def test_a_careless_labeler_comes_first() -> None:
    crowd = simulate([0.9] * 6 + [0.25], items=300, per_item=3, seed=9)  # w6 guesses
    decisions = aggregate(crowd.answers, OPTIONS, AggregationSpec(method="dawid-skene"))
    rows = labeler_agreement(crowd.answers, decisions)
    assert rows[0].labeler == "w6"
    assert rows[0].share < 0.5 < min(r.share for r in rows[1:])
    assert sum(r.answers for r in rows) == 900


def test_share_is_zero_without_decided_answers() -> None:
    assert LabelerAgreement("x", answers=3, decided=0, agreed=0).share == 0.0
