"""Google Programmable Search (Custom Search JSON API), image mode: needs a key and an engine id.

Results carry no license, so with a `collect.licenses` filter this source finds nothing
and spends no quota trying.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import requests

from yamlset.errors import SourceError
from yamlset.sources import licenses
from yamlset.sources.base import Candidate, SearchContext
from yamlset.spec.model import SourceSpec

DEFAULT_API_URL = "https://www.googleapis.com/customsearch/v1"
PAGE_SIZE = 10  # `num` may not exceed 10
MAX_RESULTS = 100  # the API answers no result past the 100th (start + num <= 101)

Json = dict[str, Any]


class Google:
    """Custom Search image results; the key comes from GOOGLE_API_KEY, cx from GOOGLE_CSE_ID."""

    name = "google"
    needs_query = True

    def search(
        self, spec: SourceSpec, query: str, limit: int, offset: int, ctx: SearchContext
    ) -> Iterator[Candidate]:
        """Yield the results at positions [offset, offset + limit), never past the 100th."""
        if ctx.collect.licenses:
            return
        key, cx = _credentials(ctx)
        api_url = spec.api_url or DEFAULT_API_URL
        position, end = offset, min(offset + limit, MAX_RESULTS)
        while position < end:
            count = min(PAGE_SIZE, end - position)
            params = {"key": key, "cx": cx, "q": query, "searchType": "image"}
            params |= {"num": str(count), "start": str(position + 1)}  # start is 1-based
            data = _get(api_url, params, key, ctx)
            items = data.get("items") or []
            for rank, item in enumerate(items[:count], start=position):
                if item.get("link"):
                    yield _candidate(item, query, rank)
            position += count
            if len(items) < count or not data.get("queries", {}).get("nextPage"):
                return


def _credentials(ctx: SearchContext) -> tuple[str, str]:
    key, cx = ctx.environ.get("GOOGLE_API_KEY", ""), ctx.environ.get("GOOGLE_CSE_ID", "")
    if not key or not cx:
        raise SourceError(
            "source 'google' needs GOOGLE_API_KEY (an API key with the Custom Search API "
            "enabled) and GOOGLE_CSE_ID (the search engine's id) in the environment"
        )
    return key, cx


def _get(api_url: str, params: dict[str, str], key: str, ctx: SearchContext) -> Json:
    try:
        response = ctx.session.get(api_url, params=params, timeout=ctx.collect.timeout)
    except requests.RequestException as exc:
        # The exception's text holds the URL, and the URL holds the key: name the type only.
        raise SourceError(f"google: {type(exc).__name__} talking to {api_url}") from None
    if response.status_code != 200:
        message = _message(response).replace(key, "***")
        raise SourceError(f"google: HTTP {response.status_code}: {message}")
    try:
        data = response.json()
    except ValueError:
        raise SourceError("google: the answer is not JSON") from None
    if not isinstance(data, dict):
        raise SourceError("google: unexpected answer (not a JSON object)")
    return data


def _message(response: requests.Response) -> str:
    try:
        error = response.json().get("error", {})
    except (ValueError, AttributeError):
        return " ".join(response.text.split())[:200]
    return str(error.get("message", "")) if isinstance(error, dict) else str(error)


def _candidate(item: Json, query: str, rank: int) -> Candidate:
    image = item.get("image") or {}
    title = str(item.get("title") or "")
    return Candidate(
        url=item["link"],
        source="google",
        query=query,
        rank=rank,
        page_url=image.get("contextLink") or "",
        original_url=item["link"],
        title=title,
        attribution=licenses.attribution(title, "", "", "", ""),
        width=int(image.get("width") or 0),
        height=int(image.get("height") or 0),
        mime=str(item.get("mime") or ""),
    )


SOURCE = Google()
