"""Shared builders for the source tests: a context like the collect stage makes one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import requests

from yamlset.sources.base import SearchContext
from yamlset.spec.model import CollectSpec

USER_AGENT = "yamlset/0.1 (tests; mailto:test@example.org)"


class Sleeps(list[float]):
    """Records the pauses a source asked for instead of waiting them out."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        s.headers["User-Agent"] = USER_AGENT
        yield s


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def context(
    session: requests.Session,
    *,
    environ: dict[str, str] | None = None,
    target: tuple[int, int] = (299, 299),
    **collect: Any,
) -> SearchContext:
    spec = replace(CollectSpec(contact="test@example.org", timeout=5.0), **collect)
    return SearchContext(session, spec, target, dict(environ or {}))
