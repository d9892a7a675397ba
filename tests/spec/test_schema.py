from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator

from yamlset.spec import schema

_SECRETS = ("token", "secret", "password", "api_key", "oauth", "credentials")


def _properties(node: Any, where: str = "$") -> Iterator[tuple[str, dict[str, Any], bool]]:
    """(path, property schema, required?) of every property the schema defines."""
    if isinstance(node, dict):
        required = set(node.get("required", []))
        for key, sub in node.get("properties", {}).items():
            yield f"{where}.{key}", sub, key in required
            yield from _properties(sub, f"{where}.{key}")
        for key, sub in node.items():
            if key != "properties":
                yield from _properties(sub, f"{where}/{key}")


def test_schema_is_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(schema())


def test_every_key_is_documented_with_a_default() -> None:
    undocumented = [path for path, sub, _ in _properties(schema()) if not sub.get("description")]
    no_default = [
        path
        for path, sub, required in _properties(schema())
        if "default" not in sub and not required
    ]
    assert undocumented == []
    assert no_default == []
    assert schema()["required"] == ["name", "classes"]


def test_objects_refuse_unknown_keys() -> None:
    def objects(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            if "properties" in node:
                yield node
            for sub in node.values():
                yield from objects(sub)
        elif isinstance(node, list):
            for sub in node:
                yield from objects(sub)

    assert all(node.get("additionalProperties") is False for node in objects(schema()))


def test_no_key_can_hold_a_secret() -> None:
    paths = [path.lower() for path, _, _ in _properties(schema())]
    assert [p for p in paths if any(word in p.rsplit(".", 1)[-1] for word in _SECRETS)] == []


def test_callers_get_a_copy() -> None:
    schema()["properties"].clear()
    assert "pool" in schema()["properties"]
