"""The commented spec `yamlset init NAME --classes a,b` writes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

import yaml

from yamlset.spec.checks import class_key_problem
from yamlset.spec.defaults import resolve
from yamlset.spec.load import schema

DEFAULTS_HEADER = "# Every other key and its default (uncomment a line to change it):"
_PLAIN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$")
_SECTIONS = (
    "collect",
    "image",
    "crowd",
    "hosting",
    "project",
    "pool",
    "aggregation",
    "output",
    "budget",
)


def starter_spec(name: str, classes: Sequence[str]) -> str:
    """A valid, commented spec whose classes read images from `photos/<class>/`.

    The caller creates those folders. Raises ValueError for a name or class key
    the spec format does not allow, so `init` never writes an invalid spec.
    """
    _check_names(name, classes)
    lines = [
        f"# yamlset spec for {name}. Check it:  yamlset validate {name}.yaml",
        f"# See what would happen:  yamlset plan {name}.yaml     Do it:  yamlset apply {name}.yaml",
        "# Paths are relative to this file; the full format:  yamlset schema",
        "version: 1",
        f"name: {name}",
        'description: ""',
        "",
        "classes:",
        *(line for key in classes for line in _class_lines(key)),
        "",
        DEFAULTS_HEADER,
        *_default_lines(),
    ]
    return "\n".join(lines) + "\n"


def _check_names(name: str, classes: Sequence[str]) -> None:
    if not re.fullmatch(schema()["properties"]["name"]["pattern"], name):
        raise ValueError(f"name {name!r}: use lower-case letters, digits, '-' and '_'")
    if not classes:
        raise ValueError("give at least one class")
    if len(set(classes)) != len(classes):
        raise ValueError("a class is listed twice")
    for key in classes:
        problem = class_key_problem(key)
        if problem:
            raise ValueError(problem)


def _scalar(text: str) -> str:
    # Plain only when YAML reads it back as this very string (not `yes`, `3` or `null`).
    plain = _PLAIN.match(text) and yaml.safe_load(text) == text
    return text if plain else json.dumps(text, ensure_ascii=False)


def _class_lines(key: str) -> list[str]:
    pairs = [
        (f"  {_scalar(key)}:", ""),
        (f"    title: {_scalar(key)}", "what labelers see"),
        (f"    folder: {_scalar(f'photos/{key}/')}", "local images (jpeg, png, webp, ...)"),
        (f"    # queries: [{_scalar(key)}]", "or search the web with collect.sources"),
        (f"    # urls: {_scalar(f'{key}-urls.txt')}", "or list image URLs, one a line"),
        ("    # target: 500", "verified images wanted"),
    ]
    return [f"{body.ljust(40)}  # {note}" if note else body for body, note in pairs]


def _flow(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=1000)
    return text.removesuffix("\n").removesuffix("\n...").strip()


def _default_lines() -> Iterator[str]:
    root = schema()
    for section in _SECTIONS:
        node = root["properties"][section]
        yield from _key_lines(section, node, root, depth=0)


def _key_lines(key: str, node: dict[str, Any], root: dict[str, Any], depth: int) -> Iterator[str]:
    target = resolve(node, root)
    default = node.get("default")
    if default == {} and "properties" in target:
        yield _commented(depth, f"{key}:", node["description"])
        for sub, sub_node in target["properties"].items():
            yield from _key_lines(sub, sub_node, root, depth + 1)
    else:
        yield _commented(depth, f"{key}: {_flow(default)}", node["description"])


def _commented(depth: int, body: str, description: str) -> str:
    # Dropping the leading "# " of a line leaves valid YAML at the right depth.
    return f"# {'  ' * depth}{body}".ljust(40) + f"  # {description}"
