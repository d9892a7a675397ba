"""The local server's JSON API over real loopback HTTP, and the LocalBackend around it."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.crowd.specs import make_spec, make_tasks
from yamlset.crowd.base import LabelContext, LabelTask, Outcome, Progress
from yamlset.crowd.local import LocalBackend, LocalServer, serve
from yamlset.errors import CrowdError
from yamlset.spec.model import Spec
from yamlset.state import Store

TOKEN = "secret-token"


@pytest.fixture
def spec(tmp_path: Path) -> Spec:
    return make_spec(tmp_path, tasks_per_page=3, overlap=2)


@pytest.fixture
def tasks(tmp_path: Path) -> tuple[LabelTask, ...]:
    return make_tasks(tmp_path / "derived", 6)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "state")
    yield s
    s.close()


@pytest.fixture
def server(spec: Spec, store: Store, tasks: tuple[LabelTask, ...]) -> Iterator[LocalServer]:
    with LocalServer(spec, store, tasks, token=TOKEN) as s:
        yield s


def api(server: LocalServer, method: str, path: str, **kw: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    return requests.request(method, server.base_url + path, headers=headers, timeout=10, **kw)


def take(server: LocalServer, labeler: str) -> dict[str, Any] | None:
    r = api(server, "GET", "/api/next", params={"labeler": labeler})
    assert r.status_code in (200, 204), r.text
    return None if r.status_code == 204 else dict(r.json())


def answer(server: LocalServer, page: dict[str, Any], labeler: str, value: str) -> Any:
    answers = {t["id"]: value for t in page["tasks"]}
    body = {"page": page["page"], "labeler": labeler, "answers": answers}
    return api(server, "POST", "/api/submit", json=body)


def test_next_gives_a_page_with_options(server: LocalServer, tasks: tuple[LabelTask, ...]) -> None:
    page = take(server, "ann")
    assert page == {
        "page": 1,
        "tasks": [{"id": t.item, "image": f"/images/{t.item}"} for t in tasks[:3]],
        "options": [
            {"value": "cat", "title": "Cat"},
            {"value": "dog", "title": "Dog"},
            {"value": "other", "title": "Someone else / no one"},
        ],
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/"), ("GET", "/api/next?labeler=ann"), ("POST", "/api/submit"), ("GET", "/images/x")],
)
def test_everything_but_health_needs_the_token(server: LocalServer, method: str, path: str) -> None:
    assert requests.request(method, server.base_url + path, timeout=10).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    r = requests.request(method, server.base_url + path, headers=wrong, timeout=10)
    assert r.status_code == 401
    assert requests.get(server.base_url + "/health", timeout=10).json() == {"ok": True}


def test_the_token_works_in_the_query(server: LocalServer) -> None:
    r = requests.get(server.url, timeout=10)
    assert r.status_code == 200
    assert "text/html" in r.headers["Content-Type"]
    assert TOKEN not in r.text  # the page reads it from its URL; it is never written into it
    assert "script-src 'sha256-" in r.headers["Content-Security-Policy"]


def test_images_are_served_for_tasks_only(
    server: LocalServer, tasks: tuple[LabelTask, ...]
) -> None:
    r = api(server, "GET", f"/images/{tasks[0].item}")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "image/jpeg"
    assert r.content == tasks[0].file.read_bytes()
    assert api(server, "GET", "/images/..%2Fstate.db").status_code == 404
    assert api(server, "GET", "/images/" + "0" * 64).status_code == 404


def test_answers_are_stored_and_204_when_done(server: LocalServer, store: Store) -> None:
    for labeler in ("ann", "bob"):
        while (page := take(server, labeler)) is not None:
            r = answer(server, page, labeler, "dog")
            assert r.json() == {"ok": True, "stored": 3}
    assert take(server, "cid") is None
    assert len(store.answers("local")) == 12
    assert {(a.assignment.startswith("page-"), a.value) for a in store.answers()} == {(True, "dog")}
    assert server.book.tally().done


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b"[1, 2]", 400),
        (b'{"page": "1", "labeler": "ann", "answers": {}}', 400),
        (b'{"page": 1, "labeler": "ann", "answers": {"x": 1}}', 400),
        (b'{"page": 1, "labeler": "bob", "answers": {"x": "cat"}}', 400),
        (b'{"page": 7, "labeler": "ann", "answers": {"x": "cat"}}', 400),
    ],
)
def test_bad_bodies_get_a_json_error(server: LocalServer, body: bytes, status: int) -> None:
    assert take(server, "ann") is not None
    r = api(server, "POST", "/api/submit", data=body)
    assert r.status_code == status
    assert r.json()["error"]


def test_resubmitting_a_page_is_a_conflict(server: LocalServer) -> None:
    page = take(server, "ann")
    assert page is not None
    assert answer(server, page, "ann", "cat").status_code == 200
    r = answer(server, page, "ann", "dog")
    assert r.status_code == 409


def test_concurrent_submissions_lose_nothing(
    tmp_path: Path, store: Store, tasks: tuple[LabelTask, ...]
) -> None:
    spec = make_spec(tmp_path, tasks_per_page=1, overlap=4)
    names = ["ann", "bob", "cid", "dan"]
    barrier = threading.Barrier(len(names))
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            barrier.wait()
            while (page := take(server, name)) is not None:
                assert answer(server, page, name, "cat").status_code == 200
        except BaseException as e:  # surfaced in the main thread below
            errors.append(e)

    with LocalServer(spec, store, tasks, token=TOKEN) as server:
        threads = [threading.Thread(target=work, args=(n,)) for n in names]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    counts = Counter((a.item, a.labeler) for a in store.answers("local"))
    assert len(counts) == len(tasks) * len(names)
    assert set(counts.values()) == {1}


def progress_log() -> tuple[Progress, list[str], list[tuple[str, int, int]]]:
    messages: list[str] = []
    steps: list[tuple[str, int, int]] = []
    return Progress(messages.append, lambda *a: steps.append(a)), messages, steps


def test_backend_serves_until_every_task_has_its_answers(
    spec: Spec, store: Store, tasks: tuple[LabelTask, ...]
) -> None:
    progress, messages, steps = progress_log()
    ctx = LabelContext(spec, store, tasks, progress, environ={}, open_browser=True)
    opened: list[str] = []
    backend = LocalBackend(token=TOKEN, poll_s=0.05, open_url=opened.append)
    outcome: list[Outcome] = []
    runner = threading.Thread(target=lambda: outcome.append(backend.label(ctx)))
    runner.start()
    url = _first_url(messages, runner)
    assert opened == [url]
    base = url.split("/?")[0]
    for name in ("ann", "bob"):
        for _ in range(2):  # 6 tasks, 3 a page; the server stops after the last submit
            r = requests.get(
                f"{base}/api/next", params={"labeler": name, "token": TOKEN}, timeout=10
            )
            page = r.json()
            answers = {t["id"]: "cat" for t in page["tasks"]}
            body = {"page": page["page"], "labeler": name, "answers": answers}
            requests.post(f"{base}/api/submit?token={TOKEN}", json=body, timeout=10)
    runner.join(timeout=30)
    assert outcome == [Outcome.DONE]
    assert ("answers", 12, 12) in steps
    assert ("pages by ann", 2, 0) in steps
    # a second run finds everything labeled and serves nothing
    assert backend.label(ctx) is Outcome.DONE


def test_backend_without_wait_returns_waiting(
    spec: Spec, store: Store, tasks: tuple[LabelTask, ...]
) -> None:
    progress, messages, _ = progress_log()
    ctx = LabelContext(spec, store, tasks, progress, environ={}, wait=False)
    assert LocalBackend().label(ctx) is Outcome.WAITING
    assert messages == []


def test_serve_stops_when_told(spec: Spec, store: Store, tasks: tuple[LabelTask, ...]) -> None:
    progress, messages, _ = progress_log()
    stop = threading.Event()
    result: list[object] = []
    runner = threading.Thread(
        target=lambda: result.append(
            serve(
                spec,
                store,
                tasks,
                host="127.0.0.1",
                port=0,
                token=TOKEN,
                progress=progress,
                stop=stop,
            )
        )
    )
    runner.start()
    url = _first_url(messages, runner)
    assert f"?token={TOKEN}" in url
    assert requests.get(url, timeout=10).status_code == 200
    stop.set()
    runner.join(timeout=30)
    assert len(result) == 1
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=10)


def _first_url(messages: list[str], runner: threading.Thread) -> str:
    """The URL the backend reports, once it has reported it."""
    done = threading.Event()
    while not messages and runner.is_alive():
        done.wait(0.01)
    assert messages, "the backend stopped before reporting its URL"
    return next(word for word in messages[0].split() if word.startswith("http://"))


def test_a_busy_port_is_a_user_error(
    spec: Spec, store: Store, tasks: tuple[LabelTask, ...], server: LocalServer
) -> None:
    port = int(server.base_url.rsplit(":", 1)[1])
    with pytest.raises(CrowdError, match=f"127.0.0.1:{port}"):
        LocalServer(spec, store, tasks, port=port).start()
