from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.fakes import images as fake
from tests.fakes.images import ImageServer, serving
from yamlset.download import make_session
from yamlset.pipeline import Job, Result, _read_once, derive_cached, fetch_and_derive
from yamlset.spec.model import CollectSpec, ImageSpec

COLLECT = CollectSpec(threads=4, retries=0, timeout=5, min_side=200)
IMAGE = ImageSpec(size=(299, 299), fit="crop", format="jpeg", quality=90)


@pytest.fixture(scope="module")
def server() -> Iterator[ImageServer]:
    with serving() as s:
        s.add("/copy-of-photo.jpg", s.files["/photo.jpg"][0])
        s.add("/large.jpg", fake.jpeg((3000, 2000)))
        yield s


def _run(server: ImageServer, tmp_path: Path, paths: list[str]) -> dict[str, Result]:
    jobs = [Job(f"k{i}", server.url(p)) for i, p in enumerate(paths)]
    results = fetch_and_derive(
        jobs,
        cache_dir=tmp_path / "cache",
        derived_dir=tmp_path / "derived",
        image=IMAGE,
        collect=COLLECT,
        session=make_session(None, pool_size=4),
        workers=2,
    )
    return {r.key: r for r in results}


def _leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob(".tmp-*")]


def test_one_result_per_job_with_reasons_for_the_failures(
    server: ImageServer, tmp_path: Path
) -> None:
    paths = [
        "/large.jpg", "/rotated.jpg", "/photo.jpg", "/copy-of-photo.jpg", "/photo.jpg",
        "/page.jpg", "/bomb.png", "/forbidden.jpg", "/tiny.jpg", "/truncated.jpg",
    ]  # fmt: skip
    results = _run(server, tmp_path, paths)
    assert sorted(results) == sorted(f"k{i}" for i in range(len(paths)))
    errors = {paths[int(k[1:])]: r.error for k, r in results.items() if not r.ok}
    assert errors == {
        "/page.jpg": "not an image",
        "/bomb.png": errors["/bomb.png"],
        "/forbidden.jpg": "HTTP 403",
        "/tiny.jpg": "too small: 120x90 < collect.min_side 200",
        "/truncated.jpg": errors["/truncated.jpg"],
    }
    assert str(errors["/bomb.png"]).startswith("decompression bomb")
    assert str(errors["/truncated.jpg"]).startswith("corrupt image")
    for r in results.values():
        if r.ok:
            assert r.derived_path is not None and r.derived is not None
            with Image.open(r.derived_path) as out:
                assert out.size == (299, 299)
    assert results["k0"].derived is not None
    assert (results["k0"].derived.width, results["k0"].derived.height) == (3000, 2000)
    assert results["k1"].derived is not None
    assert (results["k1"].derived.width, results["k1"].derived.height) == (480, 640)
    assert _leftovers(tmp_path) == []


def test_duplicates_share_one_cache_file_and_one_derived_file(
    server: ImageServer, tmp_path: Path
) -> None:
    results = _run(server, tmp_path, ["/photo.jpg", "/copy-of-photo.jpg", "/photo.jpg"])
    assert len({r.sha256 for r in results.values()}) == 1
    assert len({r.original_path for r in results.values()}) == 1
    assert len({r.derived_path for r in results.values()}) == 1
    assert len([p for p in (tmp_path / "cache").rglob("*") if p.is_file()]) == 1
    original = results["k0"].original_path
    assert original is not None and original.read_bytes() == server.files["/photo.jpg"][0]
    assert original.relative_to(tmp_path / "cache").parts[0] == results["k0"].sha256[:2]  # type: ignore[index]


def test_new_size_is_derived_from_the_cache_without_downloading(
    server: ImageServer, tmp_path: Path
) -> None:
    first = _run(server, tmp_path, ["/large.jpg", "/photo.jpg"])
    hits = dict(server.counts)
    items = [(k, r.original_path) for k, r in first.items() if r.original_path is not None]
    items.append(("gone", tmp_path / "cache" / "00" / ("00" * 32)))
    again = {
        r.key: r
        for r in derive_cached(
            items,
            derived_dir=tmp_path / "derived",
            image=ImageSpec(size=(128, 96), fit="pad"),
            collect=COLLECT,
            workers=1,
        )
    }
    assert dict(server.counts) == hits
    assert again["gone"].ok is False and "not in the cache" in str(again["gone"].error)
    for key in ("k0", "k1"):
        new, old = again[key].derived_path, first[key].derived_path
        assert new is not None and old is not None and new != old
        assert old.exists()  # the 299x299 file is still there
        with Image.open(new) as out:
            assert out.size == (128, 96)


def test_stopping_early_leaves_no_half_written_files(server: ImageServer, tmp_path: Path) -> None:
    jobs = (Job(str(i), server.url("/large.jpg") + f"?{i}") for i in range(1000))
    results = fetch_and_derive(
        jobs,
        cache_dir=tmp_path / "cache",
        derived_dir=tmp_path / "derived",
        image=IMAGE,
        collect=COLLECT,
        session=make_session(None, pool_size=4),
        workers=1,
    )
    first = next(results)
    results.close()  # what a ^C or a caller's break does to the generator
    assert first.ok
    # A bounded window: far fewer than 1000 requests were ever made.
    assert server.hits("/large.jpg") < 100
    assert _leftovers(tmp_path) == []


def test_reading_an_original_for_its_derivation_leaves_it_intact(tmp_path: Path) -> None:
    # _read_once drops the file's pages from the page cache: the file itself is untouched.
    path = tmp_path / "original"
    path.write_bytes(b"\xff\xd8" + bytes(range(256)) * 1000)
    before = path.read_bytes()
    assert _read_once(path) == before
    assert path.read_bytes() == before


def test_derived_files_and_their_folder_are_synced_before_results_are_yielded(
    server: ImageServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from yamlset import fsutil

    synced: list[Path] = []
    real = fsutil.sync_file

    def spy(path: Path) -> None:
        synced.append(path)
        real(path)

    monkeypatch.setattr(fsutil, "sync_file", spy)
    jobs = [Job(p, server.url(p)) for p in ("/large.jpg", "/photo.jpg")]
    results = fetch_and_derive(
        jobs,
        cache_dir=tmp_path / "cache",
        derived_dir=tmp_path / "derived",
        image=IMAGE,
        collect=COLLECT,
        session=make_session(None, pool_size=4),
        workers=1,
    )
    for r in results:  # what a caller records here must already be on disk
        assert r.derived_path is not None and r.original_path is not None
        assert r.derived_path in synced
        assert r.original_path.parent in synced  # the cache file's rename
        assert tmp_path / "derived" in synced  # the derived file's rename
