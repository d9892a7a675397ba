"""A MediaWiki Action API stand-in on loopback: generator=search + prop=imageinfo, v2 JSON.

Answers the shapes of commons.wikimedia.org/w/api.php with formatversion=2: pages as a
list in no particular order (the rank is each page's `index`), `continue.gsroffset` while
more results remain, `batchcomplete`, and the maxlag error with Retry-After.
"""

from __future__ import annotations

import random
import threading
from typing import Any

from tests.fakes._http import JsonHandler, LoopbackFake
from tests.fakes._http import Request as Request

LICENSES = (  # (LicenseShortName, LicenseUrl) as Commons writes them
    ("CC BY-SA 4.0", "https://creativecommons.org/licenses/by-sa/4.0"),
    ("CC BY 2.0", "https://creativecommons.org/licenses/by/2.0"),
    ("CC0", "http://creativecommons.org/publicdomain/zero/1.0/deed.en"),
    ("Public domain", ""),
    ("GFDL", "http://www.gnu.org/copyleft/fdl.html"),
    ("CC BY-NC 2.0", "https://creativecommons.org/licenses/by-nc/2.0"),
)
MAX_LIMIT = 50  # gsrlimit's ceiling without the bot right
FILTER = " filetype:bitmap"


class FakeWikimedia(LoopbackFake):
    """`catalogue_size_per_query` files for every query, images under `image_base_url`.

    Faults: `maxlag_times` answers that many requests with the maxlag error first;
    `error` = (code, info) answers every request with that API error.
    """

    def __init__(
        self,
        catalogue_size_per_query: int = 130,
        image_base_url: str = "http://127.0.0.1:9/images",
        *,
        seed: int = 0,
        maxlag_times: int = 0,
        retry_after: int = 5,
        error: tuple[str, str] | None = None,
    ) -> None:
        self.size = catalogue_size_per_query
        self.image_base_url = image_base_url.rstrip("/")
        self.seed = seed
        self.maxlag_times = maxlag_times
        self.retry_after = retry_after
        self.error = error
        self._lock = threading.Lock()
        super().__init__(_Handler, "/w/api.php")

    def catalogue(self, query: str) -> list[dict[str, Any]]:
        """The files a query finds, best first: the rank order the API reports via `index`."""
        rng = random.Random(f"{self.seed}:{query}")
        slug = "".join(c if c.isalnum() else "_" for c in query)
        files = []
        for i in range(self.size):
            name = f"{slug}_{i}.jpg"
            short, url = LICENSES[i % len(LICENSES)]
            files.append(
                {
                    "pageid": 1000 + i + 10_000 * (sum(map(ord, query)) % 97),
                    "title": f"File:{name}",
                    "name": name,
                    "width": rng.randint(300, 4000),
                    "height": rng.randint(300, 4000),
                    "size": rng.randint(10_000, 5_000_000),
                    "sha1": f"{rng.getrandbits(160):040x}",
                    "license": (short, url),
                    "artist": f'<a href="//commons.wikimedia.org/wiki/User:A{i}" '
                    f'title="User:A{i}">Author&nbsp;{i}</a> &amp; <b>co</b>',
                }
            )
        return files

    def answer(self, params: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        with self._lock:
            if self.maxlag_times > 0:
                self.maxlag_times -= 1
                return 200, self._lag_headers(), _maxlag_error()
        if self.error is not None:
            code, info = self.error
            return 200, {}, {"error": {"code": code, "info": info, "docref": _DOCREF}}
        query = params.get("gsrsearch", "").removesuffix(FILTER)
        offset = int(params.get("gsroffset", "0"))
        limit = min(int(params.get("gsrlimit", "10")), MAX_LIMIT)
        found = self.catalogue(query)[offset : offset + limit]
        if not found:
            return 200, {}, {"batchcomplete": True}
        width = int(params["iiurlwidth"]) if "iiurlwidth" in params else None
        pages = [self._page(f, offset + i + 1, width) for i, f in enumerate(found)]
        random.Random(offset).shuffle(pages)  # the API gives no order; index is the rank
        body: dict[str, Any] = {"batchcomplete": True, "query": {"pages": pages}}
        if offset + limit < self.size:
            body["continue"] = {"gsroffset": offset + limit, "continue": "gsroffset||"}
        return 200, {}, body

    def _page(self, f: dict[str, Any], index: int, width: int | None) -> dict[str, Any]:
        url = f"{self.image_base_url}/{f['name'][0]}/{f['name'][:2]}/{f['name']}"
        info: dict[str, Any] = {"size": f["size"], "width": f["width"], "height": f["height"]}
        if width is not None:
            info.update(_thumb(url, f, width, self.image_base_url))
        short, license_url = f["license"]
        meta = {
            "LicenseShortName": {"value": short, "source": "commons-desc-page", "hidden": True},
            "Artist": {"value": f["artist"], "source": "commons-desc-page"},
            "AttributionRequired": {"value": "true", "source": "commons-desc-page"},
        }
        if license_url:
            meta["LicenseUrl"] = {"value": license_url, "source": "commons-desc-page"}
        info.update(
            url=url,
            descriptionurl=f"https://commons.wikimedia.org/wiki/{f['title']}",
            descriptionshorturl=f"https://commons.wikimedia.org/w/index.php?curid={f['pageid']}",
            sha1=f["sha1"],
            mime="image/jpeg",
            extmetadata=meta,
        )
        return {
            "pageid": f["pageid"],
            "ns": 6,
            "title": f["title"],
            "index": index,
            "imagerepository": "local",
            "imageinfo": [info],
        }

    def _lag_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after), "X-Database-Lag": "7"}


_DOCREF = "See http://127.0.0.1/w/api.php for API usage."


def _maxlag_error() -> dict[str, Any]:
    info = "Waiting for 10.64.48.35: 7 seconds lagged."
    error = {"code": "maxlag", "info": info, "host": "10.64.48.35", "lag": 7, "type": "db"}
    return {"error": {**error, "docref": _DOCREF}, "servedby": "mw-api-ext"}


def _thumb(url: str, f: dict[str, Any], width: int, base: str) -> dict[str, Any]:
    if width >= f["width"]:  # never upscaled: the original stands in for the thumbnail
        return {"thumburl": url, "thumbwidth": f["width"], "thumbheight": f["height"]}
    name = f["name"]
    return {
        "thumburl": f"{base}/thumb/{name[0]}/{name[:2]}/{name}/{width}px-{name}",
        "thumbwidth": width,
        "thumbheight": round(f["height"] * width / f["width"]),
    }


class _Handler(JsonHandler):
    content_type = "application/json; charset=utf-8"

    def do_GET(self) -> None:
        fake: FakeWikimedia = self.fake
        path, params = self.query()
        self.answer_json(path, params, fake.answer(params))
