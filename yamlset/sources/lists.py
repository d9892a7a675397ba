"""Candidates a class lists itself: a file of URLs, or a folder of local images."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from yamlset.errors import YamlsetError
from yamlset.sources.base import Candidate

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".jfif"}
)


def read_urls(path: Path) -> Iterator[Candidate]:
    """One URL a line; blank lines and `#` comments are skipped; rank is the line's order."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlsetError(f"{path}: cannot read URL list: {exc}") from None
    rank = 0
    for number, line in enumerate(text.splitlines(), start=1):
        # a comment is a whole line starting with `#`, or ` #` after the URL
        # (a bare `#` inside a URL is a fragment, not a comment)
        url = line.split(" #", 1)[0].strip()
        if not url or url.startswith("#"):
            continue
        if not url.startswith(("http://", "https://")):
            raise YamlsetError(f"{path}:{number}: not an http(s) URL: {url[:80]}")
        yield Candidate(url=url, source="urls", rank=rank, page_url=url)
        rank += 1


def read_folder(path: Path) -> Iterator[Candidate]:
    """Image files below `path`, recursively, in a stable order. Decoding decides later."""
    if not path.is_dir():
        raise YamlsetError(f"{path}: folder not found")
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    for rank, file in enumerate(files):
        uri = file.resolve().as_uri()
        yield Candidate(url=uri, source="folder", rank=rank, title=file.name)
