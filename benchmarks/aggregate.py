"""Aggregation speed and accuracy on a simulated crowd, against crowd-kit as the baseline.

    python -m benchmarks.aggregate [--answers 1000000] [--seed 0]

Simulates items with a known truth, each answered by `--per-item` distinct labelers
whose accuracies are drawn uniformly from `--accuracy LOW HIGH` (a wrong answer is
another option at random), then runs yamlset's methods and, when crowd-kit is
importable, its MajorityVote and DawidSkene on the same answers. Prints a table of wall
time, accuracy against the truth, and speed-up over the crowd-kit counterpart.
yamlset's times start from the string columns; crowd-kit's exclude building its
DataFrame, so the comparison favours crowd-kit.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from yamlset.aggregation import Answers, aggregate
from yamlset.spec.model import OTHER, AggregationSpec


@dataclass(frozen=True)
class Result:
    method: str
    seconds: float
    labels: Sequence[str | None]  # per item, in item order


def simulate(args: argparse.Namespace) -> tuple[Answers, list[str], list[str], list[str]]:
    """Answers, item ids, options, and the true label per item."""
    rng = np.random.default_rng(args.seed)
    options = [f"class{i}" for i in range(args.classes - 1)] + [OTHER]
    k, r, w = len(options), args.per_item, args.labelers
    n_items = args.answers // r
    truth = rng.integers(k, size=n_items)
    low, high = (float(a) for a in args.accuracy)
    accuracy = rng.uniform(low, high, size=w)
    # Distinct labelers per item: a random start and a stride short enough not to wrap.
    start = rng.integers(w, size=(n_items, 1))
    stride = rng.integers(1, w // r, size=(n_items, 1))
    who = ((start + stride * np.arange(r)) % w).reshape(-1)
    item = np.repeat(np.arange(n_items), r)
    right = rng.random(item.size) < accuracy[who]
    value = np.where(right, truth[item], (truth[item] + rng.integers(1, k, size=item.size)) % k)
    items = [f"img{i:07d}" for i in range(n_items)]
    answers = Answers(
        [items[i] for i in item.tolist()],
        [f"worker{x}" for x in who.tolist()],
        [options[v] for v in value.tolist()],
    )
    return answers, items, options, [options[t] for t in truth.tolist()]


def timed(name: str, run: Callable[[], Sequence[str | None]], repeat: int) -> Result:
    """The best wall time of `repeat` runs: the least disturbed by other load."""
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        labels = run()
        best = min(best, time.perf_counter() - began)
    return Result(name, best, labels)


def ours(
    method: str, answers: Answers, items: list[str], options: list[str], repeat: int
) -> Result:
    spec = AggregationSpec(method=method, min_votes=None)

    def run() -> list[str | None]:
        decisions = aggregate(answers, options, spec)
        return [decisions[i].label for i in items]

    return timed(f"yamlset {method}", run, repeat)


def crowd_kit(answers: Answers, items: list[str], repeat: int) -> list[Result]:
    try:
        import pandas as pd
        from crowdkit.aggregation import DawidSkene, MajorityVote
    except ImportError:
        print("crowd-kit not importable: no baseline (pip install --no-deps crowd-kit ...)")
        return []
    frame = pd.DataFrame(
        {"task": answers.items, "worker": answers.labelers, "label": answers.values}
    )

    def runner(model: Any) -> Callable[[], list[str | None]]:
        def run() -> list[str | None]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                labels = model.fit_predict(frame)
            return labels.reindex(items).tolist()  # type: ignore[no-any-return]

        return run

    return [
        timed("crowd-kit MajorityVote", runner(MajorityVote()), repeat),
        timed("crowd-kit DawidSkene", runner(DawidSkene(n_iter=100, tol=1e-5)), repeat),
    ]


BASELINE = {
    "yamlset majority": "crowd-kit MajorityVote",
    "yamlset dawid-skene": "crowd-kit DawidSkene",
}


def report(results: list[Result], truth: list[str]) -> None:
    seconds = {r.method: r.seconds for r in results}
    print(
        f"{'method':<24} {'seconds':>8} {'accuracy':>9} {'undecided':>9} "
        f"{'acc. of decided':>15} {'speed-up':>9}"
    )
    for r in results:
        right = sum(a == t for a, t in zip(r.labels, truth, strict=True))
        decided = sum(a is not None for a in r.labels)
        base = seconds.get(BASELINE.get(r.method, ""))
        speedup = f"{base / r.seconds:8.1f}x" if base else f"{'-':>9}"
        print(
            f"{r.method:<24} {r.seconds:8.2f} {right / len(truth):9.4f} "
            f"{1 - decided / len(truth):9.4f} {right / max(decided, 1):15.4f} {speedup}"
        )
    by_name = {r.method: r.labels for r in results}
    theirs = by_name.get("crowd-kit DawidSkene")
    if theirs is not None:
        same = np.mean(
            [a == b for a, b in zip(by_name["yamlset dawid-skene"], theirs, strict=True)]
        )
        print(f"yamlset dawid-skene labels equal to crowd-kit DawidSkene's: {same:.4%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--per-item", type=int, default=5)
    parser.add_argument("--labelers", type=int, default=1000)
    parser.add_argument("--classes", type=int, default=4, help="options, 'other' included")
    parser.add_argument("--accuracy", type=float, nargs=2, default=(0.4, 0.95))
    parser.add_argument("--no-crowd-kit", action="store_true", help="skip the baseline")
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs per method")
    args = parser.parse_args()
    answers, items, options, truth = simulate(args)
    print(
        f"{len(answers):,} answers: {len(items):,} items x {args.per_item}, "
        f"{args.labelers} labelers of accuracy {args.accuracy[0]}..{args.accuracy[1]}, "
        f"{len(options)} options, seed {args.seed}, best of {args.repeat}"
    )
    results = [ours(m, answers, items, options, args.repeat) for m in ("majority", "dawid-skene")]
    if not args.no_crowd_kit:
        results += crowd_kit(answers, items, args.repeat)
    report(results, truth)


if __name__ == "__main__":
    main()
