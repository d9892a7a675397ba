"""Openverse: openly licensed images from many collections, keyless or with client credentials."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urljoin

import requests

from yamlset.errors import SourceError
from yamlset.sources import licenses
from yamlset.sources.base import Candidate, SearchContext
from yamlset.spec.model import SourceSpec

DEFAULT_API_URL = "https://api.openverse.org/v1/images/"
ANONYMOUS_PAGE_SIZE = 20  # the API answers 401 to anonymous page_size above this
AUTHENTICATED_PAGE_SIZE = 100  # the API allows up to 500; smaller pages waste less on a stop
MAX_PAGE_SIZE = 500
MAX_PAGES = 20  # the API refuses deeper pages for everyone
MAX_WAIT = 30.0  # a 429 asking for a longer pause stops the source for this run
CODES = ("by", "by-sa", "by-nd", "by-nc", "by-nc-sa", "by-nc-nd", "cc0", "pdm")
_AVAILABLE = "x-ratelimit-available-"
_TOKEN_MARGIN = 60.0  # renew a token this long before the API says it expires
_MIME = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "bmp": "image/bmp",
    "tif": "image/tiff",
    "tiff": "image/tiff",
    "svg": "image/svg+xml",
}
_CREDENTIALS_HINT = "set OPENVERSE_CLIENT_ID and OPENVERSE_CLIENT_SECRET for a higher limit"

Json = dict[str, Any]


class Openverse:
    """Openverse image search; anonymous depth is 20 pages of 20, so 400 results a query."""

    name = "openverse"
    needs_query = True

    def __init__(
        self,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sleep = sleep
        self._clock = clock
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()

    def search(
        self, spec: SourceSpec, query: str, limit: int, offset: int, ctx: SearchContext
    ) -> Iterator[Candidate]:
        """Yield the results at positions [offset, offset + limit) that pass the license filter.

        With a license filter the API filters too, so positions count filtered results.
        """
        wanted = ctx.collect.licenses
        codes = [code for code in wanted if code in CODES]
        if wanted and not codes:  # none of the wanted licenses exists on Openverse
            return
        api_url = _slash(spec.api_url or DEFAULT_API_URL)
        headers = self._authorization(api_url, spec, ctx)
        size = _page_size(spec, authenticated=bool(headers))
        position, end = offset, min(offset + limit, size * MAX_PAGES)
        while position < end:
            page = position // size + 1
            params = {"q": query, "page": str(page), "page_size": str(size)}
            if codes:
                params["license"] = ",".join(codes)
            data, answer_headers = self._get(api_url, params, headers, ctx)
            results = data.get("results") or []
            for rank, item in enumerate(results, start=(page - 1) * size):
                if position <= rank < end and item.get("url"):
                    found = _candidate(item, query, rank)
                    if licenses.allowed(found.license, wanted):
                        yield found
            position = page * size
            if len(results) < size or page >= int(data.get("page_count") or 0):
                return
            if position < end:
                self._pace(answer_headers, authenticated=bool(headers))

    def _get(
        self, url: str, params: dict[str, str], headers: dict[str, str], ctx: SearchContext
    ) -> tuple[Json, Mapping[str, str]]:
        waited, failure, pause = False, "", 0.0
        for attempt in range(ctx.collect.retries + 1):
            if pause:
                self._sleep(pause)
            try:
                response = ctx.session.get(
                    url, params=params, headers=headers, timeout=ctx.collect.timeout
                )
            except requests.RequestException as exc:
                failure, pause = f"{type(exc).__name__} talking to {url}", _backoff(attempt)
                continue
            if response.status_code == 429:
                wait = _retry_after(response)
                if waited or wait is None or wait > MAX_WAIT:
                    raise SourceError(_throttled(response, wait, authenticated=bool(headers)))
                waited, pause, failure = True, wait, "rate limited (HTTP 429)"
                continue
            if response.status_code >= 500:
                failure, pause = f"HTTP {response.status_code}", _backoff(attempt)
                continue
            return _json(response), response.headers
        raise SourceError(f"openverse: {failure}; gave up after {ctx.collect.retries + 1} tries")

    def _pace(self, headers: Mapping[str, str], *, authenticated: bool) -> None:
        """Wait out a used-up short window; stop on a used-up long one instead of a 429."""
        for key, value in headers.items():
            if not key.lower().startswith(_AVAILABLE) or value.strip() != "0":
                continue
            scope = key[len(_AVAILABLE) :]
            rate = headers.get(f"X-RateLimit-Limit-{scope}", "")
            period = _period(rate)
            if period is not None and period <= 60:
                self._sleep(period)
                continue
            hint = "try again later" if authenticated else f"try again later or {_CREDENTIALS_HINT}"
            raise SourceError(f"openverse: rate limit {scope} ({rate or '?'}) used up; {hint}")

    def _authorization(self, api_url: str, spec: SourceSpec, ctx: SearchContext) -> dict[str, str]:
        client_id = ctx.environ.get("OPENVERSE_CLIENT_ID", "")
        secret = ctx.environ.get("OPENVERSE_CLIENT_SECRET", "")
        if not client_id and not secret:
            return {}
        if not client_id or not secret:
            raise SourceError(
                "openverse: set both OPENVERSE_CLIENT_ID and OPENVERSE_CLIENT_SECRET, or neither"
            )
        token_url = str(spec.option("token_url") or urljoin(api_url, "../auth_tokens/token/"))
        with self._lock:
            token, expires = self._tokens.get((token_url, client_id), ("", 0.0))
            if not token or self._clock() >= expires:
                token, lifetime = _fetch_token(token_url, client_id, secret, ctx)
                expires = self._clock() + lifetime - _TOKEN_MARGIN
                self._tokens[(token_url, client_id)] = (token, expires)
        return {"Authorization": f"Bearer {token}"}


def _fetch_token(url: str, client_id: str, secret: str, ctx: SearchContext) -> tuple[str, float]:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    try:
        response = ctx.session.post(url, data=form, timeout=ctx.collect.timeout)
    except requests.RequestException as exc:
        raise SourceError(f"openverse: {type(exc).__name__} getting a token at {url}") from None
    if response.status_code != 200:
        raise SourceError(
            f"openverse: OPENVERSE_CLIENT_ID/SECRET were refused "
            f"(HTTP {response.status_code}: {_detail(response)})"
        )
    data = _json(response)
    if not data.get("access_token"):
        raise SourceError("openverse: the token answer has no access_token")
    return str(data["access_token"]), float(data.get("expires_in") or 3600)


def _json(response: requests.Response) -> Json:
    if response.status_code in (401, 403):
        raise SourceError(
            f"openverse: HTTP {response.status_code}: {_detail(response)} "
            "(check OPENVERSE_CLIENT_ID/SECRET, or unset them to search anonymously)"
        )
    if response.status_code != 200:
        raise SourceError(f"openverse: HTTP {response.status_code}: {_detail(response)}")
    try:
        data = response.json()
    except ValueError:
        raise SourceError(f"openverse: not JSON: {response.text[:200]}") from None
    if not isinstance(data, dict):
        raise SourceError("openverse: unexpected answer (not a JSON object)")
    return data


def _candidate(item: Json, query: str, rank: int) -> Candidate:
    license_url = item.get("license_url") or ""
    short, version = licenses.normalise(item.get("license") or "", license_url)
    version = item.get("license_version") or version
    title, author = item.get("title") or "", item.get("creator") or ""
    credit = item.get("attribution") or licenses.attribution(
        title, author, short, version, license_url
    )
    return Candidate(
        url=item["url"],
        source="openverse",
        query=query,
        rank=rank,
        page_url=item.get("foreign_landing_url") or "",
        original_url=item["url"],
        title=title,
        license=short,
        license_version=version,
        license_url=license_url,
        author=author,
        attribution=credit,
        width=int(item.get("width") or 0),
        height=int(item.get("height") or 0),
        mime=_MIME.get(str(item.get("filetype") or "").lower(), ""),
    )


def _page_size(spec: SourceSpec, *, authenticated: bool) -> int:
    if not authenticated:
        return ANONYMOUS_PAGE_SIZE
    return max(1, min(int(spec.option("page_size", AUTHENTICATED_PAGE_SIZE)), MAX_PAGE_SIZE))


def _throttled(response: requests.Response, wait: float | None, *, authenticated: bool) -> str:
    when = f"try again after {_duration(wait)}" if wait is not None else "try again later"
    hint = "" if authenticated else f" or {_CREDENTIALS_HINT}"
    return f"openverse: rate limited ({_detail(response)}); {when}{hint}"


def _period(rate: str) -> float | None:
    """Seconds in the window of a rate written like "20/min" or "200/day"."""
    _, _, unit = rate.partition("/")
    return {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}.get(unit.strip()[:1].lower())


def _retry_after(response: requests.Response) -> float | None:
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return None


def _detail(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return " ".join(response.text.split())[:200] or f"HTTP {response.status_code}"
    if isinstance(data, dict):
        return str(data.get("detail") or data.get("error_description") or data.get("error") or data)
    return str(data)[:200]


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 120:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def _backoff(attempt: int) -> float:
    return float(min(60, 2 ** (attempt + 1)))


def _slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


SOURCE = Openverse()
