"""Queries over the state that several stages share: which images are items, and their story."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

from yamlset.spec.model import Spec
from yamlset.stages.base import Item, params_key
from yamlset.state import Store


def eligible(spec: Spec, store: Store) -> list[Item]:
    """Distinct, decodable originals that pass the spec's filters and have a derived image.

    Filters are applied here, from the stored size and format, rather than at
    download time, so loosening `min_side` brings images back without a download.
    """
    classes = item_classes(store)
    wanted = set(spec.class_keys)
    rows = store.db.execute(
        "SELECT o.sha256, d.file, o.width, o.height, o.format FROM originals o "
        "JOIN derived d ON d.sha256 = o.sha256 AND d.params = ? AND d.file IS NOT NULL "
        "WHERE o.rejected IS NULL AND o.duplicate_of IS NULL ORDER BY o.sha256",
        (params_key(spec),),
    )
    items = []
    for sha, file, width, height, fmt in rows:
        if filtered_out(width, height, fmt, spec) is not None:
            continue
        found_for = tuple(sorted(classes.get(sha, set()) & wanted))
        if not found_for:
            continue  # found only for a class the spec no longer has
        items.append(Item(sha, store.derived_dir / file, width, height, found_for))
    return items


def filtered_out(width: int, height: int, fmt: str, spec: Spec) -> str | None:
    """Why the collect filters drop an original of this size and format, or None."""
    c = spec.collect
    short, long = min(width, height), max(width, height)
    if short < c.min_side:
        return f"smaller than min_side {c.min_side} ({width}x{height})"
    if short and long / short > c.max_aspect:
        return f"aspect ratio {long / short:.1f} over max_aspect {c.max_aspect}"
    if fmt.lower() not in c.formats:
        return f"format {fmt} not in collect.formats"
    return None


def item_classes(store: Store) -> dict[str, set[str]]:
    """sha256 -> the classes whose candidates produced it, following merged duplicates."""
    canonical = dict(
        store.db.execute(
            "SELECT sha256, duplicate_of FROM originals WHERE duplicate_of IS NOT NULL"
        ).fetchall()
    )
    found: dict[str, set[str]] = defaultdict(set)
    rows = store.db.execute(
        "SELECT DISTINCT d.sha256, c.class FROM candidates c "
        "JOIN downloads d ON d.url = c.url WHERE d.status = 'ok'"
    )
    for sha, cls in rows:
        found[canonical.get(sha, sha)].add(cls)
    return found


@dataclass(frozen=True)
class Provenance:
    """Where an item came from, for the manifest and the attribution file."""

    url: str
    page_url: str
    source: str
    query: str
    rank: int
    license: str
    license_url: str
    author: str
    attribution: str
    merged: tuple[str, ...]  # "URL (why)" of every other URL merged into this item


def provenance(store: Store) -> dict[str, Provenance]:
    """sha256 -> the best-ranked candidate that produced it (licensed sources first), with
    every other URL merged into it and why: the same bytes, or a near-duplicate."""
    merged_into = {
        sha: (keep, distance)
        for sha, keep, distance in store.db.execute(
            "SELECT sha256, duplicate_of, distance FROM originals WHERE duplicate_of IS NOT NULL"
        )
    }
    rows = store.db.execute(
        "SELECT d.sha256, c.url, c.page_url, c.source, c.query, c.rank, c.license, "
        "c.license_url, c.author, c.attribution FROM candidates c "
        "JOIN downloads d ON d.url = c.url WHERE d.status = 'ok' "
        "ORDER BY (c.license = ''), c.rank, c.id"
    )
    best: dict[str, Provenance] = {}
    others: dict[str, dict[str, str]] = defaultdict(dict)
    for sha, url, page, source, query, rank, lic, lic_url, author, attribution in rows:
        keep, distance = merged_into.get(sha, (sha, None))
        why = "same image" if distance is None else f"near-duplicate, pHash distance {distance}"
        others[keep].setdefault(url, why)
        if keep not in best and sha == keep:
            best[keep] = Provenance(
                url, page, source, query, rank, lic, lic_url, author, attribution, ()
            )
    return {
        key: replace(
            prov,
            merged=tuple(f"{u} ({why})" for u, why in others[key].items() if u != prov.url),
        )
        for key, prov in best.items()
    }
