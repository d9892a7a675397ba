"""What the fake JSON APIs share: a loopback server in a daemon thread, and a handler that
records each request and answers it with JSON.

    class FakeThing(LoopbackFake):
        def __init__(self) -> None:
            super().__init__(_Handler, "/api")

    class _Handler(JsonHandler):
        def do_GET(self) -> None:
            path, params = self.query()
            self.answer_json(path, params, self.fake.answer(params))
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

Answer = tuple[int, Mapping[str, str], Any]  # status, extra headers, JSON body


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]


class LoopbackFake:
    """Serves `handler` on 127.0.0.1:<free port>; the handler finds the fake as `self.fake`."""

    def __init__(self, handler: type[JsonHandler], api_path: str) -> None:
        self.requests: list[Request] = []
        self.base_url = ""
        self._handler, self._api_path = handler, api_path
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> str:
        """Serve on 127.0.0.1:<free port>; returns the api_url."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler)
        self._server.fake = self  # type: ignore[attr-defined]
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        return self.base_url + self._api_path

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


class JsonHandler(BaseHTTPRequestHandler):
    content_type = "application/json"

    @property
    def fake(self) -> Any:
        return self.server.fake  # type: ignore[attr-defined]

    def query(self) -> tuple[str, dict[str, str]]:
        """The request's path and query parameters."""
        parts = urlsplit(self.path)
        return parts.path, dict(parse_qsl(parts.query, keep_blank_values=True))

    def answer_json(self, path: str, params: dict[str, str], answer: Answer) -> None:
        """Record the request in `fake.requests`, then send `answer`."""
        request = Request(self.command, path, params, dict(self.headers.items()))
        self.fake.requests.append(request)
        status, headers, body = answer
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(payload)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass
