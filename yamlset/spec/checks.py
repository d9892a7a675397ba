"""Checks the schema cannot express: files on disk, cross-key rules, reserved names.

Each rule reads the data with defaults applied and skips values of the wrong
type (the schema check has reported those), so every problem surfaces at once.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yamlset import resources
from yamlset.errors import Problem
from yamlset.spec.defaults import find_refs
from yamlset.spec.durations import PATTERN as DURATION_PATTERN
from yamlset.spec.durations import parse_duration
from yamlset.spec.model import OTHER
from yamlset.spec.yamltree import JsonPath, Marks

SEARCH_SOURCES = ("wikimedia", "openverse", "ddg", "google")
PUBLIC_HOSTING = ("s3", "static")
_TSV_COLUMNS = ("INPUT:image", "GOLDEN:result")
_UNSAFE = ("/", "\\", "\0", ":")


@dataclass(frozen=True)
class _Spec:
    data: dict[str, Any]
    root: Path
    marks: Marks
    schema: dict[str, Any]

    def get(self, path: JsonPath, kind: type | tuple[type, ...]) -> Any:
        """The value at `path` if it has the `kind`, else None."""
        value: Any = self.data
        for part in path:
            if not isinstance(value, dict) or part not in value:
                return None
            value = value[part]
        if isinstance(value, bool) and kind is not bool:
            return None  # bool is an int to Python, never to the schema
        return value if isinstance(value, kind) else None

    def written(self, path: JsonPath) -> bool:
        return path in self.marks.values

    def problem(self, path: JsonPath, message: str, *, at_key: bool = False) -> Problem:
        return self.marks.problem(path, message, at_key=at_key)


_Rule = Callable[[_Spec], Iterator[Problem]]


def check(data: dict[str, Any], root: Path, marks: Marks, schema: dict[str, Any]) -> list[Problem]:
    """Semantic problems of `data` (defaults applied); paths resolve against `root`."""
    spec = _Spec(data, root, marks, schema)
    return [problem for rule in _RULES for problem in rule(spec)]


def _classes(spec: _Spec) -> dict[str, Any]:
    return spec.get(("classes",), dict) or {}


def class_key_problem(key: str) -> str | None:
    """Why `key` cannot name a class (it is a folder name and an answer value), or None."""
    if key == OTHER:
        return "'other' is reserved for the extra answer; rename this class"
    if not key or key.startswith(".") or any(c in key for c in _UNSAFE) or not key.isprintable():
        return f"class key '{key}' must be a plain folder name (no '/', '\\', ':' or leading '.')"
    return None


def _class_keys(spec: _Spec) -> Iterator[Problem]:
    folded: dict[str, str] = {}
    for key in _classes(spec):
        path = ("classes", key)
        problem = class_key_problem(key)
        if problem:
            yield spec.problem(path, problem, at_key=True)
        elif key.casefold() in folded:
            yield spec.problem(
                path,
                f"classes '{folded[key.casefold()]}' and '{key}' would share "
                "a folder on case-insensitive file systems",
                at_key=True,
            )
        folded.setdefault(key.casefold(), key)


def _class_candidates(spec: _Spec) -> Iterator[Problem]:
    for key in _classes(spec):
        path: JsonPath = ("classes", key)
        value = spec.get(path, dict)
        if value is None:
            continue
        if not any(value.get(k) for k in ("queries", "urls", "folder")):
            yield spec.problem(path, f"class '{key}' needs queries, urls or folder")
        urls = spec.get((*path, "urls"), str)
        folder = spec.get((*path, "folder"), str)
        if urls is not None and not (spec.root / urls).is_file():
            yield spec.problem((*path, "urls"), f"no such file: {urls}")
        if folder is not None and not (spec.root / folder).is_dir():
            yield spec.problem((*path, "folder"), f"no such folder: {folder}")


def _search_sources(spec: _Spec) -> Iterator[Problem]:
    sources = spec.get(("collect", "sources"), list)
    if sources is None:
        return
    names = [
        s if isinstance(s, str) else s.get("type") if isinstance(s, dict) else None for s in sources
    ]
    if any(name in SEARCH_SOURCES for name in names):
        return
    for key in _classes(spec):
        if spec.get(("classes", key, "queries"), list):
            yield spec.problem(
                ("collect", "sources"),
                f"class '{key}' has queries but no search "
                f"source is listed (one of: {', '.join(SEARCH_SOURCES)})",
            )
            return


def _instructions(spec: _Spec) -> Iterator[Problem]:
    path = ("project", "instructions")
    name = spec.get(path, str)
    if name is not None and not (spec.root / name).is_file():
        yield spec.problem(path, f"no such file: {name}")


def _answer_files(spec: _Spec) -> Iterator[Problem]:
    answers = [*_classes(spec)]
    if spec.get(("project", "other"), str) is not None:
        answers.append(OTHER)
    for path in (("pool", "training", "tasks"), ("pool", "quality_control", "golden", "tasks")):
        name = spec.get(path, str)
        if name is not None:
            yield from _check_tsv(spec, path, name, answers)


def _check_tsv(spec: _Spec, path: JsonPath, name: str, answers: list[str]) -> Iterator[Problem]:
    file = spec.root / name
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = "no such file" if isinstance(error, FileNotFoundError) else "cannot read"
        yield spec.problem(path, f"{reason}: {name}")
        return
    columns = text.partition("\n")[0].rstrip("\r").split("\t")
    missing = [c for c in _TSV_COLUMNS if c not in columns]
    if missing:
        yield spec.problem(path, f"{name} lacks the column {', '.join(missing)}")
        return
    rows = list(csv.DictReader(io.StringIO(text), delimiter="\t"))
    if not rows:
        yield spec.problem(path, f"{name} has no tasks")
    results = [(line, row["GOLDEN:result"]) for line, row in enumerate(rows, 2)]
    for line, value in [(n, v) for n, v in results if v not in answers][:3]:
        yield spec.problem(
            path,
            f"{name} line {line}: GOLDEN:result '{value}' is not an answer; "
            f"expected one of: {', '.join(answers)}",
        )


def _template(spec: _Spec) -> Iterator[Problem]:
    path = ("project", "template")
    name = spec.get(path, str)
    if name is None or _find_template(name, spec.root):
        return
    if "/" in name or name.endswith((".j2", ".html")):
        yield spec.problem(path, f"no such file: {name}")
        return
    try:
        shipped = ", ".join(resources.template_names()) or "none"
    except FileNotFoundError:
        shipped = "none (the installation lacks templates/)"
    yield spec.problem(
        path,
        f"unknown template '{name}'; shipped templates: {shipped}; "
        "or give a path to a .html.j2 file",
    )


def _find_template(name: str, root: Path) -> bool:
    try:
        return resources.find_template(name, root) is not None
    except FileNotFoundError:  # a broken installation: reported as an unknown template
        return False


def _votes(spec: _Spec) -> Iterator[Problem]:
    votes = spec.get(("aggregation", "min_votes"), int)
    overlap = spec.get(("pool", "overlap"), int)
    if votes is None or overlap is None or votes <= overlap or overlap < 1:
        return
    where: JsonPath = ("aggregation", "min_votes")
    said = f"min_votes {votes}"
    if not spec.written(where):
        where, said = ("pool", "overlap"), f"min_votes {votes} (the default)"
    yield spec.problem(where, f"{said} can never be reached with overlap {overlap}")


def _splits(spec: _Spec) -> Iterator[Problem]:
    splits = spec.get(("output", "splits"), dict)
    if not splits or not all(isinstance(v, (int, float)) for v in splits.values()):
        return
    total = sum(splits.values())
    if abs(total - 1) > 1e-6:
        yield spec.problem(("output", "splits"), f"fractions must sum to 1, not {total:g}")


def _durations(spec: _Spec) -> Iterator[Problem]:
    for name in ("duration", "ban"):
        for path, value in find_refs(spec.data, spec.schema, name):
            # Text the schema's pattern rejects is reported there already.
            if isinstance(value, str) and re.fullmatch(DURATION_PATTERN, value):
                try:
                    parse_duration(value)
                except ValueError as error:
                    yield spec.problem(path, str(error))


def _fast_responses(spec: _Spec) -> Iterator[Problem]:
    path = ("pool", "quality_control", "fast_responses")
    count, of = spec.get((*path, "count"), int), spec.get((*path, "of"), int)
    if count is not None and of is not None and count > of:
        yield spec.problem((*path, "count"), f"count {count} cannot exceed of {of}")


def _hosting(spec: _Spec) -> Iterator[Problem]:
    backend = spec.get(("crowd", "backend"), str)
    kind = spec.get(("hosting", "type"), str)
    if backend in ("toloka", "files") and kind not in PUBLIC_HOSTING and kind is not None:
        written = spec.written(("hosting", "type"))
        where = ("hosting", "type") if written else ("crowd", "backend")
        yield spec.problem(
            where,
            f"the {backend} backend needs the images at a public URL for labelers' browsers: "
            "set hosting.type to s3 or static",
        )
    if kind == "s3" and spec.get(("hosting", "bucket"), str) is None:
        yield spec.problem(("hosting",), "hosting.type s3 needs a bucket")
    if kind == "static" and spec.get(("hosting", "base_url"), str) is None:
        yield spec.problem(("hosting",), "hosting.type static needs a base_url")


def _price(spec: _Spec) -> Iterator[Problem]:
    price = spec.get(("pool", "price_per_page"), (int, float))
    # Toloka's floor for general tasks (guide/concepts/pool-edit.md): lower is refused there
    if spec.get(("crowd", "backend"), str) == "toloka" and price is not None and price < 0.005:
        yield spec.problem(
            ("pool", "price_per_page"), f"Toloka pays at least $0.005 a page, not ${price:g}"
        )


_RULES: tuple[_Rule, ...] = (
    _class_keys,
    _class_candidates,
    _search_sources,
    _instructions,
    _answer_files,
    _template,
    _votes,
    _splits,
    _durations,
    _fast_responses,
    _hosting,
    _price,
)
