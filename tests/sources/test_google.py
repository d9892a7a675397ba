from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.fakes.google import MAX_NUM, FakeGoogle
from tests.sources.conftest import USER_AGENT, context
from yamlset.errors import SourceError
from yamlset.sources import google
from yamlset.sources.google import Google
from yamlset.spec.model import SourceSpec

KEYS = {"GOOGLE_API_KEY": "test-key", "GOOGLE_CSE_ID": "test-cx"}


@pytest.fixture
def fake() -> Iterator[FakeGoogle]:
    server = FakeGoogle(catalogue_size_per_query=300)
    yield server
    server.stop()


def _spec(fake: FakeGoogle) -> SourceSpec:
    return SourceSpec("google", api_url=fake.start())


def _starts(fake: FakeGoogle) -> list[tuple[str, str]]:
    return [(r.params["start"], r.params["num"]) for r in fake.requests]


def test_items_map_to_candidates_without_a_license(
    fake: FakeGoogle, session: requests.Session
) -> None:
    found = list(Google().search(_spec(fake), "lynx", 3, 0, context(session, environ=KEYS)))

    truth = fake.catalogue("lynx")[:3]
    assert [c.url for c in found] == [t["link"] for t in truth]
    assert [c.rank for c in found] == [0, 1, 2]
    first = found[0]
    assert first.page_url == truth[0]["image"]["contextLink"]
    assert (first.width, first.height) == (truth[0]["image"]["width"], truth[0]["image"]["height"])
    assert (first.title, first.mime, first.license) == ("lynx photo 0", "image/jpeg", "")
    assert "license unknown" in first.attribution
    assert all("test-key" not in value for value in vars(first).values() if isinstance(value, str))
    request = fake.requests[0]
    assert request.headers["User-Agent"] == USER_AGENT
    assert (request.params["searchType"], request.params["cx"]) == ("image", "test-cx")


def test_search_stops_at_the_hundredth_result(fake: FakeGoogle, session: requests.Session) -> None:
    found = list(Google().search(_spec(fake), "lynx", 250, 0, context(session, environ=KEYS)))

    assert [c.rank for c in found] == list(range(100))
    assert _starts(fake) == [(str(s), "10") for s in range(1, 92, 10)]
    assert all(int(r.params["num"]) <= MAX_NUM for r in fake.requests)


def test_offset_and_limit_ask_only_for_new_results(
    fake: FakeGoogle, session: requests.Session
) -> None:
    ctx = context(session, environ=KEYS)

    found = list(Google().search(_spec(fake), "lynx", 15, 93, ctx))
    nothing = list(Google().search(_spec(fake), "lynx", 50, 100, ctx))

    assert [c.rank for c in found] == list(range(93, 100))
    assert _starts(fake) == [("94", "7")]
    assert nothing == []


def test_a_short_result_list_ends_the_search(session: requests.Session) -> None:
    fake = FakeGoogle(catalogue_size_per_query=25)
    try:
        found = list(Google().search(_spec(fake), "lynx", 100, 0, context(session, environ=KEYS)))
    finally:
        fake.stop()
    assert len(found) == 25
    assert _starts(fake) == [("1", "10"), ("11", "10"), ("21", "10")]


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ({"quota_after": 1}, "HTTP 429: Quota exceeded for quota metric 'Queries'"),
        ({"forbidden": True}, "HTTP 403: This project does not have the access"),
        ({"key": "other-key"}, "HTTP 400: API key not valid"),
    ],
)
def test_api_errors_stop_the_source_with_the_api_message(
    session: requests.Session, fault: dict[str, object], expected: str
) -> None:
    fake = FakeGoogle(**fault)  # type: ignore[arg-type]
    try:
        with pytest.raises(SourceError, match=expected) as caught:
            list(Google().search(_spec(fake), "lynx", 30, 0, context(session, environ=KEYS)))
    finally:
        fake.stop()
    assert "test-key" not in str(caught.value)


def test_an_unreachable_api_does_not_leak_the_key(session: requests.Session) -> None:
    spec = SourceSpec("google", api_url="http://127.0.0.1:9/customsearch/v1")

    with pytest.raises(SourceError, match="ConnectionError") as caught:
        list(Google().search(spec, "lynx", 10, 0, context(session, environ=KEYS)))
    assert "test-key" not in str(caught.value)


@pytest.mark.parametrize("environ", [{}, {"GOOGLE_API_KEY": "k"}, {"GOOGLE_CSE_ID": "c"}])
def test_missing_credentials_name_both_variables(
    session: requests.Session, environ: dict[str, str]
) -> None:
    spec = SourceSpec("google", api_url="http://127.0.0.1:9/customsearch/v1")

    with pytest.raises(SourceError, match=r"GOOGLE_API_KEY .*GOOGLE_CSE_ID"):
        list(Google().search(spec, "lynx", 10, 0, context(session, environ=environ)))


def test_a_license_filter_spends_no_quota(fake: FakeGoogle, session: requests.Session) -> None:
    ctx = context(session, environ=KEYS, licenses=("cc0",))

    assert list(Google().search(_spec(fake), "lynx", 10, 0, ctx)) == []
    assert fake.requests == []


def test_default_endpoint() -> None:
    assert google.SOURCE.name == "google"
    assert google.DEFAULT_API_URL == "https://www.googleapis.com/customsearch/v1"
