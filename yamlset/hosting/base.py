"""The one interface every hosting backend implements, and the URL check they share."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

import requests

from yamlset.errors import YamlsetError
from yamlset.spec.model import HostingSpec


def not_hosted(name: str) -> bool:
    """The default `already`: nothing is known to be hosted."""
    return False


class Host(Protocol):
    """Where labelers' browsers fetch the resized images from."""

    name: str

    def target(self, spec: HostingSpec) -> str:
        """The identity of the destination, as stored in state; never holds secrets."""
        ...

    def publish(
        self,
        files: Iterable[Path],
        spec: HostingSpec,
        *,
        environ: Mapping[str, str],
        lifetime_s: int,
        already: Callable[[str], bool] = not_hosted,
    ) -> Iterator[tuple[Path, str]]:
        """Yield (file, url) for every file once it is available at the destination.

        Files are named by their content, so a name that `already` reports as
        hosted is not sent again; its URL is still yielded (a presigned URL
        is signed afresh), so callers can refresh what state holds.
        """
        ...

    def check(self, url: str, *, timeout: float = 10) -> None:
        """Raise YamlsetError unless `url` answers 200 with an image content type."""
        ...


def check_url(url: str, *, timeout: float = 10, session: requests.Session | None = None) -> None:
    """GET `url` (headers only) and raise a one-line YamlsetError unless it serves an image.

    GET rather than HEAD: a presigned S3 URL is signed for GET alone.
    """
    http = session or requests.Session()
    shown = redact(url)
    try:
        with http.get(url, timeout=timeout, stream=True) as response:
            status, kind = response.status_code, response.headers.get("Content-Type", "")
    except requests.RequestException as e:
        raise YamlsetError(f"image URL {shown} does not answer: {_cause(e)}") from None
    if status != 200:
        raise YamlsetError(
            f"image URL {shown} answered HTTP {status}, not 200: "
            "check that the images are there and readable without logging in"
        )
    if not kind.lower().startswith("image/"):
        raise YamlsetError(
            f"image URL {shown} answered with content type {kind or 'none'!r}, "
            "not an image: check the server's MIME types"
        )


def redact(url: str) -> str:
    """`url` without user info or query, which may carry credentials or signatures."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _cause(e: requests.RequestException) -> str:
    # requests nests the useful reason a few levels deep; its class name is short and clear
    if isinstance(e, requests.Timeout):
        return "timed out"
    if isinstance(e, requests.ConnectionError):
        return "connection failed"
    return type(e).__name__
