"""JSON Schema errors as sentences a person understands, at the right line."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from jsonschema import (  # type: ignore[import-untyped]  # no stubs: see the report
    Draft202012Validator,
    ValidationError,
)

from yamlset.errors import Problem
from yamlset.spec.yamltree import JsonPath, Marks

_TYPES = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}
_BOUNDS = {
    "minimum": "must be at least",
    "maximum": "must be at most",
    "exclusiveMinimum": "must be more than",
    "exclusiveMaximum": "must be less than",
}


def schema_problems(data: Any, schema: dict[str, Any], marks: Marks) -> list[Problem]:
    """Every way `data` breaks `schema`, one Problem each."""
    validator = Draft202012Validator(schema)
    problems: list[Problem] = []
    for error in validator.iter_errors(data):
        problems.extend(_translate(error, marks, schema))
    return problems


def show(value: Any) -> str:
    """A value as the YAML that produced it would spell it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return str(value)


def hint(word: str, choices: list[str]) -> str:
    """`; did you mean 'x'?` when one of `choices` is close to `word`, else ''."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _translate(error: ValidationError, marks: Marks, schema: dict[str, Any]) -> Iterator[Problem]:
    path: JsonPath = tuple(error.absolute_path)
    kind = str(error.validator)
    if kind == "additionalProperties" and error.validator_value is False:
        yield from _unknown_keys(error, path, marks, schema)
    elif kind == "required":
        for key in error.validator_value:
            if isinstance(error.instance, dict) and key not in error.instance:
                yield marks.problem(path, f"missing required key '{key}'")
    elif "propertyNames" in error.schema_path:
        title = error.schema.get("title", "a valid name")
        message = f"expected {title}, got {show(error.instance)}"
        yield marks.problem((*path, error.instance), message, at_key=True)
    else:
        yield marks.problem(path, _message(error))


def _unknown_keys(
    error: ValidationError, path: JsonPath, marks: Marks, schema: dict[str, Any]
) -> Iterator[Problem]:
    allowed = list(error.schema.get("properties", {}))
    for key in error.instance:
        if key not in allowed:
            home = _home(key, schema)
            more = hint(key, allowed) or (f"; it belongs under {home}" if home else "")
            more = more or f"; allowed here: {', '.join(allowed)}"
            yield marks.problem((*path, key), f"unknown key '{key}'{more}", at_key=True)


def _message(error: ValidationError) -> str:
    kind, expected, value = str(error.validator), error.validator_value, error.instance
    title = error.schema.get("title")
    if kind == "type":
        return _type_message(expected, value, title)
    if kind == "pattern":
        return f"expected {title or 'text matching ' + expected}, got {show(value)}"
    if kind == "enum":
        choices = ", ".join(show(c).strip("'") for c in expected)
        more = hint(value, [str(c) for c in expected]) if isinstance(value, str) else ""
        return f"must be one of: {choices}{more}"
    if kind == "const":
        return f"must be {show(expected)}"
    if kind in _BOUNDS:
        return f"{_BOUNDS[kind]} {expected}"
    return _size_message(kind, expected, value) or error.message


def _type_message(expected: str | list[str], value: Any, title: str | None) -> str:
    names = [expected] if isinstance(expected, str) else list(expected)
    # "or null" is true but rarely what the writer meant; the description documents it.
    shown = [n for n in names if n != "null"] or names
    wanted = title or " or ".join(_TYPES.get(n, n) for n in shown)
    message = f"expected {wanted}, got {show(value)}"
    if isinstance(value, bool) and "string" in names:
        # YAML 1.1 reads yes/no/on/off (and the country code NO) as booleans.
        message += " (YAML reads yes, no, on, off as true or false: quote it)"
    return message


def _size_message(kind: str, expected: Any, value: Any) -> str | None:
    if kind == "minLength" or (kind == "minProperties" and expected == 1):
        return "must not be empty"
    if kind == "maxLength":
        return f"must be at most {expected} characters"
    if kind == "minItems" and expected == 1:
        return "must not be empty"
    if kind in ("minItems", "maxItems"):
        return f"expected {expected} items, got {len(value)}"
    if kind == "uniqueItems":
        repeated = next((v for i, v in enumerate(value) if v in value[:i]), None)
        return f"lists {show(repeated)} more than once"
    return None


def _home(key: str, schema: dict[str, Any]) -> str | None:
    """The dotted place where the schema allows `key` (`pool` for overlap), if any."""
    queue: list[tuple[str, dict[str, Any]]] = [("", schema)]
    while queue:
        where, node = queue.pop(0)
        props: dict[str, Any] = node.get("properties", {})
        if key in props and where:
            return where
        queue += [(f"{where}.{k}".lstrip("."), v) for k, v in props.items() if "properties" in v]
    return None
