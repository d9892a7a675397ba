"""A Toloka stand-in per test, a small spec, and a label context around them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.toloka import TolokaStandIn
from yamlset.crowd.base import LabelContext, LabelTask, Progress
from yamlset.crowd.toloka import TolokaBackend
from yamlset.spec.model import (
    AggregationSpec,
    ClassSpec,
    CollectSpec,
    CrowdSpec,
    FastResponsesSpec,
    FiltersSpec,
    HostingSpec,
    ImageSpec,
    OutputSpec,
    PoolSpec,
    ProjectSpec,
    QualityControlSpec,
    Spec,
    TrainingSpec,
)
from yamlset.state import Store

IMAGES = "http://127.0.0.1:9/images"  # never fetched: workers are simulated


def truth(values: dict[str, str]) -> str:
    """The simulated workers' right answer: even image numbers are cats."""
    number = int(values["image"].rsplit("/", 1)[1].split(".")[0])
    return "cat" if number % 2 == 0 else "dog"


@pytest.fixture
def api() -> Iterator[TolokaStandIn]:
    with TolokaStandIn(truth=truth, accuracies=(1.0, 1.0, 1.0, 1.0), seed=1) as stand_in:
        yield stand_in
    assert stand_in.violations == []


def make_spec(root: Path, **pool: object) -> Spec:
    (root / "instructions.md").write_text("# Cats or dogs\n\nPick **one**.<script>x()</script>\n")
    (root / "training.tsv").write_text(
        "INPUT:image\tGOLDEN:result\tHINT:text\n"
        f"{IMAGES}/t0.jpg\tcat\tLook at the ears\n{IMAGES}/t1.jpg\tdog\tIt barks\n"
    )
    settings: dict[str, object] = {
        "price_per_page": 0.01,
        "tasks_per_page": 4,
        "overlap": 3,
        "time_per_page_s": 600,
        "adult_content": True,
        "review": "manual",
        "filters": FiltersSpec(languages=("RU",), countries=("RU", "KZ"), rating_top_percent=80),
        "quality_control": QualityControlSpec(
            fast_responses=FastResponsesSpec(faster_than_s=40, count=3, of=5, ban_s=7 * 86400)
        ),
        "training": TrainingSpec(tasks=Path("training.tsv"), pass_score=80),
        **pool,
    }
    return Spec(
        path=root / "cats.yaml",
        name="cats",
        classes=(ClassSpec("cat", "Cat"), ClassSpec("dog", "Dog")),
        collect=CollectSpec(),
        image=ImageSpec(),
        crowd=CrowdSpec("toloka", "sandbox"),
        hosting=HostingSpec("static", base_url=IMAGES),
        project=ProjectSpec("Cat or dog?", instructions=Path("instructions.md")),
        pool=PoolSpec(**settings),  # type: ignore[arg-type]
        aggregation=AggregationSpec(),
        output=OutputSpec(root / "out"),
        budget=5.0,
    )


def make_tasks(n: int) -> tuple[LabelTask, ...]:
    return tuple(LabelTask(f"item{i:03d}", Path(f"{i}.jpg"), f"{IMAGES}/{i}.jpg") for i in range(n))


class Recorder:
    def __init__(self) -> None:
        self.messages: list[str] = []
        self.advances: list[tuple[str, int, int]] = []
        self.sleeps: list[float] = []

    def progress(self) -> Progress:
        return Progress(self.messages.append, lambda *a: self.advances.append(a))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "state")
    yield opened
    opened.close()


def backend(recorder: Recorder, **options: object) -> TolokaBackend:
    settings: dict[str, object] = {"timeout": 2.0, **options}
    return TolokaBackend("sandbox", poll_interval=0.0, sleep=recorder.sleeps.append, **settings)  # type: ignore[arg-type]


def context(
    spec: Spec,
    store: Store,
    api: TolokaStandIn,
    recorder: Recorder,
    n: int = 10,
    *,
    wait: bool = True,
    environ: dict[str, str] | None = None,
) -> LabelContext:
    env = {"TOLOKA_URL": api.url, "TOLOKA_API_KEY": "test-token"} if environ is None else environ
    return LabelContext(spec, store, make_tasks(n), recorder.progress(), env, wait=wait)
