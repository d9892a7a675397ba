"""kill -9 during apply, then apply again: nothing lost, nothing duplicated, nothing redone."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from tests.conftest import photo, write

N = 60


class _Slow(BaseHTTPRequestHandler):
    bodies: ClassVar[dict[str, bytes]] = {}
    hits: ClassVar[Counter[str]] = Counter()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.hits[self.path] += 1
        time.sleep(0.05)  # slow enough that a kill lands mid-download
        body = self.bodies[self.path]
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def slow_server() -> Iterator[str]:
    _Slow.bodies = {f"/{i}.jpg": photo(1000 + i) for i in range(N)}
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _project(root: Path, base: str) -> Path:
    urls = "\n".join(f"{base}/{i}.jpg" for i in range(N))
    write(
        root,
        {
            "s.yaml": """\
            version: 1
            name: resume
            classes:
              a: {urls: a.txt}
            collect: {threads: 2}
            image: {size: [48, 48]}
            crowd: {backend: files}
            hosting: {type: static, base_url: "http://127.0.0.1:9/r/"}
            output: {dir: out}
        """,
            "a.txt": urls + "\n",
        },
    )
    return root / "s.yaml"


def _apply(spec: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "yamlset", "apply", str(spec), "--yes", "--until", "resize"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _snapshot(spec: Path) -> dict[str, object]:
    db = sqlite3.connect(spec.parent / ".yamlset" / "resume" / "state.db")
    state = spec.parent / ".yamlset" / "resume"
    return {
        "downloads": sorted(db.execute("SELECT url, status, sha256 FROM downloads")),
        "derived": sorted(db.execute("SELECT sha256, params, file FROM derived")),
        "files": sorted(p.name for p in (state / "derived").iterdir()),
        "cache": sorted(p.name for p in (state / "originals").rglob("*") if p.is_file()),
    }


def test_kill_mid_download_then_resume_equals_an_uninterrupted_run(
    tmp_path: Path, slow_server: str
) -> None:
    whole = _project(tmp_path / "whole", slow_server)
    assert _apply(whole).wait(timeout=120) == 0

    spec = _project(tmp_path / "killed", slow_server)
    _Slow.hits.clear()
    proc = _apply(spec)
    db_path = spec.parent / ".yamlset" / "resume" / "state.db"
    deadline = time.monotonic() + 60
    done = 0
    while time.monotonic() < deadline:
        if db_path.exists():
            try:
                done = sqlite3.connect(db_path).execute("SELECT COUNT(*) FROM downloads")
                done = done.fetchone()[0]
            except sqlite3.OperationalError:
                done = 0
            if done >= 10:
                break
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the apply and its worker processes
    proc.wait()
    assert 10 <= done < N, "the kill must land mid-download"

    assert _apply(spec).wait(timeout=120) == 0
    assert _snapshot(spec) == _snapshot(whole)
    # finished downloads were not fetched again: at most the few in flight at the kill
    refetched = sum(n - 1 for n in _Slow.hits.values() if n > 1)
    assert refetched <= 4
    leftovers = [p for p in (spec.parent / ".yamlset").rglob(".*") if p.is_file()]
    assert not [p for p in leftovers if p.name.startswith((".tmp", ".")) and p.name not in {"lock"}]
