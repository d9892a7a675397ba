from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

import pytest
import requests

from tests.sources.conftest import context
from yamlset.errors import SourceError
from yamlset.sources import ddg
from yamlset.sources.ddg import Ddg
from yamlset.spec.model import SourceSpec

SPEC = SourceSpec("ddg")


def _result(i: int) -> dict[str, Any]:
    # the keys ddgs gives an image result
    return {
        "title": f"heron {i}",
        "image": f"https://img.example.org/{i}.jpg",
        "thumbnail": f"https://tse.example.org/th?id={i}",
        "url": f"https://example.org/page/{i}",
        "height": 600 + i,
        "width": "800",
        "source": "Bing",
    }


class Recorder:
    def __init__(self, results: list[dict[str, Any]]) -> None:
        self.results = results
        self.calls: list[tuple[str, int]] = []

    def __call__(self, query: str, count: int) -> list[Mapping[str, Any]]:
        self.calls.append((query, count))
        return list(self.results[:count])


def test_a_result_maps_to_a_candidate_with_an_unknown_license() -> None:
    found = ddg.candidate(_result(3), "heron", 7)

    assert found.url == found.original_url == "https://img.example.org/3.jpg"
    assert (found.source, found.query, found.rank) == ("ddg", "heron", 7)
    assert found.page_url == "https://example.org/page/3"
    assert (found.title, found.width, found.height) == ("heron 3", 800, 603)
    assert (found.license, found.license_version, found.license_url) == ("", "", "")
    assert found.attribution == '"heron 3" (license unknown).'


def test_offset_and_limit_pick_the_window(session: requests.Session) -> None:
    recorder = Recorder([_result(i) for i in range(50)])

    found = list(Ddg(search_images=recorder).search(SPEC, "heron", 10, 20, context(session)))

    assert [c.rank for c in found] == list(range(20, 30))
    assert [c.title for c in found] == [f"heron {i}" for i in range(20, 30)]
    assert recorder.calls == [("heron", 30)]


def test_results_without_an_image_are_skipped(session: requests.Session) -> None:
    broken = {**_result(1), "image": ""}
    recorder = Recorder([_result(0), broken, _result(2)])

    found = list(Ddg(search_images=recorder).search(SPEC, "heron", 10, 0, context(session)))

    assert [c.rank for c in found] == [0, 2]


def test_a_license_filter_skips_the_search(session: requests.Session) -> None:
    recorder = Recorder([_result(0)])
    ctx = context(session, licenses=("cc0",))

    assert list(Ddg(search_images=recorder).search(SPEC, "heron", 10, 0, ctx)) == []
    assert recorder.calls == []


def test_search_failures_become_source_errors(session: requests.Session) -> None:
    def refuse(query: str, count: int) -> list[Mapping[str, Any]]:
        raise RuntimeError("202 Ratelimit")

    with pytest.raises(SourceError, match="ddg: RuntimeError: 202 Ratelimit"):
        list(Ddg(search_images=refuse).search(SPEC, "heron", 10, 0, context(session)))


def test_missing_package_says_how_to_install_it(session: requests.Session) -> None:
    def no_module(name: str) -> ModuleType:
        raise ModuleNotFoundError(f"No module named {name!r}")

    source = Ddg(import_module=no_module)

    with pytest.raises(SourceError) as caught:
        list(source.search(SPEC, "heron", 10, 0, context(session)))
    assert str(caught.value) == "source 'ddg' needs the ddgs package: pip install 'yamlset[ddg]'"


def test_the_ddgs_client_is_paged_until_enough(session: requests.Session) -> None:
    calls: list[dict[str, Any]] = []

    class FakeDDGS:
        def __init__(self, timeout: int | None = None) -> None:
            pass

        def images(self, query: str, **kwargs: Any) -> list[dict[str, Any]]:
            calls.append({"query": query, **kwargs})
            page = kwargs["page"]
            return [_result(i) for i in range((page - 1) * 5, page * 5)] if page <= 3 else []

    module = ModuleType("ddgs")
    module.DDGS = FakeDDGS  # type: ignore[attr-defined]

    found = list(
        Ddg(import_module=lambda name: module).search(SPEC, "heron", 12, 0, context(session))
    )

    assert [c.rank for c in found] == list(range(12))
    assert [c["page"] for c in calls] == [1, 2, 3]
    assert {c["region"] for c in calls} == {"wt-wt"}
