"""Hosting on any web server the user already has: yamlset only builds the URLs.

The user copies the resized images to the folder behind `base_url`; nothing
is uploaded from here, and `check` proves a sample answers before labeling.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from urllib.parse import quote

from yamlset.errors import YamlsetError
from yamlset.hosting.base import check_url, not_hosted, redact
from yamlset.spec.model import HostingSpec


class StaticHost:
    name = "static"

    def target(self, spec: HostingSpec) -> str:
        return redact(_base_url(spec))

    def publish(
        self,
        files: Iterable[Path],
        spec: HostingSpec,
        *,
        environ: Mapping[str, str],
        lifetime_s: int,
        already: Callable[[str], bool] = not_hosted,
    ) -> Iterator[tuple[Path, str]]:
        base = _base_url(spec)
        for file in files:
            yield file, base + quote(file.name)

    def check(self, url: str, *, timeout: float = 10) -> None:
        check_url(url, timeout=timeout)


def _base_url(spec: HostingSpec) -> str:
    if not spec.base_url:
        raise YamlsetError("hosting.base_url is required for hosting type static")
    # users write it either way; URLs are built by appending the file name
    return spec.base_url if spec.base_url.endswith("/") else spec.base_url + "/"
