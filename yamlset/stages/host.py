"""Host: make each item's resized image reachable by labelers' browsers (S3, a static site)."""

from __future__ import annotations

from typing import Any

from yamlset import hosting, items
from yamlset.fsutil import shown
from yamlset.spec.model import Spec
from yamlset.stages.base import Change, Item, RunContext
from yamlset.state import Store

NAME = "host"


def config(spec: Spec) -> dict[str, Any]:
    h = spec.hosting
    return {"hosting": {"type": h.type, "target": _target(spec)}}


def _target(spec: Spec) -> str:
    if spec.hosting.type == "local":
        return "local"
    return hosting.get(spec.hosting.type).target(spec.hosting)


def urls(spec: Spec, store: Store) -> dict[str, str]:
    """Derived file name -> public URL at the spec's current hosting target."""
    rows = store.db.execute("SELECT file, url FROM hosted WHERE target=?", (_target(spec),))
    return dict(rows.fetchall())


def pending(spec: Spec, store: Store) -> list[Item]:
    if spec.hosting.type == "local":
        return []
    done = urls(spec, store)
    return [it for it in items.eligible(spec, store) if it.file.name not in done]


def changes(spec: Spec, store: Store, expected_new: int, estimate: bool) -> list[Change]:
    if spec.hosting.type == "local":
        return []
    total = len(pending(spec, store)) + expected_new
    if not total:
        return []
    verb = "upload" if spec.hosting.type == "s3" else "publish"
    return [Change("+", NAME, f"{verb} {total:,} images to {_target(spec)}", (), total, estimate)]


def run(ctx: RunContext) -> None:
    spec, store = ctx.spec, ctx.store
    if spec.hosting.type == "local":
        store.finish_stage(NAME, config(spec))
        return
    host = hosting.get(spec.hosting.type)
    target = host.target(spec.hosting)
    todo = pending(spec, store)
    done = set(urls(spec, store))
    # presigned URLs must outlive the pool that shows them; the files backend's pool is
    # outside our view, so there the spec's own url_lifetime applies
    toloka = spec.crowd.backend == "toloka"
    lifetime = spec.pool.expires_s if toloka else spec.hosting.url_lifetime_s
    published = host.publish(
        [it.file for it in todo],
        spec.hosting,
        environ=ctx.environ,
        lifetime_s=lifetime,
        already=lambda name: name in done,
    )
    for i, (file, url) in enumerate(published, start=1):
        with store.tx() as db:
            db.execute("INSERT OR REPLACE INTO hosted VALUES (?, ?, ?)", (file.name, target, url))
        ctx.progress.advance("host", i, len(todo))
    if spec.hosting.type == "static" and todo:
        ctx.progress.message(
            f"  copy the resized images in {shown(store.derived_dir)} to {spec.hosting.base_url} "
            "before labeling starts"
        )
    # Toloka shows labelers these URLs the moment the pool opens: make sure one answers
    # first. With the files backend the user uploads the tasks by hand, later.
    sample = next(iter(urls(spec, store).values()), None)
    if sample is not None and spec.crowd.backend == "toloka":
        host.check(sample)
    store.finish_stage(NAME, config(spec))
