from __future__ import annotations

import sys

import pytest

from tests.aggregation.simulate import OPTIONS, labels, simulate
from yamlset.aggregation import aggregate
from yamlset.errors import YamlsetError
from yamlset.spec.model import AggregationSpec


@pytest.mark.parametrize("method", ["wawa", "glad"])
def test_missing_crowd_kit_names_the_fix(method: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes `import crowdkit...` fail as if it were not installed.
    monkeypatch.setitem(sys.modules, "crowdkit", None)
    monkeypatch.setitem(sys.modules, "crowdkit.aggregation", None)
    crowd = simulate([0.9] * 3, items=5, per_item=3)
    with pytest.raises(YamlsetError) as caught:
        aggregate(crowd.answers, OPTIONS, AggregationSpec(method=method))
    assert str(caught.value) == (
        f"aggregation method '{method}' needs crowd-kit: "
        "pip install --no-deps crowd-kit && pip install 'yamlset[crowdkit]'"
    )


@pytest.mark.parametrize("method", ["wawa", "glad"])
def test_crowd_kit_methods_give_decisions(method: str) -> None:
    pytest.importorskip("crowdkit.aggregation")
    crowd = simulate([0.9, 0.9, 0.85, 0.3], items=40, per_item=3, seed=7)
    got = aggregate(crowd.answers, OPTIONS, AggregationSpec(method=method, min_votes=None))
    assert list(got) == list(crowd.truth)
    assert crowd.accuracy(labels(got)) > 0.85
    decided = [d for d in got.values() if d.label is not None]
    assert all(0.25 < d.confidence <= 1.0 for d in decided)
    assert all(sum(n for _, n in d.votes) == 3 for d in got.values())


def test_crowd_kit_methods_apply_min_confidence() -> None:
    pytest.importorskip("crowdkit.aggregation")
    crowd = simulate([0.6] * 5, items=40, per_item=3, seed=8)
    spec = AggregationSpec(method="wawa", min_votes=None, min_confidence=0.9)
    got = aggregate(crowd.answers, OPTIONS, spec)
    assert any(d.label is None for d in got.values())
    assert all((d.label is None) == (d.confidence < 0.9) for d in got.values())
