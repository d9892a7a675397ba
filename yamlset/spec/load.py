"""Read a spec file: YAML with positions, schema and semantic checks, then the frozen Spec."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from yamlset.errors import Problem, SpecError
from yamlset.spec.build import build
from yamlset.spec.checks import check
from yamlset.spec.defaults import fill_defaults
from yamlset.spec.messages import schema_problems, show
from yamlset.spec.model import Spec
from yamlset.spec.yamltree import Marks, read_yaml


@cache
def _schema() -> dict[str, Any]:
    text = resources.files("yamlset.spec").joinpath("schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a spec: the one definition of the format."""
    copied: dict[str, Any] = json.loads(json.dumps(_schema()))  # callers may edit their copy
    return copied


def validate(path: Path) -> list[Problem]:
    """Every problem of the spec at `path`, sorted by position; [] when it is valid."""
    return _read(path)[1]


def load(path: Path, *, environ: Mapping[str, str] | None = None) -> Spec:
    """The Spec at `path`, with defaults applied and paths made absolute.

    Raises SpecError listing every problem at once. `environ` (default: os.environ)
    supplies YAMLSET_CONTACT when the spec sets no collect.contact.
    """
    data, problems = _read(path)
    if problems or data is None:
        raise SpecError(problems)
    return build(data, path.resolve(), os.environ if environ is None else environ)


def _read(path: Path) -> tuple[dict[str, Any] | None, list[Problem]]:
    """The data with defaults applied (None when unusable) and the sorted problems."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        return None, [Problem(file, 1, 1, "$", f"cannot read the spec: {reason}")]
    value, marks, problems = read_yaml(text, file)
    if problems and value is None:
        return None, problems
    if not isinstance(value, dict):
        return None, [_not_a_mapping(value, marks)]
    problems += schema_problems(value, _schema(), marks)
    data: dict[str, Any] = fill_defaults(value, _schema())
    problems += check(data, path.resolve().parent, marks, _schema())
    problems.sort(key=lambda p: (p.line, p.col, p.path, p.message))
    return data, problems


def _not_a_mapping(value: Any, marks: Marks) -> Problem:
    if value is None:
        return marks.problem((), "the spec is empty; `yamlset init NAME` writes a starter spec")
    return marks.problem(
        (), f"expected a mapping of keys (version, name, classes, ...), got {show(value)}"
    )
