"""Wikimedia Commons through the MediaWiki Action API: keyless, licensed, with checksums."""

from __future__ import annotations

import math
import re
import time
import warnings
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from typing import Any

import requests

from yamlset.errors import SourceError
from yamlset.sources import licenses
from yamlset.sources.base import Candidate, SearchContext
from yamlset.spec.model import SourceSpec

DEFAULT_API_URL = "https://commons.wikimedia.org/w/api.php"
BATCH = 50  # gsrlimit's ceiling for clients without the bot right
# Wikimedia only renders thumbnails at these widths; other widths are refused or throttled.
THUMB_STEPS = (20, 40, 60, 120, 250, 330, 500, 960, 1280, 1920, 3840)
_EXTMETADATA = "LicenseShortName|LicenseUrl|Artist|Credit|ImageDescription|AttributionRequired"
_MIN_LAG_PAUSE = 5.0  # the maxlag manual: wait at least 5 s after a lag error
_MAX_PROP_ROUNDS = 20  # imageinfo continuation inside one batch; guards against a loop
_THUMB_WIDTH = re.compile(r"/\d+px-(?=[^/]*$)")

Json = dict[str, Any]


def missing_contact(ctx: SearchContext) -> str | None:
    """The warning to show when requests would go out without a contact, else None."""
    if ctx.collect.contact or ctx.environ.get("YAMLSET_CONTACT"):
        return None
    return (
        "wikimedia: no contact in the User-Agent; Wikimedia may block such requests. "
        "Set collect.contact in the spec or the YAMLSET_CONTACT environment variable "
        "(an email address or a URL)."
    )


class Wikimedia:
    """Commons file search (namespace 6, bitmaps only), ranked as Commons ranks them."""

    name = "wikimedia"
    needs_query = True

    def __init__(self, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self._sleep = sleep

    def search(
        self, spec: SourceSpec, query: str, limit: int, offset: int, ctx: SearchContext
    ) -> Iterator[Candidate]:
        """Yield the results at positions [offset, offset + limit) that pass the license filter.

        Filtering drops candidates inside that window; it never widens the window, so a
        later run with a larger limit asks only for the positions it has not seen.
        """
        if warning := missing_contact(ctx):
            warnings.warn(warning, UserWarning, stacklevel=2)
        api_url = spec.api_url or DEFAULT_API_URL
        position, end = offset, offset + limit
        while position < end:
            pages, next_offset = self._batch(api_url, query, position, end - position, ctx)
            for rank, page in enumerate(pages, start=position):
                found = _candidate(page, query, rank, ctx.target_size)
                if found and licenses.allowed(found.license, ctx.collect.licenses):
                    yield found
            if next_offset is None or not pages:
                return
            position = next_offset

    def _batch(
        self, api_url: str, query: str, offset: int, wanted: int, ctx: SearchContext
    ) -> tuple[list[Json], int | None]:
        """One generator batch, its pages sorted by rank, and the offset of the next batch."""
        params = _params(query, offset, min(BATCH, wanted), ctx.target_size)
        pages: dict[int, Json] = {}
        extra: dict[str, str] = {}
        for _ in range(_MAX_PROP_ROUNDS):
            data = self._get(api_url, {**params, **extra}, ctx)
            for page in data.get("query", {}).get("pages", []):
                _merge(pages, page)
            follow = data.get("continue", {})
            # Without batchcomplete, imageinfo of this batch was cut short: ask for the rest.
            if data.get("batchcomplete") or not follow:
                break
            extra = {key: str(value) for key, value in follow.items()}
        ordered = sorted(pages.values(), key=lambda page: int(page.get("index", 0)))
        next_offset = follow.get("gsroffset")
        return ordered, None if next_offset is None else int(next_offset)

    def _get(self, api_url: str, params: dict[str, str], ctx: SearchContext) -> Json:
        failure, pause = "", 0.0
        for attempt in range(ctx.collect.retries + 1):
            if attempt:
                self._sleep(pause)
            try:
                response = ctx.session.get(api_url, params=params, timeout=ctx.collect.timeout)
            except requests.RequestException as exc:
                failure, pause = f"{type(exc).__name__} talking to {api_url}", _backoff(attempt)
                continue
            data, failure, pause = _read(response, attempt)
            if data is not None:
                return data
        raise SourceError(f"wikimedia: {failure}; gave up after {ctx.collect.retries + 1} tries")


def _params(query: str, offset: int, size: int, target: tuple[int, int]) -> dict[str, str]:
    return {
        "action": "query",
        "format": "json",
        "formatversion": "2",
        "generator": "search",
        "gsrsearch": f"{query} filetype:bitmap",
        "gsrnamespace": "6",
        "gsrlimit": str(size),
        "gsroffset": str(offset),
        "prop": "imageinfo",
        "iiprop": "url|size|mime|sha1|extmetadata",
        "iiextmetadatafilter": _EXTMETADATA,
        # Commons never upscales: for a smaller original, thumburl is the original itself.
        "iiurlwidth": str(max(target)),
        "maxlag": "5",
    }


def _read(response: requests.Response, attempt: int) -> tuple[Json | None, str, float]:
    """(data, "", 0) on success, or (None, why, pause) for an answer worth retrying."""
    wait = _retry_after(response)
    if response.status_code == 429 or response.status_code >= 500:
        return None, f"HTTP {response.status_code}", wait or _backoff(attempt)
    if response.status_code != 200:
        raise SourceError(f"wikimedia: HTTP {response.status_code}: {_snippet(response)}")
    try:
        data = response.json()
    except ValueError:
        raise SourceError(f"wikimedia: not JSON: {_snippet(response)}") from None
    error = data.get("error") if isinstance(data, dict) else None
    if error is None and isinstance(data, dict):
        return data, "", 0.0
    if isinstance(error, dict) and error.get("code") == "maxlag":
        return None, f"servers lagged ({error.get('info', '')})", max(wait, _MIN_LAG_PAUSE)
    info = error.get("info", error) if isinstance(error, dict) else data
    raise SourceError(f"wikimedia: {info}")


def _merge(pages: dict[int, Json], page: Json) -> None:
    """Add a page, or append the imageinfo that a continuation brought for a known one."""
    known = pages.get(page["pageid"])
    if known is None:
        pages[page["pageid"]] = dict(page)
    elif page.get("imageinfo"):
        known["imageinfo"] = [*known.get("imageinfo", []), *page["imageinfo"]]


def _candidate(page: Json, query: str, rank: int, target: tuple[int, int]) -> Candidate | None:
    infos = page.get("imageinfo") or []
    if not infos or "url" not in infos[0]:  # deleted or suppressed file
        return None
    info = infos[0]
    meta = info.get("extmetadata", {})
    license_url = _meta(meta, "LicenseUrl")
    short, version = licenses.normalise(_meta(meta, "LicenseShortName"), license_url)
    title = str(page.get("title", "")).removeprefix("File:")
    author = plain_text(_meta(meta, "Artist")) or plain_text(_meta(meta, "Credit"))
    return Candidate(
        url=_fit_url(info, target),
        source="wikimedia",
        query=query,
        rank=rank,
        page_url=info.get("descriptionurl", ""),
        original_url=info["url"],
        title=title,
        license=short,
        license_version=version,
        license_url=license_url,
        author=author,
        attribution=licenses.attribution(title, author, short, version, license_url),
        width=int(info.get("width", 0)),
        height=int(info.get("height", 0)),
        mime=info.get("mime", ""),
        sha1=info.get("sha1", ""),
    )


def _fit_url(info: Json, target: tuple[int, int]) -> str:
    """The smallest URL that still covers the target size (thumbnail or original).

    The API renders one width for the whole batch; a wide image needs a wider thumbnail
    to cover the target height, so its thumbnail URL is moved to a larger standard step.
    """
    original, thumb = str(info["url"]), info.get("thumburl")
    width, height = int(info.get("width", 0)), int(info.get("height", 0))
    if not thumb or not width or not height:
        return str(thumb or original)
    need = math.ceil(width * max(target[0] / width, target[1] / height))
    if int(info.get("thumbwidth", 0)) >= need:
        return str(thumb)
    step = next((s for s in THUMB_STEPS if s >= need), width)
    if step >= width:
        return original
    moved = _THUMB_WIDTH.sub(f"/{step}px-", str(thumb), count=1)
    return moved if moved != thumb else original


def _meta(meta: Json, key: str) -> str:
    entry = meta.get(key)
    return str(entry.get("value", "")) if isinstance(entry, dict) else ""


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(html: str) -> str:
    """The text of an HTML fragment (Commons' Artist and Credit), whitespace collapsed."""
    parser = _TextOnly()
    parser.feed(html)
    parser.close()
    return " ".join("".join(parser.parts).split())


def _retry_after(response: requests.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:  # absent, or an HTTP date: fall back to our own backoff
        return 0.0


def _backoff(attempt: int) -> float:
    return float(min(60, 2 ** (attempt + 1)))


def _snippet(response: requests.Response) -> str:
    return " ".join(response.text.split())[:200]


SOURCE = Wikimedia()
