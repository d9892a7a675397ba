"""The spec as frozen values. Built by `spec.load` after validation; never mutated."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OTHER = "other"  # the answer value of the extra "someone else / no one" option


@dataclass(frozen=True)
class SourceSpec:
    """One entry of `collect.sources`: a search service and its overrides."""

    type: str
    api_url: str | None = None
    per_query: int | None = None  # None: the collect default
    options: tuple[tuple[str, Any], ...] = ()  # any other per-source keys, sorted

    def option(self, key: str, default: Any = None) -> Any:
        return dict(self.options).get(key, default)


@dataclass(frozen=True)
class ClassSpec:
    key: str  # the answer value and the output folder name
    title: str  # what labelers see
    queries: tuple[str, ...] = ()
    target: int | None = None
    urls: Path | None = None  # resolved against the spec's folder
    folder: Path | None = None


@dataclass(frozen=True)
class CollectSpec:
    sources: tuple[SourceSpec, ...] = (SourceSpec("wikimedia"), SourceSpec("openverse"))
    per_query: int = 100
    min_side: int = 200
    max_aspect: float = 4.0  # long side / short side; wider images are dropped
    formats: tuple[str, ...] = ("jpeg", "png", "webp", "gif", "bmp", "tiff")
    max_bytes: int = 20_000_000
    dedupe: str = "perceptual"  # exact | perceptual | none
    dedupe_distance: int = 6  # Hamming distance between 64-bit pHashes
    licenses: tuple[str, ...] = ()  # empty: any license, including unknown
    contact: str | None = None
    threads: int = 16
    timeout: float = 20.0
    retries: int = 4


@dataclass(frozen=True)
class ImageSpec:
    size: tuple[int, int] = (299, 299)  # width, height
    fit: str = "crop"  # crop | pad | stretch
    format: str = "jpeg"  # jpeg | png | webp
    quality: int = 90
    background: str = "#000000"  # the padding colour for fit: pad


@dataclass(frozen=True)
class CrowdSpec:
    backend: str = "local"  # local | toloka | files
    environment: str = "sandbox"  # sandbox | production (toloka)
    tasks_file: Path | None = None  # files backend
    results_file: Path | None = None  # files backend
    host: str = "127.0.0.1"  # local backend
    port: int = 8765  # local backend
    labelers: tuple[str, ...] = ()  # local backend: allowed names, empty = anyone


@dataclass(frozen=True)
class HostingSpec:
    type: str = "local"  # local | static | s3
    base_url: str | None = None  # static
    bucket: str | None = None  # s3
    prefix: str = ""  # s3
    region: str | None = None  # s3
    endpoint_url: str | None = None  # s3
    public: bool = True  # s3: public-read objects, else presigned URLs
    url_lifetime_s: int = 7 * 86400  # s3 presigned URL lifetime


@dataclass(frozen=True)
class ProjectSpec:
    title: str
    description: str = ""
    instructions: Path | None = None
    template: str = "image-classification"  # a name in templates/ or a path
    other: str | None = "Someone else / no one"  # None: no extra answer


@dataclass(frozen=True)
class FeeSpec:
    percent: float = 30.0
    min: float = 0.005

    def per_page(self, price: float) -> float:
        return max(price * self.percent / 100.0, self.min)


@dataclass(frozen=True)
class FiltersSpec:
    languages: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    regions: tuple[int, ...] = ()
    rating_top_percent: int | None = None
    client_types: tuple[str, ...] = ()  # BROWSER | TOLOKA_APP


@dataclass(frozen=True)
class FastResponsesSpec:
    faster_than_s: int
    count: int
    of: int
    ban_s: int | None  # None: ban forever


@dataclass(frozen=True)
class GoldenSpec:
    tasks: Path  # TSV: INPUT:image, GOLDEN:result
    ratio: int = 10  # one control task per this many tasks
    min_correct_percent: int = 60
    of: int = 5
    ban_s: int | None = 86400


@dataclass(frozen=True)
class SkippedSpec:
    in_a_row: int = 3
    ban_s: int | None = 86400


@dataclass(frozen=True)
class MajoritySkillSpec:
    answer_threshold: int = 2
    history: int = 10


@dataclass(frozen=True)
class QualityControlSpec:
    fast_responses: FastResponsesSpec | None = None
    golden: GoldenSpec | None = None
    skipped: SkippedSpec | None = None
    majority_skill: MajoritySkillSpec | None = None


@dataclass(frozen=True)
class TrainingSpec:
    tasks: Path  # TSV: INPUT:image, GOLDEN:result, HINT:text
    pass_score: int = 80
    tasks_per_page: int = 10


@dataclass(frozen=True)
class PoolSpec:
    price_per_page: float = 0.01
    fee: FeeSpec = field(default_factory=FeeSpec)
    tasks_per_page: int = 40
    overlap: int = 3
    time_per_page_s: int = 600
    adult_content: bool = False
    review: str = "auto"  # auto | manual
    review_period_s: int = 7 * 86400
    accept_threshold: float = 0.5  # manual review: share of answers agreeing with decisions
    reject_comment: str = "Most answers on this page disagree with the other labelers."
    expires_s: int = 30 * 86400
    filters: FiltersSpec = field(default_factory=FiltersSpec)
    quality_control: QualityControlSpec = field(default_factory=QualityControlSpec)
    training: TrainingSpec | None = None

    @property
    def cost_per_assignment(self) -> float:
        return self.price_per_page + self.fee.per_page(self.price_per_page)


@dataclass(frozen=True)
class AggregationSpec:
    method: str = "majority"  # majority | dawid-skene | wawa | glad
    min_votes: int | None = 2
    min_share: float | None = None
    min_confidence: float | None = None  # for probabilistic methods


@dataclass(frozen=True)
class OutputSpec:
    dir: Path
    splits: tuple[tuple[str, float], ...] = ()  # empty: no split folders
    seed: int = 0
    report: bool = True


@dataclass(frozen=True)
class Spec:
    path: Path  # the spec file
    name: str
    classes: tuple[ClassSpec, ...]
    collect: CollectSpec
    image: ImageSpec
    crowd: CrowdSpec
    hosting: HostingSpec
    project: ProjectSpec
    pool: PoolSpec
    aggregation: AggregationSpec
    output: OutputSpec
    description: str = ""
    budget: float | None = None
    version: int = 1
    raw: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def state_dir(self) -> Path:
        return self.root / ".yamlset" / self.name

    @property
    def class_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.classes)

    def options(self) -> list[tuple[str, str]]:
        """(value, title) of every answer a labeler can give, in display order."""
        opts = [(c.key, c.title) for c in self.classes]
        if self.project.other is not None:
            opts.append((OTHER, self.project.other))
        return opts
