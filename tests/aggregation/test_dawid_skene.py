from __future__ import annotations

import numpy as np
import pytest

from tests.aggregation.simulate import OPTIONS, Crowd, labels, simulate
from yamlset.aggregation import Decision, aggregate
from yamlset.spec.model import AggregationSpec

DS = AggregationSpec(method="dawid-skene", min_votes=None)
MAJORITY = AggregationSpec(method="majority", min_votes=None)


def accuracy(crowd: Crowd, spec: AggregationSpec) -> float:
    return crowd.accuracy(labels(aggregate(crowd.answers, OPTIONS, spec)))


def test_learns_to_read_an_adversarial_labeler() -> None:
    # w4 always answers the option after the truth: majority counts it as noise,
    # Dawid-Skene learns its confusion matrix and decodes it.
    crowd = simulate([0.8] * 5, items=400, per_item=3, seed=0, adversaries=[4])
    ds, mv = accuracy(crowd, DS), accuracy(crowd, MAJORITY)
    assert ds > 0.93
    assert ds > mv + 0.1


def test_discounts_random_labelers() -> None:
    crowd = simulate([0.9] * 3 + [0.25] * 3, items=400, per_item=3, seed=1)
    ds, mv = accuracy(crowd, DS), accuracy(crowd, MAJORITY)
    assert ds > mv + 0.1


def test_confidence_is_the_posterior_of_the_label() -> None:
    crowd = simulate([0.95] * 5, items=200, per_item=5, seed=2)
    got = aggregate(crowd.answers, OPTIONS, DS)
    unanimous = [d for d in got.values() if len(d.votes) == 1]
    assert unanimous
    assert all(d.label == d.votes[0][0] and d.confidence > 0.999 for d in unanimous)
    assert all(0.0 < d.confidence <= 1.0 for d in got.values())


def test_min_confidence_leaves_doubtful_items_undecided() -> None:
    crowd = simulate([0.6] * 6, items=300, per_item=3, seed=3)
    spec = AggregationSpec(method="dawid-skene", min_votes=None, min_confidence=0.9)
    got = aggregate(crowd.answers, OPTIONS, spec)
    assert {d.label is None for d in got.values()} == {True, False}
    assert all((d.label is None) == (d.confidence < 0.9) for d in got.values())


def test_min_votes_counts_answers() -> None:
    crowd = simulate([0.9] * 4, items=50, per_item=3, seed=4)
    spec = AggregationSpec(method="dawid-skene", min_votes=4)
    assert all(d.label is None for d in aggregate(crowd.answers, OPTIONS, spec).values())


@pytest.mark.filterwarnings("ignore")  # crowd-kit's own deprecation warnings under pandas 3
def test_agrees_with_crowd_kit() -> None:
    ck = pytest.importorskip("crowdkit.aggregation")
    pd = pytest.importorskip("pandas")
    accuracies = np.random.default_rng(5).uniform(0.35, 0.95, size=40).tolist()
    crowd = simulate(accuracies, items=1500, per_item=5, seed=5, adversaries=[0, 1])
    frame = pd.DataFrame(
        {
            "task": crowd.answers.items,
            "worker": crowd.answers.labelers,
            "label": crowd.answers.values,
        }
    )
    probas = ck.DawidSkene(n_iter=100, tol=1e-5).fit_predict_proba(frame)
    ours: dict[str, Decision] = aggregate(crowd.answers, OPTIONS, DS)
    top2 = np.sort(probas.to_numpy(), axis=1)[:, -2:]
    clear = probas.index[top2[:, 1] - top2[:, 0] > 1e-3]  # ties aside
    assert len(clear) > 1400
    theirs = probas.idxmax(axis=1)
    differ = [t for t in clear if ours[t].label != theirs[t]]
    assert differ == []
    posteriors = np.array([probas.loc[t, ours[t].label] for t in clear])
    assert np.allclose([ours[t].confidence for t in clear], posteriors, atol=1e-3)
