"""Golden files pin the wording and position of every kind of spec error.

Rewrite them after a deliberate change with YAMLSET_UPDATE_GOLDEN=1, then read the diff.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from yamlset.spec import validate

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.stem for p in GOLDEN.glob("*.yaml"))


def _report(path: Path) -> str:
    problems = validate(path)
    return "".join(f"{dataclasses.replace(p, file=path.name)}\n" for p in problems)


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    spec = GOLDEN / f"{case}.yaml"
    expected = GOLDEN / f"{case}.expected"
    actual = _report(spec)
    if os.environ.get("YAMLSET_UPDATE_GOLDEN"):
        expected.write_text(actual, encoding="utf-8")
    assert actual, f"{case}.yaml is meant to be broken"
    assert actual == expected.read_text(encoding="utf-8")


def test_every_golden_spec_has_an_expected_file() -> None:
    assert sorted(p.stem for p in GOLDEN.glob("*.expected")) == CASES
