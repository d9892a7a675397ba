"""Resize: derive every original for the current image settings, then merge near-duplicates.

Deriving reads the cache of originals, so a new `image.size` needs no download.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from yamlset.pipeline import derive_cached
from yamlset.spec.model import Spec
from yamlset.stages.base import Change, RunContext, params_key
from yamlset.stages.download import cache_path, permissive, record_derived, sweep
from yamlset.state import Store

NAME = "resize"


def config(spec: Spec) -> dict[str, Any]:
    im = spec.image
    return {
        "image": {
            "size": list(im.size),
            "fit": im.fit,
            "format": im.format,
            "quality": im.quality,
            "background": im.background,
        },
        "collect": {"dedupe": spec.collect.dedupe, "dedupe_distance": spec.collect.dedupe_distance},
    }


def pending(spec: Spec, store: Store) -> list[str]:
    rows = store.db.execute(
        "SELECT o.sha256 FROM originals o WHERE o.rejected IS NULL AND NOT EXISTS "
        "(SELECT 1 FROM derived d WHERE d.sha256 = o.sha256 AND d.params = ?) ORDER BY o.sha256",
        (params_key(spec),),
    )
    return [r[0] for r in rows]


def changes(
    spec: Spec, store: Store, expected_new: int, estimate: bool, reasons: Sequence[str]
) -> list[Change]:
    todo = len(pending(spec, store))
    total = todo + expected_new
    if not total and not reasons:
        return []
    action = "~" if reasons else ("+" if not store.stage_config(NAME) else ">")
    subject = (
        f"resize {total:,} images to {spec.image.size[0]}x{spec.image.size[1]} "
        f"({spec.image.fit}, {spec.image.format})"
    )
    if not total:
        subject = f"dedupe again ({spec.collect.dedupe})"
    return [Change(action, NAME, subject, tuple(reasons), total, estimate)]


def run(ctx: RunContext) -> None:
    spec, store = ctx.spec, ctx.store
    sweep(store)
    todo = pending(spec, store)
    for i, result in enumerate(
        derive_cached(
            ((sha, cache_path(store, sha)) for sha in todo),
            derived_dir=store.derived_dir,
            image=spec.image,
            collect=permissive(spec.collect),
        ),
        start=1,
    ):
        with store.tx() as db:
            if result.derived is None:
                db.execute(
                    "INSERT OR REPLACE INTO derived VALUES (?, ?, NULL, ?)",
                    (result.key, params_key(spec), result.error or "could not derive"),
                )
            else:
                record_derived(db, spec, result)
        ctx.progress.advance("resize", i, len(todo))
    merged = dedupe(spec, store)
    if merged:
        ctx.progress.message(f"  {merged:,} near-duplicate images merged into others")
    store.finish_stage(NAME, config(spec))


def dedupe(spec: Spec, store: Store) -> int:
    """Merge near-duplicates (pHash within `dedupe_distance`) into the largest image of each
    cluster; returns how many originals were merged away. Exact duplicates are already one
    item, since items are keyed by the hash of their bytes."""
    rows = store.db.execute(
        "SELECT sha256, phash, width * height FROM originals "
        "WHERE rejected IS NULL AND phash IS NOT NULL ORDER BY sha256"
    ).fetchall()
    parent = {sha: sha for sha, _, _ in rows}
    distance: dict[str, int] = {}
    if spec.collect.dedupe == "perceptual" and len(rows) > 1:
        hashes = np.array([int(h, 16) for _, h, _ in rows], dtype=np.uint64)
        pixels = {sha: px for sha, _, px in rows}
        for i, j, d in _close_pairs(hashes, spec.collect.dedupe_distance):
            a, b = _root(parent, rows[i][0]), _root(parent, rows[j][0])
            if a == b:
                continue
            # keep the larger image; the smaller hash breaks ties so reruns agree
            keep, drop = sorted((a, b), key=lambda s: (-pixels[s], s))
            parent[drop] = keep
            distance[drop] = int(d)
    with store.tx() as db:
        db.execute("UPDATE originals SET duplicate_of=NULL, distance=NULL")
        merged = [
            (_root(parent, sha), distance.get(sha), sha)
            for sha in parent
            if _root(parent, sha) != sha
        ]
        db.executemany("UPDATE originals SET duplicate_of=?, distance=? WHERE sha256=?", merged)
    return len(merged)


def _root(parent: dict[str, str], sha: str) -> str:
    while parent[sha] != sha:
        parent[sha] = parent[parent[sha]]
        sha = parent[sha]
    return sha


def _close_pairs(hashes: np.ndarray[Any, Any], limit: int) -> list[tuple[int, int, int]]:
    """Index pairs (i < j) whose 64-bit hashes differ in at most `limit` bits, blockwise so
    memory stays flat for tens of thousands of images."""
    out: list[tuple[int, int, int]] = []
    block = 2048
    for start in range(0, len(hashes), block):
        chunk = hashes[start : start + block]
        dist = np.bitwise_count(chunk[:, None] ^ hashes[None, :])
        ii, jj = np.nonzero(dist <= limit)
        for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
            if start + i < j:
                out.append((start + i, j, int(dist[i, j])))
    return out
