"""Collection from search sources through apply: paging, deeper searches, a failing source."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import write
from tests.fakes.openverse import FakeOpenverse
from tests.fakes.wikimedia import FakeWikimedia
from yamlset.cli import main
from yamlset.state import Store


@pytest.fixture
def commons() -> Iterator[FakeWikimedia]:
    fake = FakeWikimedia(catalogue_size_per_query=300, image_base_url="http://127.0.0.1:9/i")
    yield fake
    fake.stop()


@pytest.fixture
def openverse() -> Iterator[FakeOpenverse]:
    fake = FakeOpenverse(catalogue_size_per_query=300, throttle_after=0, retry_after=86_400)
    yield fake
    fake.stop()


def _spec(root: Path, commons: str, openverse: str, per_query: int) -> Path:
    write(
        root,
        {
            "s.yaml": f"""\
        version: 1
        name: searched
        classes:
          cat: {{queries: [cat, kitten]}}
        collect:
          contact: tests@example.org
          per_query: {per_query}
          sources:
            - {{type: wikimedia, api_url: "{commons}"}}
            - {{type: openverse, api_url: "{openverse}"}}
    """
        },
    )
    return root / "s.yaml"


def _candidates(spec: Path) -> dict[str, int]:
    store = Store.open(spec.parent / ".yamlset" / "searched")
    try:
        rows = store.db.execute("SELECT source, COUNT(*) FROM candidates GROUP BY source")
        return dict(rows.fetchall())
    finally:
        store.close()


def test_deeper_search_fetches_only_new_pages_and_a_failed_source_does_not_stop_the_rest(
    tmp_path: Path, commons: FakeWikimedia, openverse: FakeOpenverse
) -> None:
    spec = _spec(tmp_path, commons.start(), openverse.start(), 60)
    runner = CliRunner()
    first = runner.invoke(main, ["apply", str(spec), "--yes", "--until", "collect"])
    assert first.exit_code == 0, first.output
    assert "source openverse stopped for this run: openverse: rate limited" in first.output
    assert "wikimedia: 120 new candidates (ok)" in first.output
    assert _candidates(spec) == {"wikimedia": 120}
    assert all("tests@example.org" in r.headers.get("User-Agent", "") for r in commons.requests)

    spec.write_text(spec.read_text().replace("per_query: 60", "per_query: 100"))
    planned = runner.invoke(main, ["plan", str(spec)])
    assert "wikimedia: 'cat' results 61-100" in planned.output
    assert "openverse: 'cat' results 1-100" in planned.output  # it failed: asked again

    before = len(commons.requests)
    second = runner.invoke(main, ["apply", str(spec), "--yes", "--until", "collect"])
    assert second.exit_code == 0, second.output
    offsets = sorted(int(r.params["gsroffset"]) for r in commons.requests[before:])
    assert offsets == [60, 60]  # one page per query, starting where the first run stopped
    assert _candidates(spec) == {"wikimedia": 200}
