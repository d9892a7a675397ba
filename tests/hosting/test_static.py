from __future__ import annotations

import functools
import socket
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from yamlset.errors import YamlsetError
from yamlset.hosting.static import StaticHost
from yamlset.spec.model import HostingSpec


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A web server on loopback serving a folder: (base URL, folder)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_Quiet, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/images", root
    server.shutdown()
    server.server_close()


def test_urls_are_the_base_url_and_the_file_name(tmp_path: Path) -> None:
    files = [tmp_path / "0a1b.jpg", tmp_path / "2c3d.jpg"]
    spec = HostingSpec(type="static", base_url="https://example.org/data")

    urls = list(StaticHost().publish(files, spec, environ={}, lifetime_s=60))

    assert urls == [
        (files[0], "https://example.org/data/0a1b.jpg"),
        (files[1], "https://example.org/data/2c3d.jpg"),
    ]


def test_target_is_the_base_url_without_credentials() -> None:
    host = StaticHost()
    assert (
        host.target(HostingSpec(type="static", base_url="https://a.org/x/")) == "https://a.org/x/"
    )
    secret = HostingSpec(type="static", base_url="https://me:pw@a.org/x")
    assert host.target(secret) == "https://a.org/x/"
    with pytest.raises(YamlsetError, match=r"hosting\.base_url is required"):
        host.target(HostingSpec(type="static"))


def test_check_accepts_a_served_image(site: tuple[str, Path]) -> None:
    base, root = site
    (root / "images").mkdir()
    (root / "images" / "0a1b.jpg").write_bytes(b"\xff\xd8\xff\xe0")
    spec = HostingSpec(type="static", base_url=base)
    [(_, url)] = StaticHost().publish([Path("0a1b.jpg")], spec, environ={}, lifetime_s=60)

    StaticHost().check(url)


def test_check_reports_a_missing_image(site: tuple[str, Path]) -> None:
    base, _ = site

    with pytest.raises(YamlsetError) as error:
        StaticHost().check(f"{base}/nope.jpg?token=secret")

    assert str(error.value) == (
        f"image URL {base}/nope.jpg answered HTTP 404, not 200: "
        "check that the images are there and readable without logging in"
    )


def test_check_reports_a_page_that_is_not_an_image(site: tuple[str, Path]) -> None:
    base, root = site
    (root / "images").mkdir()
    (root / "images" / "index.html").write_text("<p>login</p>")

    with pytest.raises(YamlsetError, match="content type 'text/html', not an image"):
        StaticHost().check(f"{base}/index.html")


def test_check_reports_a_server_that_does_not_answer() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # the port was free a moment ago and nothing listens on it now

    with pytest.raises(YamlsetError) as error:
        StaticHost().check(f"http://127.0.0.1:{port}/a.jpg", timeout=5)

    assert str(error.value) == (
        f"image URL http://127.0.0.1:{port}/a.jpg does not answer: connection failed"
    )
