"""The local labeling server: the task page and its JSON API on a loopback port.

    GET  /health                      no token: {"ok": true}
    GET  /?token=T                    the labeling page
    GET  /api/next?labeler=NAME       200 {"page", "tasks": [{"id", "image"}], "options"} | 204
    POST /api/submit                  {"page", "labeler", "answers": {TASK_ID: VALUE}}
                                      -> 200 {"ok": true, "stored": N}
    GET  /images/<item>               the task's resized image

Everything but /health needs the token, as `?token=` or `Authorization: Bearer`. Errors are
JSON `{"error": "..."}`: 400 bad request, 401 no token, 403 labeler not listed, 404, 409 page
already submitted. The token lives in memory only: never in the state or the page itself.
"""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from yamlset.crowd.base import LabelTask
from yamlset.crowd.local.pages import Page, PageBook, PageError, shared_store
from yamlset.errors import CrowdError
from yamlset.page import render_page
from yamlset.spec.model import Spec
from yamlset.state import Store

MAX_BODY = 1_000_000  # bytes of a submit: a 1,000-task page is ~100 kB


@dataclass(frozen=True)
class _Site:
    """What every request handler reads; built once when the server starts."""

    book: PageBook
    token: str
    page: bytes
    csp: str
    images: Mapping[str, Path]
    options: tuple[dict[str, str], ...]
    on_submit: Callable[[], None]
    on_error: Callable[[str], None]


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # an idle keep-alive connection must not hold the process open

    def __init__(self, address: tuple[str, int], site: _Site) -> None:
        self.site = site
        self.busy = 0  # requests being answered; stop() lets them finish
        self.idle = threading.Condition()
        super().__init__(address, _Handler)

    def drain(self, timeout: float) -> None:
        """Wait until no request is mid-answer: the submit that finished the job still gets
        its reply before the process moves on (and may exit)."""
        with self.idle:
            self.idle.wait_for(lambda: self.busy == 0, timeout)


class LocalServer:
    """The page and API in a background thread. Use as a context manager, or start()/stop().

    It opens its own connection to the store's database, shared by the request threads."""

    def __init__(
        self,
        spec: Spec,
        store: Store,
        tasks: Sequence[LabelTask],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        now: Callable[[], float] = time.time,
        on_error: Callable[[str], None] = lambda message: None,
    ) -> None:
        self.token = token or secrets.token_urlsafe(24)
        self.changed = threading.Event()  # set after every stored submit
        self._store = shared_store(store.dir)
        self.book = make_book(spec, self._store, tasks, now=now)
        self._site = _site(spec, self.book, tasks, self.token, self.changed.set, on_error)
        self._address = (host, port)
        self._http: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._http.server_address[:2] if self._http else self._address
        return f"http://{host!s}:{port}"

    @property
    def url(self) -> str:
        """The page's address, token included: the one thing to give labelers."""
        return f"{self.base_url}/?token={quote(self.token)}"

    def start(self) -> LocalServer:
        try:
            self._http = _HTTPServer(self._address, self._site)
        except OSError as e:
            self._store.close()
            host, port = self._address
            raise CrowdError(
                f"cannot serve the labeling page on {host}:{port} ({e.strerror}); "
                "choose another crowd.port (or serve --port)"
            ) from None
        self._thread = threading.Thread(
            target=self._http.serve_forever,
            kwargs={"poll_interval": 0.05},  # how soon stop() is heard
            name="yamlset-local",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.drain(timeout=5.0)
            self._http.server_close()
            self._http = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._store.close()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def make_book(
    spec: Spec, store: Store, tasks: Sequence[LabelTask], *, now: Callable[[], float] = time.time
) -> PageBook:
    """The page assignment of `spec`'s pool over `tasks`."""
    return PageBook(
        store,
        [t.item for t in tasks],
        per_page=spec.pool.tasks_per_page,
        overlap=spec.pool.overlap,
        time_per_page_s=spec.pool.time_per_page_s,
        options=[value for value, _ in spec.options()],
        labelers=spec.crowd.labelers,
        now=now,
    )


def _site(
    spec: Spec,
    book: PageBook,
    tasks: Sequence[LabelTask],
    token: str,
    on_submit: Callable[[], None],
    on_error: Callable[[str], None],
) -> _Site:
    # The page carries no token: its script reads it from the page's own URL.
    page = render_page(spec, backend="local")
    csp = (
        f"default-src 'none'; script-src '{_sha256(page.js)}'; style-src '{_sha256(page.css)}'; "
        "img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )
    return _Site(
        book=book,
        token=token,
        page=page.html.encode(),
        csp=csp,
        images={t.item: t.file for t in tasks},
        options=tuple({"value": v, "title": t} for v, t in spec.options()),
        on_submit=on_submit,
        on_error=on_error,
    )


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


class _Handler(BaseHTTPRequestHandler):
    server_version = "yamlset"
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # core code never prints; the URL carries the token, so no access log either

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        with self.server.idle:
            self.server.busy += 1
        try:
            self._answer(method)
            self.wfile.flush()
        finally:
            with self.server.idle:
                self.server.busy -= 1
                self.server.idle.notify_all()

    def _answer(self, method: str) -> None:
        site = self.server.site
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        try:
            if (method, url.path) == ("GET", "/health"):
                return self._json(200, {"ok": True})
            if not self._authorized(site.token, query):
                return self._unauthorized(url.path)
            self._route(site, method, url.path, query)
        except PageError as e:
            self._json(e.status, {"error": str(e)})
        except Exception as e:  # a bug: answer 500 and tell the operator, keep serving
            site.on_error(f"local server: {method} {url.path}: {type(e).__name__}: {e}")
            self._json(500, {"error": "internal error"})

    def _route(self, site: _Site, method: str, path: str, query: dict[str, list[str]]) -> None:
        if method == "GET" and path in ("/", "/index.html"):
            self._send(
                200, site.page, "text/html; charset=utf-8", {"Content-Security-Policy": site.csp}
            )
        elif method == "GET" and path == "/api/next":
            self._next(site, query.get("labeler", [""])[0])
        elif method == "POST" and path == "/api/submit":
            self._submit(site)
        elif method == "GET" and path.startswith("/images/"):
            self._image(site, path.removeprefix("/images/"))
        else:
            self._json(404, {"error": f"no {method} {path}"})

    def _next(self, site: _Site, labeler: str) -> None:
        page = site.book.next_page(labeler)
        if page is None:
            self._send(204, b"", "application/json")
        else:
            self._json(200, _page_json(page, site.options))

    def _submit(self, site: _Site) -> None:
        page_id, labeler, answers = _parse_submit(self._body())
        stored = site.book.submit(page_id, labeler, answers)
        site.on_submit()
        self._json(200, {"ok": True, "stored": stored})

    def _image(self, site: _Site, item: str) -> None:
        path = site.images.get(item)
        if path is None:  # only the task list's files, never a path from the request
            return self._json(404, {"error": "no such image"})
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        self._send(200, path.read_bytes(), kind, {"Cache-Control": "private, max-age=3600"})

    def _body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            raise PageError(400, "send a JSON body with a Content-Length") from None
        if not 0 < length <= MAX_BODY:
            raise PageError(400, f"the body must be 1 to {MAX_BODY} bytes")
        return self.rfile.read(length)

    def _authorized(self, token: str, query: dict[str, list[str]]) -> bool:
        given = query.get("token", [""])[0]
        header = self.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            given = header.removeprefix("Bearer ").strip()
        return secrets.compare_digest(given.encode(), token.encode())

    def _unauthorized(self, path: str) -> None:
        headers = {"WWW-Authenticate": "Bearer"}
        if path in ("/", "/index.html"):  # a person in a browser: say what to do
            text = b"Open the link that yamlset printed: it carries the access token.\n"
            return self._send(401, text, "text/plain; charset=utf-8", headers)
        body = json.dumps({"error": "missing or wrong token"}).encode()
        self._send(401, body, "application/json", headers)

    def _json(self, status: int, value: object) -> None:
        self._send(status, json.dumps(value).encode(), "application/json")

    def _send(
        self, status: int, body: bytes, kind: str, headers: Mapping[str, str] | None = None
    ) -> None:
        self.send_response(status, HTTPStatus(status).phrase)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(body)


def _page_json(page: Page, options: Sequence[dict[str, str]]) -> dict[str, object]:
    tasks = [{"id": item, "image": f"/images/{quote(item)}"} for item in page.items]
    return {"page": page.id, "tasks": tasks, "options": list(options)}


def _parse_submit(body: bytes) -> tuple[int, str, dict[str, str]]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise PageError(400, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise PageError(400, 'send {"page", "labeler", "answers"}')
    page, labeler, answers = data.get("page"), data.get("labeler"), data.get("answers")
    if not isinstance(page, int) or isinstance(page, bool):
        raise PageError(400, "page: give the page id from /api/next")
    if not isinstance(labeler, str):
        raise PageError(400, "labeler: give the labeler's name")
    if not isinstance(answers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in answers.items()
    ):
        raise PageError(400, "answers: give an object of task id -> answer value")
    return page, labeler, answers
