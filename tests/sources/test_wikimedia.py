from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.fakes.wikimedia import MAX_LIMIT, FakeWikimedia
from tests.sources.conftest import USER_AGENT, Sleeps, context
from yamlset.errors import SourceError
from yamlset.sources import wikimedia
from yamlset.sources.wikimedia import Wikimedia, plain_text
from yamlset.spec.model import SourceSpec


@pytest.fixture
def fake() -> Iterator[FakeWikimedia]:
    server = FakeWikimedia(catalogue_size_per_query=130, image_base_url="http://127.0.0.1:1/img")
    yield server
    server.stop()


def _spec(fake: FakeWikimedia) -> SourceSpec:
    return SourceSpec("wikimedia", api_url=fake.start())


def _names(fake: FakeWikimedia, query: str, start: int, stop: int) -> list[str]:
    return [f["title"].removeprefix("File:") for f in fake.catalogue(query)[start:stop]]


def test_first_results_come_in_rank_order_with_their_metadata(
    fake: FakeWikimedia, session: requests.Session, sleeps: Sleeps
) -> None:
    found = list(Wikimedia(sleep=sleeps).search(_spec(fake), "cat", 10, 0, context(session)))

    assert [c.title for c in found] == _names(fake, "cat", 0, 10)
    assert [c.rank for c in found] == list(range(10))
    first, truth = found[0], fake.catalogue("cat")[0]
    assert (first.width, first.height, first.sha1) == (
        truth["width"],
        truth["height"],
        truth["sha1"],
    )
    assert first.mime == "image/jpeg"
    assert first.page_url == "https://commons.wikimedia.org/wiki/File:cat_0.jpg"
    assert first.original_url.endswith("/img/c/ca/cat_0.jpg")
    assert (first.source, first.query) == ("wikimedia", "cat")


def test_paging_from_an_offset_starts_at_that_rank(
    fake: FakeWikimedia, session: requests.Session, sleeps: Sleeps
) -> None:
    found = list(Wikimedia(sleep=sleeps).search(_spec(fake), "cat", 100, 120, context(session)))

    assert [c.rank for c in found] == list(range(120, 130))  # the catalogue ends at 130
    assert [c.title for c in found] == _names(fake, "cat", 120, 130)
    assert [r.params["gsroffset"] for r in fake.requests] == ["120"]


def test_asking_for_more_later_fetches_only_the_new_results(
    fake: FakeWikimedia, session: requests.Session, sleeps: Sleeps
) -> None:
    source, spec, ctx = Wikimedia(sleep=sleeps), _spec(fake), context(session)
    first = list(source.search(spec, "dog", 60, 0, ctx))
    fake.requests.clear()

    more = list(source.search(spec, "dog", 40, 60, ctx))

    assert [c.rank for c in first + more] == list(range(100))
    assert [(r.params["gsroffset"], r.params["gsrlimit"]) for r in fake.requests] == [("60", "40")]


def test_requests_follow_the_documented_parameters(
    fake: FakeWikimedia, session: requests.Session, sleeps: Sleeps
) -> None:
    list(Wikimedia(sleep=sleeps).search(_spec(fake), "owl", 130, 0, context(session)))

    assert [r.params["gsroffset"] for r in fake.requests] == ["0", "50", "100"]
    for r in fake.requests:
        assert r.headers["User-Agent"] == USER_AGENT
        assert int(r.params["gsrlimit"]) <= MAX_LIMIT
        assert r.params["gsrsearch"] == "owl filetype:bitmap"
        assert (r.params["formatversion"], r.params["gsrnamespace"]) == ("2", "6")
        assert (r.params["maxlag"], r.params["iiurlwidth"]) == ("5", "299")
        assert "extmetadata" in r.params["iiprop"].split("|")


def test_artist_html_becomes_plain_text(
    fake: FakeWikimedia, session: requests.Session, sleeps: Sleeps
) -> None:
    first = next(Wikimedia(sleep=sleeps).search(_spec(fake), "cat", 1, 0, context(session)))

    assert first.author == "Author 0 & co"
    assert first.attribution.startswith('"cat_0.jpg" by Author 0 & co is licensed under CC BY-SA')


def test_plain_text_keeps_text_and_drops_markup() -> None:
    assert plain_text('<span lang="en">Jane\n <i>Doe</i></span> &lt;x&gt;') == "Jane Doe <x>"


def test_licenses_are_normalised_and_filtered(
    fake: FakeWikimedia, session: requests.Session, sleeps: Sleeps
) -> None:
    ctx = context(session, licenses=("cc0", "by-sa"))

    found = list(Wikimedia(sleep=sleeps).search(_spec(fake), "cat", 12, 0, ctx))

    # the fake cycles six licenses: by-sa 4.0, by 2.0, cc0 1.0, public domain, gfdl, by-nc
    assert [(c.rank, c.license, c.license_version) for c in found] == [
        (0, "by-sa", "4.0"),
        (2, "cc0", "1.0"),
        (6, "by-sa", "4.0"),
        (8, "cc0", "1.0"),
    ]


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (1000, 2000, "/299px-f.jpg"),  # portrait: the batch's 299 px thumbnail covers
        (4000, 2000, "/960px-f.jpg"),  # wide: needs 598 px, moved up to the 960 step
        (3000, 1000, "/960px-f.jpg"),  # needs 897 px
        (900, 450, "/o/f.jpg"),  # needs 598 px, the 960 step is past the original
        (250, 250, "/o/f.jpg"),  # smaller than the target: Commons gives the original
    ],
)
def test_url_is_the_smallest_standard_size_that_covers_the_target(
    width: int, height: int, expected: str
) -> None:
    info = {"url": "http://x/o/f.jpg", "width": width, "height": height}
    if width > 299:
        info |= {"thumburl": "http://x/t/f.jpg/299px-f.jpg", "thumbwidth": 299}
    else:
        info |= {"thumburl": "http://x/o/f.jpg", "thumbwidth": width}

    assert wikimedia._fit_url(info, (299, 299)).endswith(expected)


def test_candidates_point_at_thumbnails(
    fake: FakeWikimedia, session: requests.Session, sleeps: Sleeps
) -> None:
    found = list(Wikimedia(sleep=sleeps).search(_spec(fake), "cat", 50, 0, context(session)))

    assert any("/thumb/" in c.url for c in found)
    assert all("/thumb/" not in c.original_url for c in found)


def test_maxlag_is_waited_out_then_retried(session: requests.Session, sleeps: Sleeps) -> None:
    fake = FakeWikimedia(catalogue_size_per_query=5, maxlag_times=2, retry_after=8)
    try:
        found = list(Wikimedia(sleep=sleeps).search(_spec(fake), "cat", 5, 0, context(session)))
    finally:
        fake.stop()

    assert len(found) == 5
    assert sleeps == [8.0, 8.0]
    assert len(fake.requests) == 3


def test_maxlag_that_never_ends_gives_up(session: requests.Session, sleeps: Sleeps) -> None:
    fake = FakeWikimedia(catalogue_size_per_query=5, maxlag_times=99, retry_after=1)
    try:
        with pytest.raises(SourceError, match="lagged"):
            list(Wikimedia(sleep=sleeps).search(_spec(fake), "cat", 5, 0, context(session)))
    finally:
        fake.stop()

    assert sleeps == [5.0] * 4  # never shorter than the 5 s the maxlag manual asks for
    assert len(fake.requests) == 5


def test_other_api_errors_carry_the_api_info(session: requests.Session, sleeps: Sleeps) -> None:
    fake = FakeWikimedia(error=("badvalue", 'Unrecognized value for parameter "prop".'))
    try:
        with pytest.raises(SourceError, match='Unrecognized value for parameter "prop"'):
            list(Wikimedia(sleep=sleeps).search(_spec(fake), "cat", 5, 0, context(session)))
    finally:
        fake.stop()
    assert sleeps == []


def test_an_empty_search_yields_nothing(session: requests.Session, sleeps: Sleeps) -> None:
    fake = FakeWikimedia(catalogue_size_per_query=0)
    try:
        found = list(Wikimedia(sleep=sleeps).search(_spec(fake), "zzz", 50, 0, context(session)))
    finally:
        fake.stop()
    assert found == []
    assert len(fake.requests) == 1


def test_missing_contact_warns_how_to_set_one(
    fake: FakeWikimedia, session: requests.Session, sleeps: Sleeps
) -> None:
    ctx = context(session, contact=None)

    with pytest.warns(UserWarning, match="YAMLSET_CONTACT"):
        list(Wikimedia(sleep=sleeps).search(_spec(fake), "cat", 1, 0, ctx))
    assert wikimedia.missing_contact(context(session, contact=None, environ={})) is not None
    assert wikimedia.missing_contact(context(session, environ={"YAMLSET_CONTACT": "x"})) is None
    assert (
        wikimedia.missing_contact(context(session, contact=None, environ={"YAMLSET_CONTACT": "x"}))
        is None
    )


def test_default_endpoint_is_commons() -> None:
    assert wikimedia.SOURCE.name == "wikimedia"
    assert wikimedia.DEFAULT_API_URL == "https://commons.wikimedia.org/w/api.php"
