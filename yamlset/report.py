"""report.html: a self-contained contact sheet of what labeling kept, contested and dropped.

No scripts and no outside resources: one HTML file with inline CSS whose thumbnails are the
exported images, referenced by paths relative to the report. All text (class titles, source
URLs, labeler names) is untrusted and goes through the same sandboxed, autoescaping jinja
environment as the task page.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from yamlset.page import sandboxed_env
from yamlset.spec.model import OTHER, Spec
from yamlset.units import money

_TEMPLATE = "report.html.j2"


@dataclass(frozen=True)
class ReportRow:
    """One labeled image. `label` None: undecided; `votes` as (value, count), most first."""

    item: str
    image_rel_path: str  # relative to the report's folder, e.g. "train/cat/ab12.jpg"
    label: str | None
    votes: tuple[tuple[str, int], ...]
    confidence: float
    split: str | None
    source_url: str

    @property
    def unanimous(self) -> bool:
        return sum(1 for _, n in self.votes if n > 0) <= 1

    @property
    def kept(self) -> bool:
        return self.label is not None and self.label != OTHER


@dataclass(frozen=True)
class _ClassView:
    key: str
    title: str
    kept: tuple[ReportRow, ...]
    target: int | None
    bar_percent: float  # of the largest class, for the balance bars


@dataclass(frozen=True)
class _LabelerView:
    name: str
    answers: int
    agreed: int
    percent: float
    careless: bool


def write_report(
    path: Path,
    *,
    spec: Spec,
    rows: Sequence[ReportRow],
    agreement: Sequence[tuple[str, int, int, float]],
    spend: float,
    elapsed_s: float | None,
) -> None:
    """Write report.html atomically. `agreement` rows are (labeler, answers, answers agreeing
    with the decision, that share 0..1); a labeler under `pool.accept_threshold` is marked."""
    html = render_report(
        spec=spec, rows=rows, agreement=agreement, spend=spend, elapsed_s=elapsed_s
    )
    _write_atomically(path, html)


def render_report(
    *,
    spec: Spec,
    rows: Sequence[ReportRow],
    agreement: Sequence[tuple[str, int, int, float]],
    spend: float,
    elapsed_s: float | None,
) -> str:
    """The report's HTML (what `write_report` writes)."""
    env = sandboxed_env(Path(__file__).resolve().parent)
    env.filters["image_src"] = image_src
    env.filters["link"] = safe_link
    kept = [r for r in rows if r.kept]
    return env.get_template(_TEMPLATE).render(
        title=spec.project.title,
        name=spec.name,
        classes=_classes(spec, kept),
        total=len(rows),
        kept=len(kept),
        contested=[r for r in kept if not r.unanimous],
        dropped=[r for r in rows if not r.kept],
        labelers=_labelers(agreement, spec.pool.accept_threshold),
        spend=money(spend),
        elapsed=_duration(elapsed_s),
    )


_INLINE = re.compile(r"data:image/(jpeg|png|webp);base64,[A-Za-z0-9+/]+=*")


def image_src(rel_path: str) -> str:
    """A thumbnail path as a relative URL: percent-encoded, so it can never carry a scheme.
    The one exception is an inline base64 image (export embeds the thumbnails of dropped
    images, which the dataset folders do not hold), checked to be nothing else."""
    if _INLINE.fullmatch(rel_path):
        return rel_path
    return quote(rel_path.lstrip("/"), safe="/")


def safe_link(url: str) -> str:
    """`url` if it is http(s), else "": a source URL from the web must not become javascript:."""
    return url if urlsplit(url).scheme.lower() in ("http", "https") else ""


def _classes(spec: Spec, kept: Sequence[ReportRow]) -> list[_ClassView]:
    by_class = {c.key: tuple(r for r in kept if r.label == c.key) for c in spec.classes}
    largest = max((len(v) for v in by_class.values()), default=0) or 1
    return [
        _ClassView(c.key, c.title, by_class[c.key], c.target, 100 * len(by_class[c.key]) / largest)
        for c in spec.classes
    ]


def _labelers(
    agreement: Sequence[tuple[str, int, int, float]], threshold: float
) -> list[_LabelerView]:
    return [
        _LabelerView(name, answers, agreed, 100 * share, share < threshold)
        for name, answers, agreed, share in sorted(agreement, key=lambda a: (a[3], a[0]))
    ]


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the report from a web server
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
