"""Polite, bounded HTTP downloads: one keep-alive session, size caps, retries with backoff."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter

from yamlset import __version__
from yamlset.errors import YamlsetError

PROJECT_URL = "https://github.com/yamlset/yamlset"
MAX_RETRY_AFTER_S = 60.0  # a host asking for longer is treated as asking for this
_BACKOFF_BASE_S = 0.5
_BACKOFF_CAP_S = 30.0
_CHUNK = 256 * 1024
_RETRY_STATUSES = frozenset({408, 429})


class DownloadError(YamlsetError):
    """A URL gave no usable body; `reason` is one line for the state and the report."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Fetched:
    data: bytes
    content_type: str  # as the server said; decoding decides what the bytes are
    final_url: str  # after redirects


class _Retry(Exception):
    """One attempt failed in a way worth trying again (after `wait_s`, if the host said)."""

    def __init__(self, reason: str, wait_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait_s = wait_s


def user_agent(contact: str | None) -> str:
    """The User-Agent naming yamlset and the user's contact, as Wikimedia's policy asks."""
    tail = f"; {contact}" if contact else ""
    return f"yamlset/{__version__} (+{PROJECT_URL}{tail})"


def make_session(contact: str | None, *, pool_size: int) -> requests.Session:
    """A keep-alive session with yamlset's User-Agent and room for `pool_size` connections
    per host (one per download thread, so threads never wait for a free connection)."""
    session = requests.Session()
    session.headers["User-Agent"] = user_agent(contact)
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def fetch(
    session: requests.Session,
    url: str,
    *,
    max_bytes: int,
    timeout: float,
    retries: int,
    sleep: Callable[[float], None] = time.sleep,
) -> Fetched:
    """Download `url` whole, or raise DownloadError.

    `timeout` bounds connecting and each read. Bodies past `max_bytes` are abandoned
    as soon as they pass it. Connection errors, timeouts, 408, 429 and 5xx are retried
    up to `retries` times with exponential backoff and jitter (or the host's Retry-After,
    capped at MAX_RETRY_AFTER_S); other answers fail at once.
    """
    for attempt in range(retries + 1):
        try:
            return _fetch_once(session, url, max_bytes=max_bytes, timeout=timeout)
        except _Retry as e:
            if attempt == retries:
                tries = "try" if retries == 0 else "tries"
                raise DownloadError(f"{e.reason} (after {retries + 1} {tries})") from None
            sleep(e.wait_s if e.wait_s is not None else _backoff(attempt))
    raise AssertionError("unreachable")  # the loop returns or raises


def _backoff(attempt: int) -> float:
    # Full jitter: threads that failed together do not retry together.
    return random.uniform(0.5, 1.0) * min(_BACKOFF_CAP_S, _BACKOFF_BASE_S * 2.0**attempt)


def _fetch_once(session: requests.Session, url: str, *, max_bytes: int, timeout: float) -> Fetched:
    try:
        with session.get(url, stream=True, timeout=(timeout, timeout)) as resp:
            _check_status(resp)
            length = _check_length(resp, max_bytes)
            data = _read_capped(resp, max_bytes, length)
            content_type = resp.headers.get("Content-Type", "")
            return Fetched(data, content_type, resp.url)
    except (requests.ConnectionError, requests.Timeout) as e:
        raise _Retry(_describe(e)) from None
    except requests.exceptions.ChunkedEncodingError as e:
        raise _Retry(f"broken transfer: {e}") from None
    except requests.TooManyRedirects:
        raise DownloadError("too many redirects") from None
    except requests.RequestException as e:  # bad URL, unsupported scheme, ...
        raise DownloadError(f"bad request: {e}") from None


def _check_status(resp: requests.Response) -> None:
    code = resp.status_code
    if code < 400:
        return
    if code in _RETRY_STATUSES or code >= 500:
        raise _Retry(f"HTTP {code}", _retry_after(resp.headers.get("Retry-After")))
    raise DownloadError(f"HTTP {code}")


def _check_length(resp: requests.Response, max_bytes: int) -> int | None:
    """The body's size when the headers tell it (None when they cannot), or DownloadError."""
    declared = resp.headers.get("Content-Length", "")
    # With Content-Encoding the header counts compressed bytes; the stream cap still holds.
    if not declared.isdigit() or resp.headers.get("Content-Encoding"):
        return None
    if int(declared) > max_bytes:
        raise DownloadError(f"too large: {int(declared)} bytes > collect.max_bytes {max_bytes}")
    return int(declared)


def _read_capped(resp: requests.Response, max_bytes: int, length: int | None) -> bytes:
    # With the length known, one read of exactly that size: the body arrives in one
    # buffer with no joining copy (a 1 MB photo otherwise takes four reads and three
    # copies). One byte more asks the server for nothing but tells a longer body apart.
    size = _CHUNK if length is None else max(1, length + 1)
    chunks: list[bytes] = []
    total = 0
    for chunk in resp.iter_content(size):
        chunks.append(chunk)
        total += len(chunk)
        if total > max_bytes:
            raise DownloadError(f"too large: over collect.max_bytes {max_bytes} bytes")
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_S)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max(0.0, when.timestamp() - time.time()), MAX_RETRY_AFTER_S)


def _describe(e: requests.RequestException) -> str:
    if isinstance(e, requests.Timeout) or "timed out" in str(e).lower():
        return "timed out"
    return "connection failed"
