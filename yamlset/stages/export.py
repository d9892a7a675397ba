"""Export: the ImageFolder layout, manifest.csv, metadata.jsonl, ATTRIBUTION.md, report.html.

Export only ever touches files it wrote itself (recorded in the state): it refuses to
overwrite anything else, and removes only its own files that are no longer wanted.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from yamlset import items
from yamlset.aggregation.base import Decision
from yamlset.errors import YamlsetError
from yamlset.fsutil import shown, write_atomic
from yamlset.spec.model import Spec
from yamlset.stages import aggregate, label
from yamlset.stages.base import Change, RunContext
from yamlset.state import Store

NAME = "export"
_EXT = {"jpeg": ".jpg", "png": ".png", "webp": ".webp"}
MANIFEST_FIELDS = (
    "file",
    "class",
    "split",
    "source_url",
    "page_url",
    "license",
    "author",
    "sha256",
    "votes",
    "confidence",
    "kept",
    "source",
    "query",
    "attribution",
    "merged_urls",
)


@dataclass(frozen=True)
class Planned:
    """One image file export will write."""

    rel: str  # relative to output.dir, with forward slashes
    item: str
    src: Path
    label: str
    split: str | None


def config(spec: Spec) -> dict[str, Any]:
    return {
        "output": {
            "dir": str(spec.output.dir),
            "splits": dict(spec.output.splits),
            "seed": spec.output.seed,
            "format": spec.image.format,
        }
    }


def planned(spec: Spec, store: Store, decisions: dict[str, Decision]) -> list[Planned]:
    eligible = {it.sha256: it for it in items.eligible(spec, store)}
    kept: dict[str, list[str]] = {k: [] for k in spec.class_keys}
    for item, d in decisions.items():
        if d.label in kept and item in eligible:
            kept[d.label].append(item)
    ext = _EXT[spec.image.format]
    out: list[Planned] = []
    for cls, members in kept.items():
        for item, split in assign_splits(members, spec.output.splits, spec.output.seed):
            prefix = f"{split}/" if split else ""
            out.append(
                Planned(f"{prefix}{cls}/{item[:16]}{ext}", item, eligible[item].file, cls, split)
            )
    return sorted(out, key=lambda p: p.rel)


def assign_splits(
    members: list[str], splits: tuple[tuple[str, float], ...], seed: int
) -> list[tuple[str, str | None]]:
    """Deterministic, stratified: within a class, order items by a seeded hash and cut the
    order at the cumulative fractions. The same items always land in the same split."""
    if not splits:
        return [(m, None) for m in members]
    order = sorted(members, key=lambda m: hashlib.sha256(f"{seed}:{m}".encode()).hexdigest())
    out: list[tuple[str, str | None]] = []
    start, cumulative = 0, 0.0
    for i, (name, fraction) in enumerate(splits):
        cumulative += fraction
        end = len(order) if i == len(splits) - 1 else round(cumulative * len(order))
        out.extend((m, name) for m in order[start:end])
        start = end
    return out


def owned(store: Store) -> dict[str, str]:
    """Every file export wrote (its path from the spec's folder) -> the derived file it was
    copied from, or '' for the files export composes itself (manifest, report, ...)."""
    return dict(store.db.execute("SELECT path, source FROM exported").fetchall())


def key(spec: Spec, rel: str) -> str:
    """How the state names a file of the output: relative to the spec's folder when it can,
    so moving `output.dir` leaves the old files recognisably export's own."""
    path = spec.output.dir.joinpath(*rel.split("/"))
    try:
        return path.relative_to(spec.root).as_posix()
    except ValueError:
        return path.as_posix()


def _path(spec: Spec, k: str) -> Path:
    return spec.root / k  # an absolute key stays absolute


def changes(spec: Spec, store: Store, decisions: dict[str, Decision] | None) -> list[Change]:
    if decisions is None:  # not decided yet: export follows aggregation
        return [Change("+", NAME, f"write the dataset to {shown(spec.output.dir)}")]
    files = planned(spec, store, decisions)
    have = {k: src for k, src in owned(store).items() if src}
    add = sum(key(spec, p.rel) not in have for p in files)
    redo = sum(have.get(key(spec, p.rel), p.src.name) != p.src.name for p in files)
    remove = len(set(have) - {key(spec, p.rel) for p in files})
    if not (add or redo or remove) and store.stage_config(NAME) == config(spec):
        return []
    out = []
    if add or not have:
        out.append(
            Change("+", NAME, f"write {add:,} images to {shown(spec.output.dir)}", count=add)
        )
    if redo:
        out.append(
            Change("~", NAME, f"rewrite {redo:,} images with the new image settings", count=redo)
        )
    if remove:
        out.append(Change("-", NAME, f"remove {remove:,} images it wrote before", count=remove))
    if not out:
        out.append(Change("~", NAME, f"rewrite the manifest in {shown(spec.output.dir)}"))
    return out


def run(ctx: RunContext, decisions: dict[str, Decision], *, spend: float) -> None:
    spec, store = ctx.spec, ctx.store
    files = planned(spec, store, decisions)
    mine = owned(store)
    want = {key(spec, p.rel) for p in files}
    for k in sorted(k for k, src in mine.items() if src and k not in want):
        _remove(spec, k, store)
    for i, p in enumerate(files, start=1):
        k = key(spec, p.rel)
        if mine.get(k) != p.src.name:
            _copy(spec, p, store, ours=k in mine)
        ctx.progress.advance("export", i, len(files))
    prov = items.provenance(store)
    _write_meta(ctx, files, decisions, prov)
    _write_report(ctx, files, decisions, spend)
    store.finish_stage(NAME, config(spec))
    ctx.progress.message(f"  dataset: {len(files):,} images in {shown(spec.output.dir)}")


def _copy(spec: Spec, p: Planned, store: Store, *, ours: bool) -> None:
    k = key(spec, p.rel)
    dst = _path(spec, k)
    if dst.exists() and not ours:
        raise YamlsetError(
            f"{dst} exists and was not written by yamlset; move it away or choose another "
            "output.dir"
        )
    data = p.src.read_bytes()
    write_atomic(dst, data)
    with store.tx() as db:
        db.execute(
            "INSERT OR REPLACE INTO exported VALUES (?, ?, ?, ?)",
            (k, p.item, hashlib.sha256(data).hexdigest(), p.src.name),
        )


def _remove(spec: Spec, k: str, store: Store) -> None:
    path = _path(spec, k)
    path.unlink(missing_ok=True)
    for parent in path.parents:  # drop the folders this emptied, never an output dir itself
        if parent in (spec.output.dir, spec.root) or parent.parent == parent:
            break
        try:
            parent.rmdir()
        except OSError:
            break
    with store.tx() as db:
        db.execute("DELETE FROM exported WHERE path=?", (k,))


def _write_owned(ctx: RunContext, rel: str, data: bytes) -> None:
    k = key(ctx.spec, rel)
    dst = _path(ctx.spec, k)
    if dst.exists() and k not in owned(ctx.store):
        raise YamlsetError(f"{dst} exists and was not written by yamlset; move it away")
    write_atomic(dst, data)
    with ctx.store.tx() as db:
        db.execute(
            "INSERT OR REPLACE INTO exported VALUES (?, '', ?, '')",
            (k, hashlib.sha256(data).hexdigest()),
        )


def _shown(url: str, spec: Spec) -> str:
    """Local files as paths relative to the spec, so a manifest is the same on every machine."""
    if not url.startswith("file:"):
        return url
    path = Path(unquote(urlparse(url).path))
    try:
        return path.relative_to(spec.root).as_posix()
    except ValueError:
        return path.as_posix()


def _votes(d: Decision) -> str:
    return " ".join(f"{v}:{n}" for v, n in d.votes)


def _write_meta(
    ctx: RunContext,
    files: list[Planned],
    decisions: dict[str, Decision],
    prov: dict[str, items.Provenance],
) -> None:
    by_item = {p.item: p for p in files}
    buf = io.StringIO()
    writer = csv.DictWriter(buf, MANIFEST_FIELDS, lineterminator="\n")
    writer.writeheader()
    for item in sorted(decisions):
        d = decisions[item]
        p = by_item.get(item)
        src = prov.get(item)
        writer.writerow(
            {
                "file": p.rel if p else "",
                "class": d.label or "",
                "split": (p.split or "") if p else "",
                "source_url": _shown(src.url, ctx.spec) if src else "",
                "page_url": src.page_url if src else "",
                "license": src.license if src else "",
                "author": src.author if src else "",
                "sha256": item,
                "votes": _votes(d),
                "confidence": f"{d.confidence:.3f}",
                "kept": "yes" if p else "no",
                "source": src.source if src else "",
                "query": src.query if src else "",
                "attribution": src.attribution if src else "",
                "merged_urls": "; ".join(src.merged) if src else "",
            }
        )
    _write_owned(ctx, "manifest.csv", buf.getvalue().encode())
    for split, lines in _metadata_lines(ctx.spec, files, decisions, prov).items():
        rel = f"{split}/metadata.jsonl" if split else "metadata.jsonl"
        _write_owned(ctx, rel, "".join(lines).encode())
    _write_owned(ctx, "ATTRIBUTION.md", _attribution(ctx.spec, files, prov).encode())


def _metadata_lines(
    spec: Spec,
    files: list[Planned],
    decisions: dict[str, Decision],
    prov: dict[str, items.Provenance],
) -> dict[str | None, list[str]]:
    """Hugging Face `imagefolder` metadata: one file per split folder, paths relative to it."""
    out: dict[str | None, list[str]] = {}
    for p in files:
        rel = p.rel.split("/", 1)[1] if p.split else p.rel
        src = prov.get(p.item)
        row = {
            "file_name": rel,
            "label": p.label,
            "sha256": p.item,
            # every option, zeros included: one schema across split files (datasets checks)
            "votes": {v: dict(decisions[p.item].votes).get(v, 0) for v, _ in spec.options()},
            "confidence": round(decisions[p.item].confidence, 4),
            "source_url": _shown(src.url, spec) if src else "",
            "license": src.license if src else "",
            "author": src.author if src else "",
        }
        out.setdefault(p.split, []).append(json.dumps(row, ensure_ascii=False) + "\n")
    return out


def _attribution(spec: Spec, files: list[Planned], prov: dict[str, items.Provenance]) -> str:
    lines = [
        f"# Attribution for {spec.name}",
        "",
        "Every image in this dataset, its source and its license.",
        "",
    ]
    unknown = 0
    for p in files:
        src = prov.get(p.item)
        if src is None:
            continue
        lic = src.license.upper() if src.license else "license unknown"
        unknown += not src.license
        credit = src.attribution or (f"by {src.author}" if src.author else "")
        link = src.page_url or src.url
        lines.append(f"- `{p.rel}`: {credit + ', ' if credit else ''}{lic}, <{link}>")
    if unknown:
        lines[3:3] = [f"{unknown:,} images have no known license: check before publishing.", ""]
    return "\n".join(lines) + "\n"


def _thumb(path: Path) -> str:
    """A small inline thumbnail for images the report shows but the dataset does not hold."""
    from PIL import Image

    with Image.open(path) as im:
        im.thumbnail((160, 160))
        buf = io.BytesIO()
        im.convert("RGB").save(buf, "JPEG", quality=70)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()


def _write_report(
    ctx: RunContext, files: list[Planned], decisions: dict[str, Decision], spend: float
) -> None:
    if not ctx.spec.output.report:
        return
    from yamlset import report
    from yamlset.aggregation import labeler_agreement

    eligible = {it.sha256: it for it in items.eligible(ctx.spec, ctx.store)}
    by_item = {p.item: p for p in files}
    prov = items.provenance(ctx.store)
    rows = []
    for item, d in sorted(decisions.items()):
        p = by_item.get(item)
        if p is None and item not in eligible:
            continue
        image = p.rel if p else _thumb(eligible[item].file)
        src = prov.get(item)
        rows.append(
            report.ReportRow(
                item,
                image,
                d.label,
                d.votes,
                d.confidence,
                p.split if p else None,
                src.url if src else "",
            )
        )
    answers = aggregate.stored_answers(ctx.spec, ctx.store)
    agreement = [
        (a.labeler, a.answers, a.agreed, a.share) for a in labeler_agreement(answers, decisions)
    ]
    path = ctx.spec.output.dir / "report.html"
    if path.exists() and key(ctx.spec, "report.html") not in owned(ctx.store):
        raise YamlsetError(f"{path} exists and was not written by yamlset; move it away")
    first, last = ctx.store.db.execute(
        "SELECT MIN(submitted), MAX(submitted) FROM answers WHERE backend = ?",
        (label.key(ctx.spec),),
    ).fetchone()
    elapsed = None if first is None else last - first
    report.write_report(
        path, spec=ctx.spec, rows=rows, agreement=agreement, spend=spend, elapsed_s=elapsed
    )
    with ctx.store.tx() as db:
        db.execute(
            "INSERT OR REPLACE INTO exported VALUES (?, '', '', '')",
            (key(ctx.spec, "report.html"),),
        )
