"""What every search source gives back, and the one interface it implements."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import requests

from yamlset.spec.model import CollectSpec, SourceSpec


@dataclass(frozen=True)
class Candidate:
    """One image a source proposes for a class: where it is and where it came from."""

    url: str  # what to download (may be a thumbnail sized for the target)
    source: str  # the source's registry name: "wikimedia", "urls", ...
    query: str = ""  # the query that found it ("" for lists and folders)
    rank: int = 0  # 0-based position in that query's results
    page_url: str = ""  # the human page about the image (file page, landing page)
    original_url: str = ""  # the full-size original, when `url` is a thumbnail
    title: str = ""
    license: str = ""  # short name, lower case: "cc0", "by", "by-sa", "pdm", "" unknown
    license_version: str = ""
    license_url: str = ""
    author: str = ""
    attribution: str = ""  # ready-to-print credit line
    width: int = 0  # as the source reports it, 0 unknown
    height: int = 0
    mime: str = ""
    sha1: str = ""  # as the source reports it (Commons does)


@dataclass(frozen=True)
class SearchContext:
    """What a source needs to run: the HTTP session (User-Agent set), settings, target size."""

    session: requests.Session
    collect: CollectSpec
    target_size: tuple[int, int]
    environ: dict[str, str]


class Source(Protocol):
    """A search service. Sources run queries; lists and folders ignore the query."""

    name: str
    needs_query: bool

    def search(
        self, spec: SourceSpec, query: str, limit: int, offset: int, ctx: SearchContext
    ) -> Iterator[Candidate]:
        """Yield up to `limit` candidates for `query`, skipping the first `offset` results.

        Raise yamlset.errors.SourceError when the source cannot go on for this
        run (blocked, rate-limited past its budget, answers it cannot parse).
        """
        ...
