"""A stand-in for the Toloka API (`/api/v1/...`) on 127.0.0.1, for tests.

It answers the endpoints toloka-kit 1.2.3 calls for projects, pools, trainings,
skills, tasks, operations and assignments; checks every request against
`../shared/toloka-api/toloka-openapi.relaxed.json` (a request that does not
conform is recorded in `violations` and answered 400); simulates workers who
answer each page of an open pool from a seeded policy; and injects faults on
demand (`fail(...)`): 429 with Retry-After, 500 before or after processing,
a stall past the client's timeout, an async operation that ends FAIL.

    with TolokaStandIn(truth=lambda values: "cat") as api:
        environ = {"TOLOKA_URL": api.url, "TOLOKA_API_KEY": "test"}
"""

from __future__ import annotations

import functools
import json
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

# a copy of ../shared/toloka-api/toloka-openapi.relaxed.json, so a fresh clone tests alone
CONTRACT = Path(__file__).resolve().parent / "toloka_api" / "toloka-openapi.relaxed.json"
SHARED_CONTRACT = (
    Path(__file__).resolve().parents[3] / "shared" / "toloka-api" / "toloka-openapi.relaxed.json"
)
_API_HOST = "https://sandbox.toloka.dev"  # the description's server; only its path part matters

Json = dict[str, Any]
Truth = Callable[[Mapping[str, Any]], str]


class _Reply(Exception):
    """Raised by a handler to answer with an error status and Toloka's error body."""

    def __init__(self, status: int, code: str, message: str = "") -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Fault:
    """Make the next `times` requests matching `method` and `path` (a regex) misbehave."""

    method: str
    path: str
    kind: str  # "429" | "500" | "500-after" | "stall" | "operation-fail"
    times: int = 1
    retry_after: int = 0  # seconds, for "429"
    stall_s: float = 0.0  # for "stall": process, then sleep this long before answering

    def matches(self, method: str, path: str) -> bool:
        hit = method == self.method and re.fullmatch(self.path, path) is not None
        return self.times > 0 and hit


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int


# -- the contract -------------------------------------------------------------------------


@functools.cache
def _openapi() -> Any:
    from openapi_core import OpenAPI  # loads in ~1 s: once per process

    return OpenAPI.from_file_path(str(CONTRACT))


@functools.cache
def _declared_queries() -> list[tuple[str, re.Pattern[str], frozenset[str]]]:
    """(method, path regex, query parameter names) of every operation, to catch unknown ones."""
    doc = json.loads(CONTRACT.read_text())
    out = []
    for template, item in doc["paths"].items():
        pattern = re.compile("/api/v1" + re.sub(r"\{[^}]+\}", "[^/]+", template))
        shared = item.get("parameters", [])
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                params = [_deref(doc, p) for p in [*shared, *op.get("parameters", [])]]
                names = frozenset(p["name"] for p in params if p.get("in") == "query")
                out.append((method.upper(), pattern, names))
    return out


def _deref(doc: Json, node: Json) -> Json:
    while "$ref" in node:
        target: Any = doc
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def check_request(
    method: str, path: str, query: Mapping[str, str], body: bytes, headers: Mapping[str, str]
) -> str | None:
    """Why this request breaks the API description, or None when it conforms."""
    from openapi_core.testing import MockRequest

    for m, pattern, names in _declared_queries():
        if m == method and pattern.fullmatch(path):
            unknown = sorted(set(query) - names)
            if unknown:
                return f"{method} {path}: undeclared query parameters {unknown}"
            break
    request = MockRequest(
        _API_HOST,
        method.lower(),
        path,
        args=dict(query),
        headers=dict(headers),
        data=body or None,
        content_type=headers.get("Content-Type", "application/json"),
    )
    try:
        _openapi().validate_request(request)
    except Exception as exc:  # openapi-core raises a family of errors; all are violations
        cause = exc.__cause__ or exc
        return f"{method} {path}: {type(exc).__name__}: {cause}"
    return None


# -- the stand-in --------------------------------------------------------------------------


def _now() -> str:
    # Toloka's timestamps are naive UTC with milliseconds
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="milliseconds")


class TolokaStandIn:
    """The fake API server. Use as a context manager; `url` is its base URL."""

    def __init__(
        self,
        *,
        truth: Truth | None = None,
        accuracies: Sequence[float] = (1.0, 1.0, 1.0, 1.0, 1.0),
        seed: int = 0,
        balance: float = 100.0,
        fee_percent: float = 30.0,
        fee_min: float = 0.005,
        pages_per_poll: int | None = None,
    ) -> None:
        self.truth = truth or (lambda values: "other")
        self.accuracies = tuple(accuracies)
        self.rng = random.Random(seed)
        self.initial_balance = balance
        self.fee_percent, self.fee_min = fee_percent, fee_min
        # None: every page is done as soon as a pool opens; N: N pages per GET of the pool
        self.pages_per_poll = pages_per_poll
        self.lock = threading.RLock()
        self.violations: list[str] = []
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.projects: dict[str, Json] = {}
        self.pools: dict[str, Json] = {}  # pools and trainings share one id space
        self.trainings: dict[str, Json] = {}
        self.skills: dict[str, Json] = {}
        self.tasks: dict[str, Json] = {}
        self.assignments: dict[str, Json] = {}
        self.operations: dict[str, Json] = {}
        self.logs: dict[str, list[Json]] = {}
        self._pending_ops: dict[str, Callable[[], list[Json]]] = {}
        self._pending_fail: set[str] = set()
        self._fail_next_operation = False
        self._paged: set[str] = set()  # task ids already given out on a page
        self._ids = 0
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ---------------------------------------------------------------

    def __enter__(self) -> TolokaStandIn:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        _openapi()  # load the contract before the first request, not during it
        stand_in = self

        class Handler(_Handler):
            api = stand_in

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start the stand-in first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- test controls ---------------------------------------------------------------

    def fail(self, method: str, path: str, kind: str, **options: Any) -> Fault:
        fault = Fault(method, path, kind, **options)
        with self.lock:
            self.faults.append(fault)
        return fault

    def count(self, method: str, path: str, status: int | None = None) -> int:
        """How many requests matched `method` and `path` (a regex), optionally by status."""
        return sum(
            1
            for r in self.requests
            if r.method == method
            and re.fullmatch(path, r.path)
            and (status is None or r.status == status)
        )

    @property
    def spent(self) -> float:
        with self.lock:
            return round(
                sum(
                    a["reward"] + self._fee(a["reward"])
                    for a in self.assignments.values()
                    if a["status"] != "REJECTED"
                ),
                6,
            )

    @property
    def balance(self) -> float:
        return round(self.initial_balance - self.spent, 6)

    def _fee(self, reward: float) -> float:
        return max(reward * self.fee_percent / 100.0, self.fee_min)

    def _fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    return fault
        return None

    def _new_id(self) -> str:
        self._ids += 1
        return str(self._ids)

    # -- dispatch ------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        for route_method, pattern, name in _ROUTES:
            match = re.fullmatch(pattern, path)
            if route_method == method and match:
                with self.lock:
                    result: tuple[int, Any] = getattr(self, name)(query, body, *match.groups())
                    return result
        raise _Reply(404, "DOES_NOT_EXIST", f"no route {method} {path}")

    # requester and skills

    def get_requester(self, query: Json, body: Any) -> tuple[int, Any]:
        return 200, {"id": "requester-1", "balance": self.balance, "public_name": {"EN": "Test"}}

    def post_skill(self, query: Json, body: Json) -> tuple[int, Any]:
        skill = {**body, "id": self._new_id(), "created": _now()}
        self.skills[skill["id"]] = skill
        return 201, skill

    def list_skills(self, query: Json, body: Any) -> tuple[int, Any]:
        return 200, self._page(self.skills.values(), query)

    def get_skill(self, query: Json, body: Any, sid: str) -> tuple[int, Any]:
        return 200, self._get(self.skills, sid)

    # projects

    def post_project(self, query: Json, body: Json) -> tuple[int, Any]:
        project = {**body, "id": self._new_id(), "status": "ACTIVE", "created": _now()}
        self.projects[project["id"]] = project
        return 201, project

    def list_projects(self, query: Json, body: Any) -> tuple[int, Any]:
        return 200, self._page(self.projects.values(), query)

    def get_project(self, query: Json, body: Any, pid: str) -> tuple[int, Any]:
        return 200, self._get(self.projects, pid)

    def put_project(self, query: Json, body: Json, pid: str) -> tuple[int, Any]:
        old = self._get(self.projects, pid)
        self.projects[pid] = {**body, **{k: old[k] for k in ("id", "status", "created")}}
        return 200, self.projects[pid]

    def archive_project(self, query: Json, body: Any, pid: str) -> tuple[int, Any]:
        self._get(self.projects, pid)["status"] = "ARCHIVED"
        return 202, self._operation("PROJECT.ARCHIVE", {"project_id": pid})

    # pools and trainings

    def post_pool(self, query: Json, body: Json) -> tuple[int, Any]:
        return 201, self._create_pool(self.pools, body)

    def post_training(self, query: Json, body: Json) -> tuple[int, Any]:
        return 201, self._create_pool(self.trainings, body)

    def _create_pool(self, table: dict[str, Json], body: Json) -> Json:
        self._get(self.projects, str(body.get("project_id")))
        pool = {**body, "id": self._new_id(), "status": "CLOSED", "created": _now()}
        pool["owner"] = {"id": "requester-1", "myself": True}
        table[pool["id"]] = pool
        return pool

    def list_pools(self, query: Json, body: Any) -> tuple[int, Any]:
        return 200, self._page(self.pools.values(), query)

    def list_trainings(self, query: Json, body: Any) -> tuple[int, Any]:
        return 200, self._page(self.trainings.values(), query)

    def get_pool(self, query: Json, body: Any, pid: str) -> tuple[int, Any]:
        pool = self._get(self.pools, pid)
        if self.pages_per_poll is not None and pool["status"] == "OPEN":
            self._work(pool, self.pages_per_poll)
        return 200, pool

    def get_training(self, query: Json, body: Any, pid: str) -> tuple[int, Any]:
        return 200, self._get(self.trainings, pid)

    def put_pool(self, query: Json, body: Json, pid: str) -> tuple[int, Any]:
        return 200, self._replace(self.pools, pid, body)

    def patch_pool(self, query: Json, body: Json, pid: str) -> tuple[int, Any]:
        return 200, self._replace(self.pools, pid, {**self._get(self.pools, pid), **body})

    def put_training(self, query: Json, body: Json, pid: str) -> tuple[int, Any]:
        return 200, self._replace(self.trainings, pid, body)

    def _replace(self, table: dict[str, Json], pid: str, body: Json) -> Json:
        old = self._get(table, pid)
        table[pid] = {**body, **{k: old[k] for k in ("id", "status", "created", "owner")}}
        return table[pid]

    def pool_action(self, query: Json, body: Any, pid: str, action: str) -> tuple[int, Any]:
        return self._act(self.pools, "POOL", pid, action)

    def training_action(self, query: Json, body: Any, pid: str, action: str) -> tuple[int, Any]:
        return self._act(self.trainings, "TRAINING", pid, action)

    def _act(self, table: dict[str, Json], kind: str, pid: str, action: str) -> tuple[int, Any]:
        pool = self._get(table, pid)
        status = {"open": "OPEN", "close": "CLOSED", "archive": "ARCHIVED"}[action]
        if pool["status"] == status:
            return 204, None
        if action == "archive" and pool["status"] == "OPEN":
            raise _Reply(409, "CONFLICT_STATE", "close the pool before archiving it")
        pool["status"] = status
        if action == "open":
            pool["last_started"] = _now()
            if table is self.pools and self.pages_per_poll is None:
                self._work(pool, None)
        elif action == "close":
            pool["last_close_reason"] = "MANUAL"
        return 202, self._operation(f"{kind}.{action.upper()}", {f"{kind.lower()}_id": pid})

    # tasks and operations

    def post_tasks(self, query: Json, body: Any) -> tuple[int, Any]:
        objects = body if isinstance(body, list) else [body]
        if query.get("async_mode") != "true":
            created = self._create_tasks(objects, None)
            if not isinstance(body, list):
                return 201, created[0]["output"]
            return 201, {
                "items": {str(i): t["task"] for i, t in enumerate(created)},
                "validation_errors": {},
            }
        op_id = query.get("operation_id") or str(uuid.uuid4())
        existing = self.operations.get(op_id)
        if existing is not None and existing["status"] != "FAIL":
            return 202, existing  # the same operation again: nothing new is created
        failing, self._fail_next_operation = self._fail_next_operation, False
        op = self._operation(
            "TASK.BATCH_CREATE", {"skip_invalid_items": False}, op_id=op_id, status="RUNNING"
        )
        self._pending_ops[op_id] = (
            (lambda: []) if failing else (lambda: self._create_tasks(objects, op_id))
        )
        if failing:
            self._pending_fail.add(op_id)
        return 202, op

    def _create_tasks(self, objects: list[Json], op_id: str | None) -> list[Json]:
        log = []
        for obj in objects:
            pool = self.pools.get(str(obj.get("pool_id"))) or self._get(
                self.trainings, str(obj.get("pool_id"))
            )
            overlap = obj.get("overlap") or pool.get("defaults", {}).get(
                "default_overlap_for_new_tasks", 1
            )
            task = {
                **obj,
                "id": self._new_id(),
                "created": _now(),
                "overlap": overlap,
                "remaining_overlap": overlap,
            }
            task.pop("__item_idx", None)
            self.tasks[task["id"]] = task
            log.append(
                {
                    "type": "TASK_CREATE",
                    "success": True,
                    "input": obj,
                    "output": {"task_id": task["id"]},
                    "task": task,
                }
            )
        return log

    def get_operation(self, query: Json, body: Any, op_id: str) -> tuple[int, Any]:
        op = self._get(self.operations, op_id)
        finish = self._pending_ops.pop(op_id, None)
        if finish is not None:  # async operations complete on their first look-up
            failed = op_id in self._pending_fail
            entries = finish()
            self.logs[op_id] = [{k: v for k, v in e.items() if k != "task"} for e in entries]
            op.update(
                status="FAIL" if failed else "SUCCESS",
                progress=100,
                finished=_now(),
                details={"items_count": len(entries)},
            )
            if failed:
                self._pending_fail.discard(op_id)
        return 200, op

    def get_operation_log(self, query: Json, body: Any, op_id: str) -> tuple[int, Any]:
        self._get(self.operations, op_id)
        return 200, self.logs.get(op_id, [])

    def _operation(
        self, kind: str, parameters: Json, *, op_id: str | None = None, status: str = "SUCCESS"
    ) -> Json:
        now = _now()
        op = {
            "id": op_id or str(uuid.uuid4()),
            "type": kind,
            "status": status,
            "submitted": now,
            "started": now,
            "parameters": parameters,
            "progress": 100 if status == "SUCCESS" else 0,
        }
        if status == "SUCCESS":
            op["finished"] = now
        self.operations[op["id"]] = op
        return op

    def list_tasks(self, query: Json, body: Any) -> tuple[int, Any]:
        return 200, self._page(self.tasks.values(), query)

    def get_task(self, query: Json, body: Any, tid: str) -> tuple[int, Any]:
        return 200, self._get(self.tasks, tid)

    # assignments

    def list_assignments(self, query: Json, body: Any) -> tuple[int, Any]:
        return 200, self._page(self.assignments.values(), query)

    def get_assignment(self, query: Json, body: Any, aid: str) -> tuple[int, Any]:
        return 200, self._get(self.assignments, aid)

    def patch_assignment(self, query: Json, body: Json, aid: str) -> tuple[int, Any]:
        assignment = self._get(self.assignments, aid)
        if assignment["status"] != "SUBMITTED":
            raise _Reply(409, "CONFLICT_STATE", f"assignment is {assignment['status']}")
        status = body["status"]
        assignment.update(status=status, public_comment=body.get("public_comment", ""))
        assignment[status.lower()] = _now()
        return 200, assignment

    # -- simulated workers ---------------------------------------------------------------

    def _work(self, pool: Json, pages: int | None) -> None:
        """Have workers submit up to `pages` pages (None: all), then close a finished pool."""
        todo = [
            t
            for t in self.tasks.values()
            if t["pool_id"] == pool["id"]
            and t["id"] not in self._paged
            and not t.get("known_solutions")
        ]
        size = int(pool.get("mixer_config", {}).get("real_tasks_count") or 1)
        chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
        for page in chunks[:pages]:
            self._submit_page(pool, page)
        if all(t["id"] in self._paged for t in todo):
            pool.update(status="CLOSED", last_close_reason="COMPLETED")

    def _submit_page(self, pool: Json, page: list[Json]) -> None:
        overlap = max(int(t["overlap"]) for t in page)
        if overlap > len(self.accuracies):
            raise _Reply(500, "INTERNAL_ERROR", "the stand-in has fewer workers than the overlap")
        start = self.rng.randrange(len(self.accuracies))
        workers = [(start + j) % len(self.accuracies) for j in range(overlap)]
        suite = self._new_id()
        for worker in workers:
            self._submit(pool, page, suite, worker)
        for task in page:
            task["remaining_overlap"] = 0
            self._paged.add(task["id"])

    def _submit(self, pool: Json, page: list[Json], suite: str, worker: int) -> None:
        reward = float(pool.get("reward_per_assignment", 0.0))
        status = "ACCEPTED" if pool.get("auto_accept_solutions", True) else "SUBMITTED"
        answers = [{"output_values": {"result": self._answer(pool, t, worker)}} for t in page]
        now = _now()
        aid = self._new_id()
        self.assignments[aid] = {
            "id": aid,
            "task_suite_id": suite,
            "pool_id": pool["id"],
            "user_id": f"worker-{worker + 1}",
            "status": status,
            "reward": reward,
            "tasks": [
                {"id": t["id"], "pool_id": pool["id"], "input_values": t["input_values"]}
                for t in page
            ],
            "solutions": answers,
            "mixed": False,
            "automerged": False,
            "created": now,
            "submitted": now,
            **({"accepted": now} if status == "ACCEPTED" else {}),
        }

    def _answer(self, pool: Json, task: Json, worker: int) -> str:
        true = self.truth(task["input_values"])
        if self.rng.random() < self.accuracies[worker]:
            return true
        others = [v for v in self._allowed(pool) if v != true] or ["wrong"]
        return self.rng.choice(others)

    def _allowed(self, pool: Json) -> list[str]:
        project = self.projects.get(str(pool.get("project_id")), {})
        spec = project.get("task_spec", {}).get("output_spec", {}).get("result", {})
        return list(spec.get("allowed_values", []))

    # -- helpers --------------------------------------------------------------------------

    def _get(self, table: dict[str, Json], oid: str) -> Json:
        if oid not in table:
            raise _Reply(404, "DOES_NOT_EXIST", f"object {oid} does not exist")
        return table[oid]

    def _page(self, objects: Any, query: Mapping[str, str]) -> Json:
        items = [o for o in objects if _matches(o, query)]
        sort = query.get("sort", "id").split(",")[0]
        key = sort.lstrip("-")
        items.sort(key=lambda o: _sort_key(o.get(key)), reverse=sort.startswith("-"))
        limit = int(query.get("limit", 50))
        return {"items": items[:limit], "has_more": len(items) > limit}


_RANGE = {
    "_gt": lambda a, b: a > b,
    "_gte": lambda a, b: a >= b,
    "_lt": lambda a, b: a < b,
    "_lte": lambda a, b: a <= b,
}
_NOT_FILTERS = {"sort", "limit"}


def _sort_key(value: Any) -> tuple[int, Any]:
    text = str(value)
    return (0, int(text)) if text.isdigit() else (1, text)


def _matches(obj: Json, query: Mapping[str, str]) -> bool:
    for name, wanted in query.items():
        if name in _NOT_FILTERS:
            continue
        suffix = next((s for s in ("_gte", "_lte", "_gt", "_lt") if name.endswith(s)), None)
        if suffix is not None:
            have = obj.get(name[: -len(suffix)])
            if have is None or not _RANGE[suffix](_sort_key(have), _sort_key(wanted)):
                return False
        elif str(obj.get(name)) not in wanted.split(","):
            return False
    return True


_ID = r"([^/]+)"
_ROUTES: list[tuple[str, str, str]] = [
    ("GET", "/api/v1/requester", "get_requester"),
    ("POST", "/api/v1/skills", "post_skill"),
    ("GET", "/api/v1/skills", "list_skills"),
    ("GET", f"/api/v1/skills/{_ID}", "get_skill"),
    ("POST", "/api/v1/projects", "post_project"),
    ("GET", "/api/v1/projects", "list_projects"),
    ("GET", f"/api/v1/projects/{_ID}", "get_project"),
    ("PUT", f"/api/v1/projects/{_ID}", "put_project"),
    ("POST", f"/api/v1/projects/{_ID}/archive", "archive_project"),
    ("POST", "/api/v1/pools", "post_pool"),
    ("GET", "/api/v1/pools", "list_pools"),
    ("GET", f"/api/v1/pools/{_ID}", "get_pool"),
    ("PUT", f"/api/v1/pools/{_ID}", "put_pool"),
    ("PATCH", f"/api/v1/pools/{_ID}", "patch_pool"),
    ("POST", f"/api/v1/pools/{_ID}/(open|close|archive)", "pool_action"),
    ("POST", "/api/v1/trainings", "post_training"),
    ("GET", "/api/v1/trainings", "list_trainings"),
    ("GET", f"/api/v1/trainings/{_ID}", "get_training"),
    ("PUT", f"/api/v1/trainings/{_ID}", "put_training"),
    ("POST", f"/api/v1/trainings/{_ID}/(open|close|archive)", "training_action"),
    ("POST", "/api/v1/tasks", "post_tasks"),
    ("GET", "/api/v1/tasks", "list_tasks"),
    ("GET", f"/api/v1/tasks/{_ID}", "get_task"),
    ("GET", f"/api/v1/operations/{_ID}/log", "get_operation_log"),
    ("GET", f"/api/v1/operations/{_ID}", "get_operation"),
    ("GET", "/api/v1/assignments", "list_assignments"),
    ("GET", f"/api/v1/assignments/{_ID}", "get_assignment"),
    ("PATCH", f"/api/v1/assignments/{_ID}", "patch_assignment"),
]


class _Handler(BaseHTTPRequestHandler):
    api: TolokaStandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, payload, headers = self._answer(parts.path, query, raw)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        with self.api.lock:
            self.api.requests.append(Recorded(self.command, parts.path, query, body, status))
        self._send(status, payload, headers)

    def _answer(
        self, path: str, query: dict[str, str], raw: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        problem = check_request(self.command, path, query, raw, dict(self.headers.items()))
        if problem is not None:
            with self.api.lock:
                self.api.violations.append(problem)
            return 400, _error("VALIDATION_ERROR", problem), {}
        fault = self.api._fault(self.command, path)
        if fault is not None and fault.kind == "429":
            return (
                429,
                _error("TOO_MANY_REQUESTS", "slow down"),
                {"Retry-After": str(fault.retry_after)},
            )
        if fault is not None and fault.kind == "500":
            return 500, _error("INTERNAL_ERROR", "injected before processing"), {}
        if fault is not None and fault.kind == "operation-fail":
            with self.api.lock:
                self.api._fail_next_operation = True  # the async operation it starts will FAIL
        try:
            status, payload = self.api.handle(
                self.command, path, query, json.loads(raw) if raw else None
            )
        except _Reply as reply:
            return reply.status, _error(reply.code, reply.message), {}
        if fault is not None and fault.kind == "stall":
            time.sleep(fault.stall_s)  # processed, but the answer comes after the client gave up
        if fault is not None and fault.kind == "500-after":
            return 500, _error("INTERNAL_ERROR", "injected after processing"), {}
        return status, payload, {}

    def _send(self, status: int, payload: Any, headers: dict[str, str]) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if data:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a stall past its timeout)


def _error(code: str, message: str) -> Json:
    return {"code": code, "message": message, "request_id": str(uuid.uuid4())}
