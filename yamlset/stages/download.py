"""Download: fetch every candidate once into the content-addressed cache, deriving as it goes.

Deriving here (in the same pass, in worker processes) means each original is
decoded once while it is hot; the resize stage only derives what is missing.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote, urlparse

from yamlset import pipeline
from yamlset.download import make_session
from yamlset.fsutil import write_atomic
from yamlset.pipeline import Job, Result, derive_cached, fetch_and_derive
from yamlset.spec.model import CollectSpec, Spec
from yamlset.stages.base import Change, RunContext, params_key
from yamlset.state import Store

NAME = "download"
ANY_FORMAT = ("jpeg", "mpo", "png", "webp", "gif", "bmp", "tiff", "ico", "ppm")


def permissive(collect: CollectSpec) -> CollectSpec:
    """Filters are applied at planning time from stored sizes, so the workers keep everything
    they can decode and a later change of `min_side` needs no download."""
    return replace(collect, min_side=0, max_aspect=1e9, formats=ANY_FORMAT)


def pending(store: Store) -> tuple[list[str], int]:
    """URLs still to fetch, and how many of them failed before (to be retried)."""
    rows = store.db.execute(
        "SELECT DISTINCT c.url, d.status FROM candidates c LEFT JOIN downloads d ON d.url = c.url "
        "WHERE d.status IS NULL OR d.status = 'failed' ORDER BY c.id"
    ).fetchall()
    return [u for u, _ in rows], sum(1 for _, s in rows if s == "failed")


def changes(spec: Spec, store: Store, expected_new: int, estimate: bool) -> list[Change]:
    urls, retry = pending(store)
    total = len(urls) + expected_new
    if not total:
        return []
    reasons = (f"{retry:,} failed before and will be retried",) if retry else ()
    action = ">" if store.db.execute("SELECT 1 FROM downloads LIMIT 1").fetchone() else "+"
    return [Change(action, NAME, f"download {total:,} images", reasons, total, estimate)]


def sweep(store: Store) -> int:
    """Remove the temporary files a killed run left behind (every write goes through a dot
    file then os.replace, so a dot file is always an unfinished write). Apply holds the lock."""
    swept = 0
    for folder in (store.cache_dir, store.derived_dir):
        if folder.is_dir():
            for tmp in folder.rglob(".*"):
                if tmp.is_file():
                    tmp.unlink(missing_ok=True)
                    swept += 1
    return swept


def run(ctx: RunContext) -> None:
    sweep(ctx.store)
    urls, _ = pending(ctx.store)
    web = [u for u in urls if not u.startswith("file:")]
    local = [u for u in urls if u.startswith("file:")]
    done = 0
    total = len(urls)
    for result in _local(ctx, local):
        _record(ctx, result)
        done += 1
        ctx.progress.advance("download", done, total)
    if web:
        contact = ctx.spec.collect.contact or ctx.environ.get("YAMLSET_CONTACT")
        session = make_session(contact, pool_size=ctx.spec.collect.threads)
        results = fetch_and_derive(
            (Job(u, u) for u in web),
            cache_dir=ctx.store.cache_dir,
            derived_dir=ctx.store.derived_dir,
            image=ctx.spec.image,
            collect=permissive(ctx.spec.collect),
            session=session,
        )
        for result in results:
            _record(ctx, result)
            done += 1
            ctx.progress.advance("download", done, total)
    ctx.progress.advance("download", total, total)
    failed = ctx.store.db.execute("SELECT COUNT(*) FROM downloads WHERE status='failed'")
    n_failed = failed.fetchone()[0]
    if n_failed:
        ctx.progress.message(
            f"[yellow]! {n_failed:,} downloads failed; `yamlset show` lists why, "
            "and the next apply retries them"
        )


def _local(ctx: RunContext, uris: list[str]) -> Iterator[Result]:
    """Folder images: copied into the cache like downloads, then derived in worker processes."""
    staged: list[tuple[str, Path]] = []
    keys: dict[str, str] = {}
    for uri in uris:
        path = Path(unquote(urlparse(uri).path))
        try:
            data = path.read_bytes()
        except OSError as exc:
            yield Result(
                uri, uri, False, f"cannot read {path}: {exc.strerror}", None, None, None, None, 0
            )
            continue
        sha = hashlib.sha256(data).hexdigest()
        cached = cache_path(ctx.store, sha)
        if not cached.exists():
            write_atomic(cached, data)
        staged.append((sha, cached))
        keys.setdefault(sha, uri)
        if keys[sha] != uri:  # same bytes under another name: record it without deriving again
            yield Result(uri, uri, True, None, sha, cached, None, None, len(data))
    if staged:
        for result in derive_cached(
            dict(staged).items(),
            derived_dir=ctx.store.derived_dir,
            image=ctx.spec.image,
            collect=permissive(ctx.spec.collect),
        ):
            uri = keys[result.key]
            yield replace(result, key=uri, url=uri)


def cache_path(store: Store, sha: str) -> Path:
    return pipeline.cache_path(store.cache_dir, sha)


def _record(ctx: RunContext, r: Result) -> None:
    """One download's outcome in one transaction."""
    now = time.time()
    with ctx.store.tx() as db:
        if r.sha256 is None:
            db.execute(
                "INSERT OR REPLACE INTO downloads VALUES (?, 'failed', NULL, 0, ?, ?)",
                (r.url, r.error, now),
            )
            return
        record_derived(db, ctx.spec, r)
        status = "ok" if r.ok or r.derived is not None or _known(db, r.sha256) else "rejected"
        db.execute(
            "INSERT OR REPLACE INTO downloads VALUES (?, ?, ?, ?, ?, ?)",
            (r.url, status, r.sha256, r.bytes, None if status == "ok" else r.error, now),
        )


def _known(db: sqlite3.Connection, sha: str) -> bool:
    row = db.execute("SELECT rejected FROM originals WHERE sha256=?", (sha,)).fetchone()
    return row is not None and row[0] is None


def record_derived(db: sqlite3.Connection, spec: Spec, r: Result) -> None:
    """Store what decoding an original taught: its size and hash, and the derived file."""
    assert r.sha256 is not None
    execute = db.execute
    d = r.derived
    if d is None:
        if r.error and not _known(db, r.sha256):
            execute(
                "INSERT OR REPLACE INTO originals (sha256, format, width, height, bytes, rejected) "
                "VALUES (?, '', 0, 0, ?, ?)",
                (r.sha256, r.bytes, r.error),
            )
        return
    execute(
        "INSERT INTO originals (sha256, format, width, height, bytes, phash) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) DO UPDATE SET format=excluded.format, "
        "width=excluded.width, height=excluded.height, phash=excluded.phash, rejected=NULL",
        (r.sha256, d.format.lower(), d.width, d.height, r.bytes, d.phash),
    )
    if r.derived_path is not None:
        execute(
            "INSERT OR REPLACE INTO derived VALUES (?, ?, ?, NULL)",
            (r.sha256, params_key(spec), r.derived_path.name),
        )
