"""The schema's `default`s applied to loaded data: schema.json is the one source of them."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from yamlset.spec.yamltree import JsonPath


def resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref` (`#/$defs/name`); the node itself when it has none."""
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return node
    target: dict[str, Any] = root["$defs"][ref.removeprefix("#/$defs/")]
    return target


def fill_defaults(data: Any, schema: dict[str, Any]) -> Any:
    """A copy of `data` with every missing key that has a default set to it.

    Values of the wrong type are left alone: the schema check reports them.
    """
    return _fill(data, schema, schema)


def _fill(value: Any, node: dict[str, Any], root: dict[str, Any]) -> Any:
    node = resolve(node, root)
    if not isinstance(value, dict):
        return copy.deepcopy(value)
    props: dict[str, Any] = node.get("properties", {})
    extra = node.get("additionalProperties")
    out: dict[str, Any] = {}
    for key, item in value.items():
        sub = props.get(key, extra if isinstance(extra, dict) else None)
        out[key] = _fill(item, sub, root) if sub is not None else copy.deepcopy(item)
    for key, sub in props.items():
        if key not in out and "default" in sub:
            out[key] = _fill(sub["default"], sub, root)
    return out


def find_refs(data: Any, schema: dict[str, Any], name: str) -> Iterator[tuple[JsonPath, Any]]:
    """(path, value) of every value in `data` whose schema is `#/$defs/<name>`."""
    yield from _find(data, schema, schema, f"#/$defs/{name}", ())


def _find(
    value: Any, node: dict[str, Any], root: dict[str, Any], ref: str, path: JsonPath
) -> Iterator[tuple[JsonPath, Any]]:
    if node.get("$ref") == ref:
        yield path, value
        return
    node = resolve(node, root)
    if not isinstance(value, dict):
        return
    props: dict[str, Any] = node.get("properties", {})
    for key, item in value.items():
        if key in props:
            yield from _find(item, props[key], root, ref, (*path, key))
