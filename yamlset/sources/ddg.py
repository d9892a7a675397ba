"""DuckDuckGo image search through the optional `ddgs` package (pip install 'yamlset[ddg]').

DuckDuckGo has no public API: `ddgs` scrapes it, so results carry no license, the
endpoint cannot be replaced, and the service may refuse at any time.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from types import ModuleType
from typing import Any

from yamlset.errors import SourceError
from yamlset.sources import licenses
from yamlset.sources.base import Candidate, SearchContext
from yamlset.spec.model import SourceSpec

# (query, max_results) -> result dicts with title, image, thumbnail, url, width, height, source
SearchImages = Callable[[str, int], list[Mapping[str, Any]]]

_MAX_PAGES = 10
MISSING = "source 'ddg' needs the ddgs package: pip install 'yamlset[ddg]'"


class Ddg:
    """DuckDuckGo images; `search_images` replaces the ddgs call (for tests)."""

    name = "ddg"
    needs_query = True

    def __init__(
        self,
        *,
        search_images: SearchImages | None = None,
        import_module: Callable[[str], ModuleType] = importlib.import_module,
    ) -> None:
        self._search_images = search_images
        self._import_module = import_module

    def search(
        self, spec: SourceSpec, query: str, limit: int, offset: int, ctx: SearchContext
    ) -> Iterator[Candidate]:
        """Yield the results at positions [offset, offset + limit); nothing under a license filter.

        ddgs has no offset, so the first `offset` results are fetched again and skipped.
        """
        if ctx.collect.licenses:  # every result's license is unknown: all would be dropped
            return
        search_images = self._search_images or self._ddgs(spec, ctx)
        try:
            results = search_images(query, offset + limit)
        except Exception as exc:  # ddgs raises its own and any HTTP library's errors
            raise SourceError(f"ddg: {type(exc).__name__}: {exc}") from None
        for rank, result in enumerate(results[offset : offset + limit], start=offset):
            if result.get("image"):
                yield candidate(result, query, rank)

    def _ddgs(self, spec: SourceSpec, ctx: SearchContext) -> SearchImages:
        try:
            module = self._import_module("ddgs")
        except ImportError:
            raise SourceError(MISSING) from None
        region = str(spec.option("region", "wt-wt"))
        safesearch = str(spec.option("safesearch", "moderate"))
        timeout = int(ctx.collect.timeout)

        def search_images(query: str, count: int) -> list[Mapping[str, Any]]:
            client = module.DDGS(timeout=timeout)
            found: list[Mapping[str, Any]] = []
            seen: set[str] = set()
            # Older ddgs pages by itself up to max_results; newer returns one page a call.
            for page in range(1, _MAX_PAGES + 1):
                batch = client.images(
                    query,
                    region=region,
                    safesearch=safesearch,
                    page=page,
                    max_results=count,
                    backend="duckduckgo",
                )
                fresh = [r for r in batch or [] if r.get("image") and r["image"] not in seen]
                seen.update(str(r["image"]) for r in fresh)
                found.extend(fresh)
                if not fresh or len(found) >= count:
                    break
            return found[:count]

        return search_images


def candidate(result: Mapping[str, Any], query: str, rank: int) -> Candidate:
    """The Candidate for one ddgs image result (keys: title, image, url, width, height)."""
    title = str(result.get("title") or "")
    return Candidate(
        url=str(result["image"]),
        source="ddg",
        query=query,
        rank=rank,
        page_url=str(result.get("url") or ""),
        original_url=str(result["image"]),
        title=title,
        attribution=licenses.attribution(title, "", "", "", ""),
        width=_int(result.get("width")),
        height=_int(result.get("height")),
    )


def _int(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


SOURCE = Ddg()
