"""A Custom Search JSON API stand-in on loopback (GET /customsearch/v1, searchType=image).

Answers the documented `Search` resource (kind, url, queries.request/nextPage, context,
searchInformation, items with `image`), 400 for num > 10 or start + num > 101, and the
Google error JSON for a bad key, an exhausted quota (429) and a forbidden project (403).
"""

from __future__ import annotations

import random
from typing import Any

from tests.fakes._http import JsonHandler, LoopbackFake
from tests.fakes._http import Request as Request

PATH = "/customsearch/v1"
MAX_NUM = 10
MAX_END = 101  # start + num may not exceed this: no result past the 100th

Answer = tuple[int, Any]

QUOTA_MESSAGE = (
    "Quota exceeded for quota metric 'Queries' and limit 'Queries per day' of service "
    "'customsearch.googleapis.com' for consumer 'project_number:1234567890'."
)
FORBIDDEN_MESSAGE = "This project does not have the access to Custom Search JSON API."


class FakeGoogle(LoopbackFake):
    """`catalogue_size_per_query` images for every query (the API shows at most 100).

    Faults: `quota_after` answers 429 after that many requests; `forbidden` answers 403.
    """

    def __init__(
        self,
        catalogue_size_per_query: int = 300,
        image_base_url: str = "http://127.0.0.1:9/images",
        *,
        key: str = "test-key",
        cx: str = "test-cx",
        seed: int = 0,
        quota_after: int | None = None,
        forbidden: bool = False,
    ) -> None:
        self.size = catalogue_size_per_query
        self.image_base_url = image_base_url.rstrip("/")
        self.key, self.cx, self.seed = key, cx, seed
        self.quota_after = quota_after
        self.forbidden = forbidden
        super().__init__(_Handler, PATH)

    def catalogue(self, query: str) -> list[dict[str, Any]]:
        """The result items a query finds, in rank order."""
        rng = random.Random(f"{self.seed}:{query}")
        items = []
        for i in range(self.size):
            width, height = rng.randint(200, 3000), rng.randint(200, 3000)
            items.append(
                {
                    "kind": "customsearch#result",
                    "title": f"{query} photo {i}",
                    "htmlTitle": f"<b>{query}</b> photo {i}",
                    "link": f"{self.image_base_url}/{i}.jpg",
                    "displayLink": "example.org",
                    "snippet": f"{query} photo {i}",
                    "htmlSnippet": f"<b>{query}</b> photo {i}",
                    "mime": "image/jpeg",
                    "fileFormat": "image/jpeg",
                    "image": {
                        "contextLink": f"https://example.org/page/{i}",
                        "height": height,
                        "width": width,
                        "byteSize": rng.randint(10_000, 2_000_000),
                        "thumbnailLink": f"https://encrypted-tbn0.gstatic.com/images?q=tbn:{i}",
                        "thumbnailHeight": 100,
                        "thumbnailWidth": 100,
                    },
                }
            )
        return items

    def answer(self, params: dict[str, str]) -> Answer:
        if self.forbidden:
            return _error(403, FORBIDDEN_MESSAGE, "PERMISSION_DENIED", "forbidden")
        if self.quota_after is not None and len(self.requests) >= self.quota_after:
            return _error(429, QUOTA_MESSAGE, "RESOURCE_EXHAUSTED", "rateLimitExceeded")
        if params.get("key") != self.key:
            message = "API key not valid. Please pass a valid API key."
            return _error(400, message, "INVALID_ARGUMENT", "badRequest")
        num, start = int(params.get("num", "10")), int(params.get("start", "1"))
        if params.get("cx") != self.cx or num > MAX_NUM or start < 1 or start + num > MAX_END:
            return _error(400, "Request contains an invalid argument.", "INVALID_ARGUMENT", "")
        return 200, self._search(params, num, start)

    def _search(self, params: dict[str, str], num: int, start: int) -> dict[str, Any]:
        query = params.get("q", "")
        shown = min(self.size, MAX_END - 1)
        items = self.catalogue(query)[start - 1 : min(start - 1 + num, shown)]
        total = str(self.size)
        request: dict[str, Any] = {"title": f"Google Custom Search - {query}"}
        request |= {"totalResults": total}
        request |= {"searchTerms": query, "count": num, "startIndex": start}
        request |= {"inputEncoding": "utf8", "outputEncoding": "utf8", "safe": "off"}
        request |= {"cx": self.cx, "searchType": "image"}
        queries: dict[str, Any] = {"request": [request]}
        if start + num <= shown and start + 2 * num <= MAX_END:
            queries["nextPage"] = [{**request, "startIndex": start + num}]
        if start > 1:
            queries["previousPage"] = [{**request, "startIndex": max(1, start - num)}]
        body: dict[str, Any] = {
            "kind": "customsearch#search",
            "url": {"type": "application/json", "template": "https://www.googleapis.com/..."},
            "queries": queries,
            "context": {"title": "test engine"},
            "searchInformation": {
                "searchTime": 0.2,
                "formattedSearchTime": "0.20",
                "totalResults": total,
                "formattedTotalResults": f"{self.size:,}",
            },
        }
        if items:  # the API leaves `items` out when there are none
            body["items"] = items
        return body


def _error(code: int, message: str, status: str, reason: str) -> Answer:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    error["errors"] = [{"message": message, "domain": "global", "reason": reason or "invalid"}]
    return code, {"error": error}


class _Handler(JsonHandler):
    content_type = "application/json; charset=UTF-8"

    def do_GET(self) -> None:
        fake: FakeGoogle = self.fake
        path, params = self.query()
        status, body = fake.answer(params) if path == PATH else (404, {"error": {}})
        self.answer_json(path, params, (status, {}, body))
