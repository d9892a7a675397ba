"""A loopback HTTP server of generated images and the ways real image hosts misbehave.

with ImageServer() as server:
    fetch(session, server.url("/photo.jpg"), ...)
    assert server.hits("/flaky.jpg") == 3
"""

from __future__ import annotations

import contextlib
import io
import struct
import threading
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from PIL import Image

ORIENTATION = 0x0112
RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)


def two_tone(
    size: tuple[int, int], left: tuple[int, int, int], right: tuple[int, int, int]
) -> Image.Image:
    """An RGB image whose left half is `left` and right half `right`: shows any rotation."""
    im = Image.new("RGB", size, left)
    im.paste(right, (size[0] // 2, 0, size[0], size[1]))
    return im


def encode(im: Image.Image, fmt: str, **options: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **options)
    return buf.getvalue()


def jpeg(size: tuple[int, int] = (640, 480), *, orientation: int | None = None) -> bytes:
    """A red|blue JPEG; with `orientation` the EXIF tag asks viewers to rotate it."""
    exif = Image.Exif()
    if orientation is not None:
        exif[ORIENTATION] = orientation
    return encode(two_tone(size, RED, BLUE), "JPEG", quality=90, exif=exif.tobytes())


def cmyk_jpeg(size: tuple[int, int] = (500, 400)) -> bytes:
    return encode(two_tone(size, RED, BLUE).convert("CMYK"), "JPEG", quality=90)


def palette_png(size: tuple[int, int] = (400, 400)) -> bytes:
    """A palette PNG whose left half is transparent: it must come out as the background."""
    im = two_tone(size, WHITE, BLUE).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    transparent = im.getpixel((0, 0))
    return encode(im, "PNG", transparency=transparent)


def deep_png(size: tuple[int, int] = (300, 300), value: int = 32768) -> bytes:
    """A 16-bit greyscale PNG at `value` of 65535 (half-grey by default)."""
    return encode(Image.new("I;16", size, value), "PNG")


def webp(size: tuple[int, int] = (400, 300)) -> bytes:
    return encode(two_tone(size, RED, BLUE), "WEBP", quality=80)


def bomb_png(side: int = 20000) -> bytes:
    """A PNG whose header claims side x side 1-bit pixels; only a sliver of data follows.

    Decoders must refuse it from the header alone, so the data need not be complete.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    row = b"\x00" * (1 + (side + 7) // 8)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * 16))
        + chunk(b"IEND", b"")
    )


class ImageServer:
    """Serves the routes below on 127.0.0.1 and counts requests per path."""

    def __init__(self, *, big_bytes: int = 3_000_000, stall_s: float = 5.0) -> None:
        self.big_bytes = big_bytes  # body size of /big-*.jpg
        self.stall_s = stall_s  # how long /stall.jpg sleeps before answering
        self.counts: Counter[str] = Counter()
        self.user_agents: list[str] = []
        self.files: dict[str, tuple[bytes, str]] = {}
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._add_defaults()

    def add(self, path: str, body: bytes, content_type: str = "image/jpeg") -> str:
        """Serve `body` at `path`; returns its URL once started."""
        self.files[path] = (body, content_type)
        return self.url(path) if self._httpd else path

    def url(self, path: str) -> str:
        assert self._httpd is not None, "start() the server first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}{path}"

    def hits(self, path: str) -> int:
        with self._lock:
            return self.counts[path]

    def start(self) -> ImageServer:
        server = self

        class Handler(_Handler):
            owner = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False  # stalled handlers must not hold up stop()
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> ImageServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _count(self, path: str, user_agent: str) -> int:
        with self._lock:
            self.user_agents.append(user_agent)
            self.counts[path] += 1
            return self.counts[path]

    def _add_defaults(self) -> None:
        self.add("/photo.jpg", jpeg())
        self.add("/rotated.jpg", jpeg(orientation=6))
        self.add("/cmyk.jpg", cmyk_jpeg())
        self.add("/palette.png", palette_png(), "image/png")
        self.add("/deep.png", deep_png(), "image/png")
        self.add("/photo.webp", webp(), "image/webp")
        self.add("/tiny.jpg", jpeg((120, 90)))
        self.add("/panorama.jpg", jpeg((2000, 300)))
        self.add("/page.jpg", b"<!doctype html><html><body>Not found</body></html>")
        self.add("/truncated.jpg", jpeg((800, 600))[:4000])
        self.add("/bomb.png", bomb_png(), "image/png")


class _Handler(BaseHTTPRequestHandler):
    owner: ImageServer
    protocol_version = "HTTP/1.1"  # keep-alive, like real hosts

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output clean

    def handle(self) -> None:
        # Clients that stop early (size caps, a stopped pipeline) hang up mid-answer.
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            super().handle()

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        n = self.owner._count(path, self.headers.get("User-Agent", ""))
        special = _SPECIAL.get(path)
        if special is not None:
            special(self, n)
        elif path in self.owner.files:
            self.send_body(*self.owner.files[path])
        else:
            self.send_body(b"not found", "text/plain", status=404)

    def send_body(self, body: bytes, content_type: str, *, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_stream(self, *, length: bool) -> None:
        total = self.owner.big_bytes
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        if length:
            self.send_header("Content-Length", str(total))
        else:
            self.send_header("Connection", "close")  # the body ends when the socket does
            self.close_connection = True
        self.end_headers()
        block = b"\xff" * 65536
        try:
            for _ in range(0, total, len(block)):
                self.wfile.write(block)
        except OSError:
            pass  # the client hung up at its size cap: the expected ending


def _busy(h: _Handler, n: int) -> None:
    if n == 1:
        h.send_response(429)
        h.send_header("Retry-After", "1")
        h.send_header("Content-Length", "0")
        h.end_headers()
    else:
        h.send_body(*h.owner.files["/photo.jpg"])


def _flaky(h: _Handler, n: int) -> None:
    if n <= 2:
        h.send_body(b"try again", "text/plain", status=503)
    else:
        h.send_body(*h.owner.files["/photo.jpg"])


def _stall(h: _Handler, n: int) -> None:
    h.owner._release.wait(h.owner.stall_s)
    h.send_body(*h.owner.files["/photo.jpg"])


_SPECIAL: dict[str, Callable[[_Handler, int], None]] = {
    "/busy.jpg": _busy,
    "/flaky.jpg": _flaky,
    "/stall.jpg": _stall,
    "/big-length.jpg": lambda h, n: h.send_stream(length=True),
    "/big-stream.jpg": lambda h, n: h.send_stream(length=False),
    "/forbidden.jpg": lambda h, n: h.send_body(b"no", "text/plain", status=403),
}


@contextmanager
def serving(*, big_bytes: int = 3_000_000, stall_s: float = 5.0) -> Iterator[ImageServer]:
    """A started ImageServer for a pytest fixture: `with serving() as s: yield s`."""
    with ImageServer(big_bytes=big_bytes, stall_s=stall_s) as server:
        yield server
