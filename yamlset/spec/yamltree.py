"""YAML read into plain values, with the line and column of every key and value.

PyYAML's loaders drop positions and silently keep the last of duplicate keys;
composing nodes and building the values ourselves keeps both facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from yamlset.errors import Problem

JsonPath = tuple[str | int, ...]
_MERGE = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class Marks:
    """Positions (1-based line, column) of the values and keys of one YAML file."""

    file: str
    values: dict[JsonPath, tuple[int, int]] = field(default_factory=dict)
    keys: dict[JsonPath, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: JsonPath, *, at_key: bool = False) -> tuple[int, int]:
        """Where `path` is written, or its nearest written parent (defaults are not written)."""
        if at_key and path in self.keys:
            return self.keys[path]
        for end in range(len(path), -1, -1):
            if path[:end] in self.values:
                return self.values[path[:end]]
        return (1, 1)

    def problem(self, path: JsonPath, message: str, *, at_key: bool = False) -> Problem:
        line, col = self.locate(path, at_key=at_key)
        return Problem(self.file, line, col, format_path(path), message)


def format_path(path: JsonPath) -> str:
    """`$.pool.overlap`, `$.collect.sources[0]`, `$.classes['a/b']`."""
    out = "$"
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.replace("_", "a").replace("-", "a").isalnum():
            out += f".{part}"
        else:
            out += "[" + repr(part) + "]"
    return out


def read_yaml(text: str, file: str) -> tuple[Any, Marks, list[Problem]]:
    """The document's value, its marks and its problems (syntax errors, duplicate keys)."""
    marks = Marks(file)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, marks, []
        builder = _Builder(loader, marks)
        value = builder.build(node, ())
        return value, marks, builder.problems
    except yaml.MarkedYAMLError as error:
        return None, marks, [_syntax_problem(error, file)]
    except yaml.YAMLError as error:
        return None, marks, [Problem(file, 1, 1, "$", f"invalid YAML: {error}")]
    finally:
        loader.dispose()


def _syntax_problem(error: yaml.MarkedYAMLError, file: str) -> Problem:
    mark = error.problem_mark or error.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    what = error.problem or error.context or "cannot parse"
    start = error.context_mark
    if error.context and error.problem and start:
        # PyYAML notices a missing `]` on a later line; name where the construct began.
        what = f"{what} ({error.context} at line {start.line + 1})"
    return Problem(file, line, col, "$", f"invalid YAML: {what}")


def _position(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, loader: yaml.SafeLoader, marks: Marks) -> None:
        self.loader = loader
        self.marks = marks
        self.problems: list[Problem] = []
        self._open: set[int] = set()  # collections being built, to stop at recursive aliases

    def build(self, node: yaml.Node, path: JsonPath) -> Any:
        self.marks.values[path] = _position(node)
        if isinstance(node, yaml.ScalarNode):
            return self.loader.construct_object(node)
        if id(node) in self._open:
            self.problems.append(self.marks.problem(path, "an alias may not contain itself"))
            return None
        self._open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        finally:
            self._open.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, path: JsonPath) -> dict[str, Any]:
        self._report_duplicates(node, path)
        if any(key.tag == _MERGE for key, _ in node.value):
            self.loader.flatten_mapping(node)  # merged pairs first, so own keys win below
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(self.marks.problem(path, "a key must be plain text"))
                continue
            # Keys as written: `1:` or `yes:` is the text "1" or "yes", not a number or bool.
            key = str(key_node.value)
            self.marks.keys[(*path, key)] = _position(key_node)
            out[key] = self.build(value_node, (*path, key))
        return out

    def _report_duplicates(self, node: yaml.MappingNode, path: JsonPath) -> None:
        seen: dict[str, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE:
                continue
            key = str(key_node.value)
            line, col = _position(key_node)
            if key in seen:
                message = f"duplicate key '{key}' (line {line} repeats line {seen[key]})"
                self.problems.append(
                    Problem(self.marks.file, line, col, format_path((*path, key)), message)
                )
            else:
                seen[key] = line
