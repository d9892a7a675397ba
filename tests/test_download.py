from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import requests

from tests.fakes.images import ImageServer, serving
from yamlset.download import DownloadError, fetch, make_session, user_agent


@pytest.fixture(scope="module")
def server() -> Iterator[ImageServer]:
    with serving(big_bytes=3_000_000, stall_s=5.0) as s:
        yield s


@pytest.fixture
def session() -> requests.Session:
    return make_session("me@example.org", pool_size=4)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_fetches_body_type_and_names_the_contact(
    server: ImageServer, session: requests.Session
) -> None:
    got = fetch(session, server.url("/photo.jpg"), max_bytes=10**6, timeout=5, retries=0)
    assert got.data == server.files["/photo.jpg"][0]
    assert got.content_type == "image/jpeg"
    assert got.final_url == server.url("/photo.jpg")
    assert (
        server.user_agents[-1]
        == "yamlset/0.1.0 (+https://github.com/yamlset/yamlset; me@example.org)"
    )
    assert user_agent(None) == "yamlset/0.1.0 (+https://github.com/yamlset/yamlset)"


def test_429_waits_for_retry_after_then_succeeds(
    server: ImageServer, session: requests.Session
) -> None:
    sleeps = Sleeps()
    got = fetch(
        session, server.url("/busy.jpg"), max_bytes=10**6, timeout=5, retries=3, sleep=sleeps
    )
    assert got.data[:2] == b"\xff\xd8"
    assert server.hits("/busy.jpg") == 2
    assert sleeps == [1.0]


def test_503_is_retried_with_growing_backoff(
    server: ImageServer, session: requests.Session
) -> None:
    sleeps = Sleeps()
    fetch(session, server.url("/flaky.jpg"), max_bytes=10**6, timeout=5, retries=3, sleep=sleeps)
    assert server.hits("/flaky.jpg") == 3
    assert len(sleeps) == 2
    assert 0 < sleeps[0] <= 0.5 < sleeps[1] <= 1.0


def test_gives_up_after_the_retries(session: requests.Session) -> None:
    with serving() as fresh:
        sleeps = Sleeps()
        with pytest.raises(DownloadError) as e:
            fetch(
                session,
                fresh.url("/flaky.jpg"),
                max_bytes=10**6,
                timeout=5,
                retries=1,
                sleep=sleeps,
            )
        assert e.value.reason == "HTTP 503 (after 2 tries)"
        assert fresh.hits("/flaky.jpg") == 2


@pytest.mark.parametrize(
    ("path", "reason"), [("/forbidden.jpg", "HTTP 403"), ("/nope.jpg", "HTTP 404")]
)
def test_client_errors_are_not_retried(
    server: ImageServer, session: requests.Session, path: str, reason: str
) -> None:
    sleeps = Sleeps()
    with pytest.raises(DownloadError, match=reason):
        fetch(session, server.url(path), max_bytes=10**6, timeout=5, retries=3, sleep=sleeps)
    assert server.hits(path) == 1
    assert sleeps == []


def test_a_stalled_host_times_out_and_is_retried(
    server: ImageServer, session: requests.Session
) -> None:
    sleeps = Sleeps()
    with pytest.raises(DownloadError) as e:
        fetch(
            session, server.url("/stall.jpg"), max_bytes=10**6, timeout=0.2, retries=1, sleep=sleeps
        )
    assert e.value.reason == "timed out (after 2 tries)"
    assert server.hits("/stall.jpg") == 2


@pytest.mark.parametrize("path", ["/big-length.jpg", "/big-stream.jpg"])
def test_bodies_past_max_bytes_are_abandoned(
    server: ImageServer, session: requests.Session, path: str
) -> None:
    sleeps = Sleeps()
    with pytest.raises(DownloadError, match="too large") as e:
        fetch(session, server.url(path), max_bytes=500_000, timeout=5, retries=3, sleep=sleeps)
    assert "1000000" not in e.value.reason and "500000" in e.value.reason
    assert server.hits(path) == 1  # not retried


@pytest.mark.parametrize(
    ("path", "size"),
    [("/big-length.jpg", 3_000_000), ("/big-stream.jpg", -(-3_000_000 // 65536) * 65536)],
)
def test_bodies_under_max_bytes_arrive_whole_with_or_without_a_length(
    server: ImageServer, session: requests.Session, path: str, size: int
) -> None:
    # With Content-Length the body is read in one call; without, in chunks until the end.
    got = fetch(session, server.url(path), max_bytes=10**7, timeout=5, retries=0)
    assert len(got.data) == size and set(got.data) == {0xFF}


def test_refused_connections_are_retried(session: requests.Session) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    sleeps = Sleeps()
    with pytest.raises(DownloadError, match="connection failed"):
        fetch(
            session,
            f"http://127.0.0.1:{port}/x.jpg",
            max_bytes=10,
            timeout=1,
            retries=2,
            sleep=sleeps,
        )
    assert len(sleeps) == 2


def test_retry_after_as_an_http_date_is_capped() -> None:
    from yamlset.download import MAX_RETRY_AFTER_S, _retry_after

    assert _retry_after("Wed, 21 Oct 2099 07:28:00 GMT") == MAX_RETRY_AFTER_S
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert _retry_after("soon") is None
    assert _retry_after("7") == 7.0
