from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.fakes.openverse import ANONYMOUS_PAGE_SIZE, MAX_PAGES, TOKEN_PATH, FakeOpenverse
from tests.sources.conftest import USER_AGENT, Sleeps, context
from yamlset.errors import SourceError
from yamlset.sources import openverse
from yamlset.sources.openverse import Openverse
from yamlset.spec.model import SourceSpec

CREDENTIALS = {"OPENVERSE_CLIENT_ID": "app", "OPENVERSE_CLIENT_SECRET": "s3cret"}


@pytest.fixture
def fake() -> Iterator[FakeOpenverse]:
    server = FakeOpenverse(catalogue_size_per_query=500, clients={"app": "s3cret"})
    yield server
    server.stop()


def _spec(fake: FakeOpenverse, **options: object) -> SourceSpec:
    return SourceSpec("openverse", api_url=fake.start(), options=tuple(sorted(options.items())))


def _searches(fake: FakeOpenverse) -> list[tuple[str, str]]:
    return [(r.params["page"], r.params["page_size"]) for r in fake.requests if r.method == "GET"]


def test_results_map_to_candidates_in_rank_order(
    fake: FakeOpenverse, session: requests.Session, sleeps: Sleeps
) -> None:
    found = list(Openverse(sleep=sleeps).search(_spec(fake), "fox", 5, 0, context(session)))

    truth = fake.catalogue("fox")[:5]
    assert [c.url for c in found] == [t["url"] for t in truth]
    assert [c.rank for c in found] == list(range(5))
    first = found[0]
    assert (first.license, first.license_version) == ("by", "2.0")
    assert first.license_url == "https://creativecommons.org/licenses/by/2.0/"
    assert (first.title, first.author, first.mime) == ("fox 0", "creator 0", "image/jpeg")
    assert first.page_url == truth[0]["foreign_landing_url"]
    assert first.attribution == truth[0]["attribution"]
    assert (first.width, first.height) == (truth[0]["width"], truth[0]["height"])
    assert fake.requests[0].headers["User-Agent"] == USER_AGENT


def test_anonymous_search_stops_at_the_documented_depth(
    fake: FakeOpenverse, session: requests.Session, sleeps: Sleeps
) -> None:
    found = list(Openverse(sleep=sleeps).search(_spec(fake), "fox", 1000, 0, context(session)))

    assert [c.rank for c in found] == list(range(ANONYMOUS_PAGE_SIZE * MAX_PAGES))
    assert _searches(fake) == [(str(p), "20") for p in range(1, MAX_PAGES + 1)]


def test_offset_and_limit_fetch_only_the_pages_they_cover(
    fake: FakeOpenverse, session: requests.Session, sleeps: Sleeps
) -> None:
    source, spec, ctx = Openverse(sleep=sleeps), _spec(fake), context(session)
    first = list(source.search(spec, "fox", 60, 0, ctx))
    fake.requests.clear()

    more = list(source.search(spec, "fox", 40, 60, ctx))

    assert [c.rank for c in first + more] == list(range(100))
    assert _searches(fake) == [("4", "20"), ("5", "20")]


def test_a_short_catalogue_ends_the_search(session: requests.Session, sleeps: Sleeps) -> None:
    fake = FakeOpenverse(catalogue_size_per_query=45)
    try:
        found = list(Openverse(sleep=sleeps).search(_spec(fake), "fox", 100, 0, context(session)))
    finally:
        fake.stop()
    assert len(found) == 45
    assert _searches(fake) == [("1", "20"), ("2", "20"), ("3", "20")]


def test_license_filter_goes_to_the_api_and_to_the_results(
    fake: FakeOpenverse, session: requests.Session, sleeps: Sleeps
) -> None:
    ctx = context(session, licenses=("cc0", "gfdl", "by-sa"))

    found = list(Openverse(sleep=sleeps).search(_spec(fake), "fox", 30, 0, ctx))

    assert {c.license for c in found} == {"cc0", "by-sa"}
    assert len(found) == 30
    assert {r.params["license"] for r in fake.requests} == {"cc0,by-sa"}


def test_a_filter_openverse_cannot_match_sends_nothing(
    fake: FakeOpenverse, session: requests.Session, sleeps: Sleeps
) -> None:
    ctx = context(session, licenses=("gfdl",))

    assert list(Openverse(sleep=sleeps).search(_spec(fake), "fox", 30, 0, ctx)) == []
    assert fake.requests == []


def test_a_long_429_stops_the_source_with_what_to_do(
    session: requests.Session, sleeps: Sleeps
) -> None:
    fake = FakeOpenverse(throttle_after=2, retry_after=86_400)
    try:
        with pytest.raises(SourceError) as caught:
            list(Openverse(sleep=sleeps).search(_spec(fake), "fox", 100, 0, context(session)))
    finally:
        fake.stop()

    message = str(caught.value)
    assert message.startswith("openverse: rate limited (Request was throttled.")
    assert "try again after 24.0 h" in message
    assert "OPENVERSE_CLIENT_ID" in message and "OPENVERSE_CLIENT_SECRET" in message
    assert sleeps == []
    assert len(fake.requests) == 3  # no hammering after the refusal


def test_a_short_429_is_waited_out_once(session: requests.Session, sleeps: Sleeps) -> None:
    fake = FakeOpenverse(throttle_after=1, throttle_times=1, retry_after=3)
    try:
        found = list(Openverse(sleep=sleeps).search(_spec(fake), "fox", 40, 0, context(session)))
    finally:
        fake.stop()
    assert len(found) == 40
    assert sleeps == [3.0]


def test_a_second_429_in_a_row_stops_the_source(session: requests.Session, sleeps: Sleeps) -> None:
    fake = FakeOpenverse(throttle_after=0, retry_after=3)
    try:
        with pytest.raises(SourceError, match="rate limited"):
            list(Openverse(sleep=sleeps).search(_spec(fake), "fox", 40, 0, context(session)))
    finally:
        fake.stop()
    assert sleeps == [3.0]
    assert len(fake.requests) == 2


def test_a_used_up_minute_window_is_waited_out(session: requests.Session, sleeps: Sleeps) -> None:
    fake = FakeOpenverse(burst=(3, "min"))
    try:
        found = list(Openverse(sleep=sleeps).search(_spec(fake), "fox", 100, 0, context(session)))
    finally:
        fake.stop()
    assert len(found) == 100
    assert sleeps == [60.0, 60.0]  # before pages 4 and 5, when the header said 0 were left


def test_a_used_up_daily_window_stops_before_the_429(
    session: requests.Session, sleeps: Sleeps
) -> None:
    fake = FakeOpenverse(burst=(2, "day"))
    try:
        with pytest.raises(SourceError, match=r"anon_burst \(2/day\) used up"):
            list(Openverse(sleep=sleeps).search(_spec(fake), "fox", 100, 0, context(session)))
    finally:
        fake.stop()
    assert len(fake.requests) == 2


def test_client_credentials_get_a_token_and_bigger_pages(
    fake: FakeOpenverse, session: requests.Session, sleeps: Sleeps
) -> None:
    source, spec = Openverse(sleep=sleeps), _spec(fake)
    ctx = context(session, environ=CREDENTIALS)

    found = list(source.search(spec, "fox", 250, 0, ctx))
    list(source.search(spec, "owl", 10, 0, ctx))

    assert len(found) == 250
    posts = [r for r in fake.requests if r.method == "POST"]
    assert [r.path for r in posts] == [TOKEN_PATH]  # the token is reused
    assert posts[0].params["grant_type"] == "client_credentials"
    searches = [r for r in fake.requests if r.method == "GET"]
    assert {r.headers["Authorization"] for r in searches} == {"Bearer token-0"}
    assert _searches(fake)[:3] == [("1", "100"), ("2", "100"), ("3", "100")]


def test_refused_credentials_stop_without_leaking_the_secret(
    fake: FakeOpenverse, session: requests.Session, sleeps: Sleeps
) -> None:
    ctx = context(session, environ={**CREDENTIALS, "OPENVERSE_CLIENT_SECRET": "wrong-one"})

    with pytest.raises(SourceError, match="refused") as caught:
        list(Openverse(sleep=sleeps).search(_spec(fake), "fox", 10, 0, ctx))
    assert "wrong-one" not in str(caught.value)


def test_half_the_credentials_is_an_error(
    fake: FakeOpenverse, session: requests.Session, sleeps: Sleeps
) -> None:
    ctx = context(session, environ={"OPENVERSE_CLIENT_ID": "app"})

    with pytest.raises(SourceError, match="both OPENVERSE_CLIENT_ID and OPENVERSE_CLIENT_SECRET"):
        list(Openverse(sleep=sleeps).search(_spec(fake), "fox", 10, 0, ctx))


def test_a_401_stops_the_source(
    fake: FakeOpenverse, session: requests.Session, sleeps: Sleeps
) -> None:
    source, spec = Openverse(sleep=sleeps), _spec(fake)
    ctx = context(session, environ=CREDENTIALS)
    list(source.search(spec, "fox", 1, 0, ctx))
    fake.tokens.clear()  # the server forgot the token: it is anonymous now, asking for 100

    with pytest.raises(SourceError, match="HTTP 401: Authentication credentials"):
        list(source.search(spec, "fox", 1, 0, ctx))


def test_default_endpoint() -> None:
    assert openverse.SOURCE.name == "openverse"
    assert openverse.DEFAULT_API_URL == "https://api.openverse.org/v1/images/"
