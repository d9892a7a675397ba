"""Collect: turn each class's URL lists, folders and search queries into candidates."""

from __future__ import annotations

import hashlib
import warnings
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from yamlset import sources
from yamlset.download import make_session
from yamlset.errors import SourceError, YamlsetError
from yamlset.sources.base import Candidate, SearchContext
from yamlset.sources.lists import read_folder, read_urls
from yamlset.spec.model import ClassSpec, Spec
from yamlset.stages.base import Change, RunContext
from yamlset.state import Store

NAME = "collect"


@dataclass(frozen=True)
class Survey:
    """What the spec's own inputs list, read once before planning (plan itself does no I/O)."""

    listed: dict[str, tuple[Candidate, ...]]  # class -> candidates from urls files and folders
    fingerprints: dict[str, str]  # class -> hash of its listed URLs, for change detection


def survey(spec: Spec) -> Survey:
    listed: dict[str, tuple[Candidate, ...]] = {}
    prints: dict[str, str] = {}
    for cls in spec.classes:
        found: list[Candidate] = []
        if cls.urls is not None:
            found.extend(read_urls(cls.urls))
        if cls.folder is not None:
            found.extend(read_folder(cls.folder))
        listed[cls.key] = tuple(found)
        prints[cls.key] = hashlib.sha256("\n".join(c.url for c in found).encode()).hexdigest()[:16]
    return Survey(listed, prints)


def config(spec: Spec, survey: Survey) -> dict[str, Any]:
    return {
        "classes": {
            c.key: {"queries": list(c.queries), "listed": survey.fingerprints[c.key]}
            for c in spec.classes
        },
        "sources": [s.type for s in spec.collect.sources],
        "per_query": spec.collect.per_query,
        "licenses": list(spec.collect.licenses),
    }


def searches(spec: Spec) -> list[tuple[str, str, str, int]]:
    """(class, source, query, results wanted) for every search the spec asks for."""
    wanted = []
    for cls in spec.classes:
        for query in cls.queries:
            for src in spec.collect.sources:
                wanted.append((cls.key, src.type, query, src.per_query or spec.collect.per_query))
    return wanted


def changes(spec: Spec, store: Store, survey: Survey) -> list[Change]:
    done = {
        (c, s, q): (fetched, bool(exhausted))
        for c, s, q, fetched, exhausted in store.db.execute(
            "SELECT class, source, query, fetched, exhausted FROM searches"
        )
    }
    known = {cls: set(urls) for cls, urls in _known_urls(store).items()}
    out: list[Change] = []
    for cls in spec.classes:
        new_listed = [c for c in survey.listed[cls.key] if c.url not in known.get(cls.key, set())]
        if new_listed:
            what = _listed_origin(cls.urls is not None, cls.folder is not None)
            out.append(
                Change(
                    "+",
                    NAME,
                    f"{cls.key}: {len(new_listed):,} candidates {what}",
                    count=len(new_listed),
                )
            )
        pending = []
        total = 0
        for c, src, query, want in searches(spec):
            if c != cls.key:
                continue
            fetched, exhausted = done.get((c, src, query), (0, False))
            if not exhausted and fetched < want:
                pending.append(f"{src}: {query!r} results {fetched + 1}-{want}")
                total += want - fetched
        if pending:
            action = ">" if any((cls.key, s, q) in done for _, s, q, _ in searches(spec)) else "+"
            out.append(
                Change(
                    action,
                    NAME,
                    f"{cls.key}: {len(pending)} searches ({_queries_by_sources(spec, cls)}), "
                    f"up to {total:,} results",
                    _license_blind(spec),
                    count=total,
                    estimate=True,
                    details=tuple(pending),
                )
            )
    return out


def _queries_by_sources(spec: Spec, cls: ClassSpec) -> str:
    q, s = len(cls.queries), len(spec.collect.sources)
    return f"{q} quer{'y' if q == 1 else 'ies'} x {s} source{'' if s == 1 else 's'}"


# sources whose results carry no license: a license filter leaves nothing of them
_NO_LICENSE = ("google", "ddg")


def _license_blind(spec: Spec) -> tuple[str, ...]:
    blind = [s.type for s in spec.collect.sources if s.type in _NO_LICENSE]
    if not spec.collect.licenses or not blind:
        return ()
    return (f"{', '.join(blind)} report no license: with collect.licenses set they add nothing",)


def _listed_origin(urls: bool, folder: bool) -> str:
    return (
        "listed in its URL file and folder"
        if urls and folder
        else ("listed in its URL file" if urls else "in its folder")
    )


def _known_urls(store: Store) -> dict[str, list[str]]:
    known: dict[str, list[str]] = {}
    for cls, url in store.db.execute("SELECT class, url FROM candidates"):
        known.setdefault(cls, []).append(url)
    return known


def run(ctx: RunContext, survey: Survey) -> None:
    spec, store = ctx.spec, ctx.store
    for cls in spec.classes:
        _insert(store, cls.key, survey.listed[cls.key])
    failed: dict[str, str] = {}
    per_source: Counter[str] = Counter()
    todo = searches(spec)
    if todo:
        for warning in _license_blind(spec):
            ctx.progress.message(f"[yellow]! {warning}")
        search_ctx = _search_context(ctx)
        for i, (cls_key, src_name, query, want) in enumerate(todo, start=1):
            ctx.progress.advance("search", i - 1, len(todo))
            if src_name in failed:
                continue
            try:
                per_source[src_name] += _search_one(
                    store, search_ctx, spec, cls_key, src_name, query, want
                )
            except SourceError as exc:
                failed[src_name] = str(exc)
                ctx.progress.message(f"[yellow]! source {src_name} stopped for this run: {exc}")
        ctx.progress.advance("search", len(todo), len(todo))
        for name in dict.fromkeys(s for _, s, _, _ in todo):
            state = "failed" if name in failed else "ok"
            ctx.progress.message(f"  {name}: {per_source[name]:,} new candidates ({state})")
    if (
        failed
        and len(failed) == len({s for _, s, _, _ in todo})
        and not store.db.execute("SELECT 1 FROM candidates LIMIT 1").fetchone()
    ):
        raise YamlsetError("every search source failed: " + "; ".join(failed.values()))
    if not failed:  # a failed source is retried by the next apply
        store.finish_stage(NAME, config(spec, survey))


def _search_context(ctx: RunContext) -> SearchContext:
    contact = ctx.spec.collect.contact or ctx.environ.get("YAMLSET_CONTACT")
    if contact is None and any(s.type == "wikimedia" for s in ctx.spec.collect.sources):
        ctx.progress.message(
            "[yellow]! no contact set: Wikimedia asks every client to name one in its "
            "User-Agent and may block those that don't; set collect.contact or YAMLSET_CONTACT"
        )
    session = make_session(contact, pool_size=4)
    return SearchContext(session, ctx.spec.collect, ctx.spec.image.size, dict(ctx.environ))


def _search_one(
    store: Store, sctx: SearchContext, spec: Spec, cls: str, src_name: str, query: str, want: int
) -> int:
    row = store.db.execute(
        "SELECT fetched, exhausted FROM searches WHERE class=? AND source=? AND query=?",
        (cls, src_name, query),
    ).fetchone()
    fetched, exhausted = (row[0], bool(row[1])) if row else (0, False)
    if exhausted or fetched >= want:
        return 0
    src_spec = next(s for s in spec.collect.sources if s.type == src_name)
    source = sources.get(src_name)
    got = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batch: list[Candidate] = []
        for cand in source.search(src_spec, query, want - fetched, fetched, sctx):
            batch.append(cand)
            if len(batch) >= 50:
                got += _commit_batch(store, cls, src_name, query, batch, fetched + got)
                batch = []
        got += _commit_batch(store, cls, src_name, query, batch, fetched + got)
    with store.tx() as db:
        db.execute(
            "UPDATE searches SET exhausted=? WHERE class=? AND source=? AND query=?",
            (int(fetched + got < want), cls, src_name, query),
        )
    return got


def _commit_batch(
    store: Store, cls: str, src: str, query: str, batch: list[Candidate], fetched: int
) -> int:
    """Candidates and the search's progress in one transaction: a kill loses no page twice."""
    with store.tx() as db:
        _insert_rows(db, cls, batch)
        db.execute(
            "INSERT INTO searches (class, source, query, fetched) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (class, source, query) DO UPDATE SET fetched=excluded.fetched",
            (cls, src, query, fetched + len(batch)),
        )
    return len(batch)


def _insert(store: Store, cls: str, cands: Iterable[Candidate]) -> None:
    with store.tx() as db:
        _insert_rows(db, cls, cands)


def _insert_rows(db: Any, cls: str, cands: Iterable[Candidate]) -> None:
    db.executemany(
        "INSERT OR IGNORE INTO candidates (class, source, query, rank, url, page_url, "
        "original_url, title, license, license_version, license_url, author, attribution, "
        "width, height, mime, sha1) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            (
                cls,
                c.source,
                c.query,
                c.rank,
                c.url,
                c.page_url,
                c.original_url,
                c.title,
                c.license,
                c.license_version,
                c.license_url,
                c.author,
                c.attribution,
                c.width,
                c.height,
                c.mime,
                c.sha1,
            )
            for c in cands
        ],
    )
