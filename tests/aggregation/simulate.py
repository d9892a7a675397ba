"""Simulated crowds with known truth, for the aggregation tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from yamlset.aggregation import Answers, Decision

OPTIONS = ("cat", "dog", "fox", "other")


@dataclass(frozen=True)
class Crowd:
    answers: Answers
    truth: dict[str, str]

    def accuracy(self, labels: dict[str, str | None]) -> float:
        return sum(labels[i] == t for i, t in self.truth.items()) / len(self.truth)


def simulate(
    accuracies: Sequence[float],
    *,
    items: int,
    per_item: int,
    seed: int = 0,
    options: Sequence[str] = OPTIONS,
    adversaries: Sequence[int] = (),
) -> Crowd:
    """Each item is answered by `per_item` distinct labelers drawn at random. Labeler w
    answers the truth with probability accuracies[w], else another option at random;
    labelers listed in `adversaries` always answer the next option after the truth."""
    rng = np.random.default_rng(seed)
    k = len(options)
    truth = rng.integers(k, size=items)
    chosen = np.argsort(rng.random((items, len(accuracies))), axis=1)[:, :per_item]
    item = np.repeat(np.arange(items), per_item)
    who = chosen.reshape(-1)
    right = rng.random(item.size) < np.asarray(accuracies)[who]
    wrong = (truth[item] + rng.integers(1, k, size=item.size)) % k
    value = np.where(right, truth[item], wrong)
    adversary = np.isin(who, adversaries)
    value = np.where(adversary, (truth[item] + 1) % k, value)
    answers = Answers(
        [f"img{i}" for i in item.tolist()],
        [f"w{w}" for w in who.tolist()],
        [options[v] for v in value.tolist()],
    )
    return Crowd(answers, {f"img{i}": options[t] for i, t in enumerate(truth.tolist())})


def labels(decisions: dict[str, Decision]) -> dict[str, str | None]:
    return {i: d.label for i, d in decisions.items()}
