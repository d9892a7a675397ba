from __future__ import annotations

from pathlib import Path

import pytest

from yamlset.spec import load, starter_spec
from yamlset.spec.starter import DEFAULTS_HEADER


def _init(root: Path, name: str, classes: list[str]) -> Path:
    """What `yamlset init` does: the spec plus an empty photos/<class>/ per class."""
    path = root / f"{name}.yaml"
    path.write_text(starter_spec(name, classes), encoding="utf-8")
    for key in classes:
        (root / "photos" / key).mkdir(parents=True)
    return path


def test_starter_spec_loads(tmp_path: Path) -> None:
    spec = load(_init(tmp_path, "demo", ["cat", "dog"]), environ={})
    assert spec.name == "demo"
    assert spec.class_keys == ("cat", "dog")
    assert spec.classes[0].folder == tmp_path / "photos" / "cat"
    assert spec.crowd.backend == "local"


def test_starter_spec_defaults_block_is_valid_when_uncommented(tmp_path: Path) -> None:
    path = _init(tmp_path, "demo", ["cat"])
    head, _, block = path.read_text(encoding="utf-8").partition(DEFAULTS_HEADER)
    uncommented = [line.removeprefix("# ") for line in block.splitlines()]
    path.write_text(head + "\n".join(uncommented) + "\n", encoding="utf-8")
    assert load(path, environ={}).pool.overlap == 3


def test_starter_spec_quotes_odd_class_keys(tmp_path: Path) -> None:
    spec = load(_init(tmp_path, "odd", ["yes", "3", "two words"]), environ={})
    assert spec.class_keys == ("yes", "3", "two words")


@pytest.mark.parametrize(
    ("name", "classes"),
    [
        ("Demo", ["cat"]),
        ("demo", []),
        ("demo", ["cat", "cat"]),
        ("demo", ["other"]),
        ("demo", ["a/b"]),
    ],
)
def test_starter_spec_refuses_what_would_not_validate(name: str, classes: list[str]) -> None:
    with pytest.raises(ValueError):
        starter_spec(name, classes)
