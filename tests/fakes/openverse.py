"""An Openverse API stand-in on loopback: /v1/images/ search and /v1/auth_tokens/token/.

Answers the documented shapes: `{result_count, page_count, page_size, page, results,
warnings}`, 401 for anonymous page_size above 20, 400 past page 20, client-credentials
tokens, X-RateLimit-Limit-*/X-RateLimit-Available-* headers and 429 with Retry-After.
"""

from __future__ import annotations

import math
import random
import threading
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fakes._http import JsonHandler, LoopbackFake
from tests.fakes._http import Request as Request

LICENSES = (  # (code, version) as Openverse reports them
    ("by", "2.0"),
    ("by-sa", "4.0"),
    ("cc0", "1.0"),
    ("pdm", "1.0"),
    ("by-nc-nd", "3.0"),
)
ANONYMOUS_PAGE_SIZE = 20
MAX_PAGE_SIZE = 500
MAX_PAGES = 20
SEARCH_PATH = "/v1/images/"
TOKEN_PATH = "/v1/auth_tokens/token/"

Answer = tuple[int, dict[str, str], Any]


class FakeOpenverse(LoopbackFake):
    """`catalogue_size_per_query` images for every query, files under `image_base_url`.

    Faults: `throttle_after` answers 429 (with `retry_after`) to search requests after that
    many (`throttle_times` of them, or all when None); `burst` = (limit, period) reports an
    X-RateLimit-*-anon_burst window counting down. `clients` maps client ids to secrets.
    """

    def __init__(
        self,
        catalogue_size_per_query: int = 500,
        image_base_url: str = "http://127.0.0.1:9/images",
        *,
        seed: int = 0,
        throttle_after: int | None = None,
        throttle_times: int | None = None,
        retry_after: int = 86_400,
        burst: tuple[int, str] | None = None,
        clients: dict[str, str] | None = None,
    ) -> None:
        self.size = catalogue_size_per_query
        self.image_base_url = image_base_url.rstrip("/")
        self.seed = seed
        self.throttle_after = throttle_after
        self.throttle_times = throttle_times
        self.retry_after = retry_after
        self.burst = burst
        self.clients = dict(clients or {})
        self.tokens: set[str] = set()
        self._searches = 0
        self._lock = threading.Lock()
        super().__init__(_Handler, SEARCH_PATH)  # start() returns the api_url of image search

    def catalogue(self, query: str) -> list[dict[str, Any]]:
        """The images a query finds, in the API's rank order."""
        rng = random.Random(f"{self.seed}:{query}")
        items = []
        for i in range(self.size):
            uid = f"{rng.getrandbits(128):032x}"
            uid = f"{uid[:8]}-{uid[8:12]}-{uid[12:16]}-{uid[16:20]}-{uid[20:]}"
            code, version = LICENSES[i % len(LICENSES)]
            kind = "publicdomain/zero" if code == "cc0" else "publicdomain/mark"
            path = kind if code in ("cc0", "pdm") else f"licenses/{code}"
            items.append(
                {
                    "id": uid,
                    "title": f"{query} {i}",
                    "indexed_on": "2024-01-01T00:00:00Z",
                    "foreign_landing_url": f"https://www.flickr.com/photos/x/{i}",
                    "url": f"{self.image_base_url}/{uid}.jpg",
                    "creator": f"creator {i}",
                    "creator_url": None,
                    "license": code,
                    "license_version": version,
                    "license_url": f"https://creativecommons.org/{path}/{version}/",
                    "provider": "flickr",
                    "source": "flickr",
                    "category": None,
                    "filesize": None,
                    "filetype": "jpg",
                    "tags": [],
                    "attribution": f'"{query} {i}" by creator {i} is licensed under CC '
                    f"{code.upper()} {version}.",
                    "fields_matched": ["title"],
                    "mature": False,
                    "height": rng.randint(200, 3000),
                    "width": rng.randint(200, 3000),
                    "thumbnail": f"{self.base_url}{SEARCH_PATH}{uid}/thumb/",
                    "detail_url": f"{self.base_url}{SEARCH_PATH}{uid}/",
                    "related_url": f"{self.base_url}{SEARCH_PATH}{uid}/related/",
                    "unstable__sensitivity": [],
                }
            )
        return items

    def search(self, params: dict[str, str], headers: dict[str, str]) -> Answer:
        with self._lock:
            self._searches += 1
            count = self._searches
        limits = self._limit_headers(count)
        if self._throttled(count):
            detail = f"Request was throttled. Expected available in {self.retry_after} seconds."
            return 429, {**limits, "Retry-After": str(self.retry_after)}, {"detail": detail}
        authenticated = headers.get("Authorization", "").removeprefix("Bearer ") in self.tokens
        page, size = int(params.get("page", "1")), int(params.get("page_size", "20"))
        if size > (MAX_PAGE_SIZE if authenticated else ANONYMOUS_PAGE_SIZE):
            detail = "Authentication credentials were not provided."
            return 401, limits, {"detail": detail}
        if page > MAX_PAGES:
            return 400, limits, {"detail": "Deep pagination is not allowed."}
        found = self.catalogue(params.get("q", ""))
        if params.get("license"):
            wanted = params["license"].split(",")
            found = [item for item in found if item["license"] in wanted]
        body = {
            "result_count": len(found),
            "page_count": min(MAX_PAGES, math.ceil(len(found) / size)),
            "page_size": size,
            "page": page,
            "results": found[(page - 1) * size : page * size],
            "warnings": [],
        }
        return 200, limits, body

    def token(self, form: dict[str, str]) -> Answer:
        if form.get("grant_type") != "client_credentials":
            return 400, {}, {"error": "unsupported_grant_type"}
        if self.clients.get(form.get("client_id", "")) != form.get("client_secret"):
            return 401, {}, {"error": "invalid_client"}
        token = f"token-{len(self.tokens)}"
        self.tokens.add(token)
        body = {"access_token": token, "scope": "read", "expires_in": 43200, "token_type": "Bearer"}
        return 200, {}, body

    def _throttled(self, count: int) -> bool:
        if self.throttle_after is None or count <= self.throttle_after:
            return False
        return self.throttle_times is None or count <= self.throttle_after + self.throttle_times

    def _limit_headers(self, count: int) -> dict[str, str]:
        if self.burst is None:
            return {}
        limit, period = self.burst
        return {
            "X-RateLimit-Limit-anon_burst": f"{limit}/{period}",
            "X-RateLimit-Available-anon_burst": str(max(0, limit - count)),
        }


_NOT_FOUND: Answer = (404, {}, {"detail": "Not found."})


class _Handler(JsonHandler):
    def do_GET(self) -> None:
        fake: FakeOpenverse = self.fake
        path, params = self.query()
        found = path == SEARCH_PATH
        answer = fake.search(params, dict(self.headers.items())) if found else _NOT_FOUND
        self.answer_json(path, params, answer)

    def do_POST(self) -> None:
        fake: FakeOpenverse = self.fake
        path = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length", "0"))
        form = dict(parse_qsl(self.rfile.read(length).decode()))
        self.answer_json(path, form, fake.token(form) if path == TOKEN_PATH else _NOT_FOUND)
