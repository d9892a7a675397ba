"""The values every aggregation method reads and returns, and the helpers they share.

Answers are columnar and methods work on integer codes (numpy arrays), so that a
million answers cost a few arrays rather than a million objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from yamlset.errors import YamlsetError
from yamlset.spec.model import AggregationSpec

Codes = npt.NDArray[np.intp]
Floats = npt.NDArray[np.float64]

UNDECIDED = -1  # the label code of an item left without a label


@dataclass(frozen=True)
class Answers:
    """Crowd answers as three parallel columns: answer i is (items[i], labelers[i], values[i])."""

    items: Sequence[str]
    labelers: Sequence[str]
    values: Sequence[str]

    def __post_init__(self) -> None:
        if not len(self.items) == len(self.labelers) == len(self.values):
            raise ValueError(
                f"answer columns differ in length: {len(self.items)} items, "
                f"{len(self.labelers)} labelers, {len(self.values)} values"
            )

    def __len__(self) -> int:
        return len(self.items)


class Decision(NamedTuple):
    """What aggregation decided for one item.

    A NamedTuple rather than a frozen dataclass like other values: a frozen dataclass's
    __init__ sets each field through object.__setattr__, which made building the 200k
    decisions of 1M answers cost ~0.45 s; a tuple is built in one step.
    """

    item: str
    label: str | None  # None: undecided (not enough votes, a tie, or low confidence)
    confidence: float  # 0..1: majority's share of the top value, or a method's posterior
    votes: tuple[tuple[str, int], ...]  # value -> count, most votes first, then by value


class Method(Protocol):
    """An aggregation method: turns answers into one decision per answered item."""

    name: str

    def aggregate(
        self, answers: Answers, options: Sequence[str], spec: AggregationSpec
    ) -> dict[str, Decision]: ...


@dataclass(frozen=True)
class LabelerAgreement:
    """How often one labeler's answers matched the decided labels."""

    labeler: str
    answers: int  # all of the labeler's answers
    decided: int  # answers on items that got a label
    agreed: int  # of those, answers equal to the label

    @property
    def share(self) -> float:
        return self.agreed / self.decided if self.decided else 0.0


@dataclass(frozen=True)
class Encoded:
    """Answers as integer codes: items and labelers in order of first appearance."""

    answers: Answers
    items: list[str]
    options: tuple[str, ...]
    item: Codes  # per answer, an index into items
    value: Codes  # per answer, an index into options

    @cached_property
    def _labeler_codes(self) -> tuple[list[str], Codes]:
        # Lazy: majority vote never looks at who answered.
        return factorize(self.answers.labelers, len(self.answers))

    @property
    def labelers(self) -> list[str]:
        return self._labeler_codes[0]

    @property
    def labeler(self) -> Codes:
        """Per answer, an index into labelers."""
        return self._labeler_codes[1]

    def counts(self) -> npt.NDArray[np.int64]:
        """Votes per item and option, shape (items, options)."""
        k = len(self.options)
        flat = np.bincount(self.item * k + self.value, minlength=len(self.items) * k)
        return flat.reshape(len(self.items), k).astype(np.int64)


def factorize(column: Sequence[str], size: int) -> tuple[list[str], Codes]:
    """Distinct values in order of first appearance, and each entry's index among them."""
    # Dicts beat np.unique here: no sort of a million strings, input order is kept, and
    # every pass below iterates in C.
    index: dict[str, int] = dict.fromkeys(column, 0)
    index.update(zip(index, range(len(index)), strict=True))
    codes = np.fromiter(map(index.__getitem__, column), dtype=np.intp, count=size)
    return list(index), codes


def encode(answers: Answers, options: Sequence[str]) -> Encoded:
    """Codes for every answer; a value outside `options` is the user's error."""
    if len(set(options)) != len(options):
        raise ValueError(f"options repeat a value: {list(options)}")
    n = len(answers)
    items, item = factorize(answers.items, n)
    position = {v: i for i, v in enumerate(options)}
    try:
        value = np.fromiter(map(position.__getitem__, answers.values), dtype=np.intp, count=n)
    except KeyError:
        unknown = sorted(set(answers.values) - set(position))
        raise YamlsetError(
            f"answers hold values that are not options ({', '.join(map(repr, unknown))}); "
            f"the options are {', '.join(options)}"
        ) from None
    return Encoded(answers, items, tuple(options), item, value)


def undecided_by_count(counts: npt.NDArray[np.int64], label: Codes, spec: AggregationSpec) -> Codes:
    """`label` with items of fewer than `spec.min_votes` answers set to UNDECIDED."""
    if spec.min_votes is None:
        return label
    return np.where(counts.sum(axis=1) >= spec.min_votes, label, UNDECIDED)


def decide_by_posterior(
    enc: Encoded, posterior: Floats, spec: AggregationSpec
) -> dict[str, Decision]:
    """Decisions from per-item class probabilities: argmax, unless tied or below the bars."""
    counts = enc.counts()
    label = np.argmax(posterior, axis=1).astype(np.intp)
    confidence = posterior[np.arange(len(label)), label]
    if posterior.shape[1] > 1:
        # Equal posteriors (e.g. one vote each and no evidence on the labelers) are a tie.
        second, first = np.sort(posterior, axis=1)[:, -2:].T
        label = np.where(np.isclose(first, second, rtol=0, atol=1e-12), UNDECIDED, label)
    if spec.min_confidence is not None:
        label = np.where(confidence >= spec.min_confidence, label, UNDECIDED)
    return build_decisions(enc, counts, undecided_by_count(counts, label, spec), confidence)


def build_decisions(
    enc: Encoded, counts: npt.NDArray[np.int64], label: Codes, confidence: Floats
) -> dict[str, Decision]:
    """Decision objects from per-item arrays; label code UNDECIDED means no label."""
    rows, row_of_item = _distinct_rows(counts)
    # Items share few distinct vote rows (5 answers, 5 options: at most 126), so each
    # votes tuple is built once and shared.
    votes = [_votes(row, enc.options) for row in rows]
    names: list[str | None] = [*enc.options, None]  # index -1 (UNDECIDED) is None
    return {
        item: Decision(item, names[lab], conf, votes[r])
        for item, lab, conf, r in zip(
            enc.items,
            label.tolist(),
            confidence.tolist(),
            row_of_item.tolist(),
            strict=True,
        )
    }


def _distinct_rows(counts: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], Codes]:
    """The distinct rows of `counts` and, per item, the index of its row."""
    base = int(counts.max(initial=0)) + 1
    if base ** counts.shape[1] >= 2**62:
        rows, inverse = np.unique(counts, axis=0, return_inverse=True)
        return rows, inverse.reshape(-1)
    # Each row read as a number in base `base`: a 1-D unique is far faster than axis=0.
    key = counts @ (base ** np.arange(counts.shape[1], dtype=np.int64))
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return counts[first], inverse.reshape(-1)


def _votes(row: npt.NDArray[np.int64], options: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    pairs = [(options[i], int(c)) for i, c in enumerate(row) if c > 0]
    return tuple(sorted(pairs, key=lambda p: (-p[1], p[0])))
