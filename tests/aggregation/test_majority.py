from __future__ import annotations

import pytest

from yamlset.aggregation import Answers, Decision, aggregate
from yamlset.errors import YamlsetError
from yamlset.spec.model import OTHER, AggregationSpec

OPTIONS = ("kirkorov", "face", OTHER)


def answers(*rows: tuple[str, str, str]) -> Answers:
    items, labelers, values = zip(*rows, strict=True) if rows else ((), (), ())
    return Answers(items, labelers, values)


def votes(item: str, *values: str) -> list[tuple[str, str, str]]:
    return [(item, f"w{n}", v) for n, v in enumerate(values)]


def majority(ans: Answers, **rule: float | int | None) -> dict[str, Decision]:
    return aggregate(ans, OPTIONS, AggregationSpec(method="majority", **rule))  # type: ignore[arg-type]


# The brief's example: 3/3 and 2/3 are kept with min_votes 2; only 3/3 with min_votes 3.
UNANIMOUS_AND_TWO_OF_THREE = answers(
    *votes("a", "kirkorov", "kirkorov", "kirkorov"),
    *votes("b", "kirkorov", "face", "kirkorov"),
)


def test_min_votes_2_keeps_three_and_two_of_three() -> None:
    got = majority(UNANIMOUS_AND_TWO_OF_THREE, min_votes=2)
    assert got == {
        "a": Decision("a", "kirkorov", 1.0, (("kirkorov", 3),)),
        "b": Decision("b", "kirkorov", 2 / 3, (("kirkorov", 2), ("face", 1))),
    }


def test_min_votes_3_keeps_only_unanimous() -> None:
    got = majority(UNANIMOUS_AND_TWO_OF_THREE, min_votes=3)
    assert (got["a"].label, got["b"].label) == ("kirkorov", None)
    assert got["b"].confidence == pytest.approx(2 / 3)  # still reported for the report page


def test_min_share() -> None:
    got = majority(UNANIMOUS_AND_TWO_OF_THREE, min_votes=None, min_share=0.75)
    assert (got["a"].label, got["b"].label) == ("kirkorov", None)


def test_a_tie_is_undecided_even_without_bars() -> None:
    got = majority(
        answers(*votes("t", "kirkorov", "face"), *votes("u", "face", "face", OTHER, OTHER)),
        min_votes=None,
    )
    assert got["t"].label is None
    assert got["u"].label is None
    assert got["u"].votes == (("face", 2), (OTHER, 2))  # equal counts: by value


def test_other_wins_like_any_answer() -> None:
    got = majority(answers(*votes("x", OTHER, "face", OTHER)))
    assert got["x"] == Decision("x", OTHER, 2 / 3, ((OTHER, 2), ("face", 1)))


def test_single_vote_needs_min_votes_off() -> None:
    one = answers(("x", "w1", "face"))
    assert majority(one, min_votes=2)["x"].label is None
    assert majority(one, min_votes=None)["x"].label == "face"


def test_items_come_in_order_of_first_answer() -> None:
    got = majority(answers(*votes("z", "face"), *votes("a", "face"), ("z", "w9", "face")))
    assert list(got) == ["z", "a"]


def test_no_answers_no_decisions() -> None:
    assert majority(answers()) == {}


def test_value_outside_options_is_a_user_error() -> None:
    with pytest.raises(YamlsetError) as caught:
        majority(answers(*votes("x", "face", "dog")))
    assert str(caught.value) == (
        "answers hold values that are not options ('dog'); the options are kirkorov, face, other"
    )


def test_unknown_method_names_the_choices() -> None:
    with pytest.raises(YamlsetError) as caught:
        aggregate(answers(), OPTIONS, AggregationSpec(method="mv"))
    assert str(caught.value) == (
        "unknown aggregation method 'mv'; choose one of majority, dawid-skene, wawa, glad"
    )


def test_columns_of_different_length_are_refused() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        Answers(["a", "b"], ["w"], ["face", "face"])
