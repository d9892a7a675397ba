"""Small specs and resized images for the page, local backend and report tests."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PIL import Image

from yamlset.crowd.base import LabelTask
from yamlset.spec.model import (
    AggregationSpec,
    ClassSpec,
    CollectSpec,
    CrowdSpec,
    HostingSpec,
    ImageSpec,
    OutputSpec,
    PoolSpec,
    ProjectSpec,
    Spec,
)

COLOURS = [
    (200, 40, 40),
    (40, 90, 200),
    (40, 160, 80),
    (220, 170, 30),
    (120, 60, 160),
    (30, 30, 30),
]


def make_spec(
    root: Path,
    *,
    classes: tuple[tuple[str, str], ...] = (("cat", "Cat"), ("dog", "Dog")),
    instructions: str | None = None,
    tasks_per_page: int = 3,
    overlap: int = 2,
    time_per_page_s: int = 600,
    size: tuple[int, int] = (64, 64),
    labelers: tuple[str, ...] = (),
) -> Spec:
    """A spec whose file would live in `root`; `instructions` is written as Markdown there."""
    md: Path | None = None
    if instructions is not None:
        md = Path("instructions.md")
        (root / md).write_text(instructions, encoding="utf-8")
    return Spec(
        path=root / "spec.yaml",
        name="pets",
        classes=tuple(ClassSpec(key, title) for key, title in classes),
        collect=CollectSpec(),
        image=ImageSpec(size=size),
        crowd=CrowdSpec(host="127.0.0.1", port=0, labelers=labelers),
        hosting=HostingSpec(),
        project=ProjectSpec(title="Which pet is it?", instructions=md),
        pool=PoolSpec(
            tasks_per_page=tasks_per_page, overlap=overlap, time_per_page_s=time_per_page_s
        ),
        aggregation=AggregationSpec(),
        output=OutputSpec(dir=root / "out"),
    )


def with_pool(spec: Spec, **changes: object) -> Spec:
    return dataclasses.replace(spec, pool=dataclasses.replace(spec.pool, **changes))


def make_tasks(folder: Path, n: int, size: tuple[int, int] = (64, 64)) -> tuple[LabelTask, ...]:
    """`n` resized images of distinct colours, as label tasks of the local backend."""
    folder.mkdir(parents=True, exist_ok=True)
    tasks = []
    for i in range(n):
        item = f"{i:02d}" + "ab" * 31  # shaped like a sha256
        path = folder / f"{item}.jpg"
        Image.new("RGB", size, COLOURS[i % len(COLOURS)]).save(path, "JPEG", quality=85)
        tasks.append(LabelTask(item=item, file=path, url=""))
    return tuple(tasks)
