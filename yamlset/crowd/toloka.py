"""The `toloka` crowd backend: projects, pools and tasks on Toloka via toloka-kit.

The only module that talks to Toloka. toloka-kit's own retries are off: they re-send a
create whose first attempt was processed but answered 5xx (a duplicate pool), and a 429
with Retry-After makes them raise TypeError. Instead every call goes through `_Session`:
reads and idempotent actions are retried; a create is sent once and, when its outcome is
unknown, the object is looked up by the key it carries before it is sent again.

While a pool runs, `apply` looks at it every 30 s; the environment variable
`YAMLSET_TOLOKA_POLL` (seconds) changes that, e.g. for tests against a local stand-in.
"""

from __future__ import annotations

import datetime
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import toloka.client as tk
import urllib3
from toloka.client.exceptions import ApiError, AuthenticationApiError
from urllib3.util.retry import Retry

from yamlset.crowd import toloka_params as params
from yamlset.crowd import toloka_plan as plan
from yamlset.crowd.base import LabelContext, LabelTask, Outcome
from yamlset.crowd.toloka_plan import planned_objects  # noqa: F401  (the public API)
from yamlset.errors import BudgetError, CrowdError
from yamlset.spec.model import Spec
from yamlset.state import AnswerRow, Store

T = TypeVar("T")
_TASKS_NAMESPACE = uuid.UUID("6f0b7c1e-3a59-4f7e-9d0c-2b8f4a1d5e63")  # operation ids per batch
_TOKEN_HELP = (
    "set TOLOKA_API_KEY to your Toloka OAuth token "
    "(Toloka > Profile > Integrations > OAuth token; never put it in the spec)"
)


@dataclass(frozen=True)
class ReviewSummary:
    accepted: int
    rejected: int


class _Unknown(Exception):
    """A create's outcome is unknown (5xx or timeout): it may have been processed."""


class _Session:
    """A toloka-kit client with yamlset's retry policy and an injectable sleep."""

    def __init__(
        self, client: tk.TolokaClient, *, sleep: Callable[[float], None], attempts: int
    ) -> None:
        self.client = client
        self.sleep = sleep
        self.attempts = attempts

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call an idempotent method, retrying rate limits, server errors and timeouts."""
        for attempt in range(self.attempts):
            try:
                return self.once(fn, *args, **kwargs)
            except _Unknown:
                self.sleep(_backoff(attempt))
        return self.once(fn, *args, **kwargs)

    def once(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Send once, retrying only what Toloka surely did not process (429 rate limits)."""
        for attempt in range(self.attempts + 1):
            try:
                return fn(*args, **kwargs)
            except ApiError as e:
                if e.status_code != 429 or attempt == self.attempts:
                    raise _translate(e) from None
                delay = _retry_after(e.response)  # "Retry-After: 0" means at once
                self.sleep(_backoff(attempt) if delay is None else delay)
            except httpx.HTTPStatusError as e:  # an error without a body
                raise _translate_status(e.response.status_code) from None
            except (httpx.TransportError, urllib3.exceptions.HTTPError):
                # toloka-kit re-raises httpx timeouts as urllib3 errors through its retry layer
                raise _Unknown("no answer from Toloka") from None
        raise AssertionError("unreachable")


def _translate(e: ApiError) -> Exception:
    if isinstance(e, AuthenticationApiError):
        return CrowdError(f"Toloka refused the token: {_TOKEN_HELP}")
    if (e.status_code or 0) >= 500 or e.status_code == 429:
        return _Unknown(f"Toloka answered {e.status_code}")
    return CrowdError(f"Toloka refused a request ({e.status_code} {e.code}): {e.message}")


def _translate_status(status: int) -> Exception:
    if status >= 500 or status == 429:
        return _Unknown(f"Toloka answered {status}")
    return CrowdError(f"Toloka refused a request ({status})")


def _retry_after(response: httpx.Response | None) -> float | None:
    value = None if response is None else response.headers.get("Retry-After")
    try:
        return None if value is None else max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def _backoff(attempt: int) -> float:
    return float(min(60, 2**attempt))


def connect(
    environ: Mapping[str, str],
    environment: str,
    *,
    timeout: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
    attempts: int = 6,
) -> _Session:
    token = environ.get("TOLOKA_API_KEY", "").strip()
    if not token:
        raise CrowdError(_TOKEN_HELP)
    url = environ.get("TOLOKA_URL") or None
    client = tk.TolokaClient(
        token,
        environment=None if url else environment,
        url=url,
        retries=0,
        retryer_factory=lambda: Retry(total=0, respect_retry_after_header=False),
        timeout=timeout,
    )
    return _Session(client, sleep=sleep, attempts=attempts)


# -- reconciled creates ------------------------------------------------------------------------


class _Objects:
    """Finds or creates the project, skill, training and pool of one spec."""

    def __init__(self, spec: Spec, store: Store, session: _Session) -> None:
        self.spec, self.store, self.session = spec, store, session
        self.ids: dict[str, str] = {}

    def ensure_all(self) -> dict[str, str]:
        for kind in plan.wanted_kinds(self.spec):
            self.ids[kind] = self.ensure(kind)
        return self.ids

    def ensure(self, kind: str) -> str:
        key = plan.object_key(self.spec, kind)
        values = plan.settings(self.spec, kind)
        label = plan.tag(self.spec, kind, values)
        data = {"settings": values, "hash": plan.settings_hash(values)}
        record = self.store.remote(kind, key)
        if record is not None and record.remote_id and record.status != "creating":
            changed = record.data.get("hash") != data["hash"]
            if changed or self.drift(kind, record.remote_id, label):
                self._update(kind, record.remote_id, label)
                self.store.put_remote(kind, key, record.status, record.remote_id, data)
            return record.remote_id
        found = self._find(kind, key)
        if found is None:
            self.store.put_remote(kind, key, "creating", None, data)
            found = self._create(kind, key, label)
        self.store.put_remote(kind, key, "created", found, data)
        return found

    def _create(self, kind: str, key: str, label: str) -> str:
        for attempt in range(self.session.attempts):
            try:
                created = self.session.once(self._creator(kind), self._build(kind, label))
                return str(created.id)
            except _Unknown:
                self.session.sleep(_backoff(attempt))
                found = self._find(kind, key)  # the failed attempt may have been processed
                if found is not None:
                    return found
        raise CrowdError(f"could not create the Toloka {kind}: Toloka kept failing; run again")

    def _creator(self, kind: str) -> Callable[[Any], Any]:
        c: Any = self.session.client
        creators: dict[str, Callable[[Any], Any]] = {
            "project": c.create_project,
            "pool": c.create_pool,
            "training": c.create_training,
            "skill": c.create_skill,
        }
        return creators[kind]

    def _build(self, kind: str, label: str) -> Any:
        spec = self.spec
        if kind == "skill":
            return params.build_skill(spec, label)
        if kind == "project":
            return params.build_project(spec, label)
        if kind == "training":
            return params.build_training(spec, self.ids["project"], label)
        return params.build_pool(
            spec,
            self.ids["project"],
            label,
            now=datetime.datetime.now(datetime.timezone.utc),
            training_id=self.ids.get("training"),
            skill_id=self.ids.get("skill"),
        )

    def drift(self, kind: str, remote_id: str, label: str) -> list[str]:
        """How the object Toloka holds differs from what the spec makes (edits in the web UI)."""
        getter = self._getter(kind)
        if getter is None:
            return []
        remote = self.session.call(getter, remote_id)
        return differences(kind, self._build(kind, label), remote)

    def _getter(self, kind: str) -> Callable[[str], Any] | None:
        c: Any = self.session.client
        getters: dict[str, Callable[[str], Any]] = {
            "project": c.get_project,
            "pool": c.get_pool,
            "training": c.get_training,
        }
        return getters.get(kind)

    def _update(self, kind: str, remote_id: str, label: str) -> None:
        c: Any = self.session.client
        update: Callable[..., Any] | None = {
            "project": c.update_project,
            "pool": c.update_pool,
            "training": c.update_training,
        }.get(kind)
        if update is not None:  # a skill has nothing that follows the spec
            self.session.call(update, remote_id, self._build(kind, label))

    def _find(self, kind: str, key: str) -> str | None:
        c: Any = self.session.client
        if kind == "project":
            found: list[Any] = self.session.call(lambda: list(c.get_projects()))
        elif kind == "skill":
            found = self.session.call(lambda: list(c.get_skills()))
        elif kind == "pool":
            found = self.session.call(lambda: list(c.get_pools(project_id=self.ids["project"])))
        else:
            found = self.session.call(lambda: list(c.get_trainings(project_id=self.ids["project"])))
        for obj in found:
            if _status(obj) == "ARCHIVED":
                continue
            if plan.key_of(_label_of(obj)) == key:
                return str(obj.id)
        return None


# Settings a requester may change in Toloka's web UI, by the spec key they come from.
_WATCHED: dict[str, tuple[tuple[str, str], ...]] = {
    "project": (("public_name", "project.title"), ("public_description", "project.description")),
    "pool": (
        ("reward_per_assignment", "pool.price_per_page"),
        ("assignment_max_duration_seconds", "pool.time_per_page"),
        ("may_contain_adult_content", "pool.adult_content"),
        ("auto_accept_solutions", "pool.review"),
        ("defaults.default_overlap_for_new_tasks", "pool.overlap"),
        ("mixer_config.real_tasks_count", "pool.tasks_per_page"),
    ),
    "training": (
        ("assignment_max_duration_seconds", "pool.time_per_page"),
        ("training_tasks_in_task_suite_count", "pool.training.tasks_per_page"),
    ),
}


def differences(kind: str, wanted: Any, remote: Any) -> list[str]:
    """`spec key: value in the spec, value in Toloka` for every watched field that differs."""
    out = []
    for field, spec_key in _WATCHED.get(kind, ()):
        ours, theirs = _attr(wanted, field), _attr(remote, field)
        if ours != theirs:
            out.append(f"{spec_key}: {_value(ours)} in the spec, {_value(theirs)} in Toloka")
    if kind != "project" and _status(remote) == "ARCHIVED":
        out.append("archived in Toloka, not by yamlset")
    return out


def _attr(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
    return obj


def _value(value: Any) -> str:
    return "(none)" if value is None else str(value)


def drift(
    spec: Spec, store: Store, environ: Mapping[str, str], *, session: _Session | None = None
) -> list[tuple[str, list[str]]]:
    """(subject, differences) for each object yamlset created in the spec's environment whose
    settings were changed in Toloka since (a change of the spec is plan's own diff)."""
    records = [
        r
        for r in plan.destroyable(spec, store)
        if r.data.get("hash") == plan.settings_hash(plan.settings(spec, r.kind))
    ]
    if not records:
        return []
    session = session or connect(environ, spec.crowd.environment)
    objects = _Objects(spec, store, session)
    for kind in plan.wanted_kinds(spec):  # the ids an object's build refers to
        record = store.remote(kind, plan.object_key(spec, kind))
        if record is not None and record.remote_id:
            objects.ids[kind] = str(record.remote_id)
    out = []
    for r in records:
        label = plan.tag(spec, r.kind, plan.settings(spec, r.kind))
        found = objects.drift(r.kind, str(r.remote_id), label)
        if found:
            out.append((f"toloka {spec.crowd.environment} {r.kind}", found))
    return out


def _status(obj: Any, field: str = "status") -> str:
    """toloka-kit's enums do not compare equal to their strings: compare values."""
    value = getattr(obj, field, None)
    return str(getattr(value, "value", value or ""))


def _label_of(obj: Any) -> str | None:
    if isinstance(obj, tk.Training):
        tags: list[str] = (obj.metadata or {}).get("yamlset") or []
        return tags[0] if tags else None
    comment: str | None = obj.private_comment
    return comment


# -- tasks ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    item: str  # our id: an item's sha256, or a digest of a control/training row
    image: str
    make: Callable[[str], tk.Task]  # pool id -> a fresh Task (toloka-kit mutates what it sends)


class _Uploader:
    """Uploads tasks in batches, each with a deterministic operation id, never twice.

    A batch is recorded (its items pending, its operation id and item list as a remote
    object) before it is sent, so a retry after a crash re-sends the very same operation."""

    def __init__(self, store: Store, session: _Session, *, batch_size: int) -> None:
        self.store, self.session, self.batch_size = store, session, batch_size

    def upload(self, pool_key: str, pool_id: str, entries: list[_Entry]) -> int:
        recorded = self.store.remote_tasks(pool_key)
        by_item = {e.item: e for e in entries}
        sent = 0
        for batch in self.store.remotes("toloka-tasks"):
            if batch.status == "creating" and batch.data.get("pool_key") == pool_key:
                pending = [by_item[i] for i in batch.data["items"] if i in by_item]
                sent += self._send(pool_key, pool_id, batch.key, pending)
        recorded = self.store.remote_tasks(pool_key)
        todo = [e for e in entries if recorded.get(e.item) is None]
        for start in range(0, len(todo), self.batch_size):
            batch_entries = todo[start : start + self.batch_size]
            items = [e.item for e in batch_entries]
            op_id = str(uuid.uuid5(_TASKS_NAMESPACE, pool_id + "\n" + "\n".join(items)))
            self.store.put_remote_tasks(pool_key, ((i, None) for i in items))
            self.store.put_remote(
                "toloka-tasks",
                op_id,
                "creating",
                None,
                {"pool_key": pool_key, "pool_id": pool_id, "items": items},
            )
            sent += self._send(pool_key, pool_id, op_id, batch_entries)
        return sent

    def _send(self, pool_key: str, pool_id: str, op_id: str, entries: list[_Entry]) -> int:
        if not entries:
            return 0
        operation = self._run(pool_id, op_id, entries)
        log = self.session.call(self.session.client.get_operation_log, operation.id)
        ids = _ids_by_image(log)
        pairs = [(e.item, ids[e.image].pop(0)) for e in entries if ids.get(e.image)]
        if len(pairs) != len(entries):
            raise CrowdError(
                f"Toloka created {len(pairs)} of {len(entries)} tasks "
                f"(operation {op_id}); see its log in Toloka"
            )
        self.store.put_remote_tasks(pool_key, pairs)
        self.store.put_remote(
            "toloka-tasks",
            op_id,
            "created",
            operation.id,
            {"pool_key": pool_key, "pool_id": pool_id, "items": len(pairs)},
        )
        return len(pairs)

    def _run(self, pool_id: str, op_id: str, entries: list[_Entry]) -> Any:
        client = self.session.client
        for _attempt in range(self.session.attempts):
            operation = self.session.call(
                client.create_tasks_async,
                [e.make(pool_id) for e in entries],
                operation_id=uuid.UUID(op_id),
                allow_defaults=True,
                async_mode=True,
                skip_invalid_items=False,
            )
            operation = self._wait(operation)
            if _status(operation) == "SUCCESS":
                return operation
            # a failed operation created nothing: the same operation id runs it again
        raise CrowdError(f"Toloka kept failing to create tasks (operation {op_id}); run again")

    def _wait(self, operation: Any) -> Any:
        delay = 0.0
        while _status(operation) in ("PENDING", "RUNNING"):
            self.session.sleep(delay)
            delay = min(5.0, delay + 0.5)
            operation = self.session.call(self.session.client.get_operation, operation.id)
        return operation


def _ids_by_image(log: Iterable[Any]) -> dict[str, list[str]]:
    ids: dict[str, list[str]] = {}
    for entry in log:
        if entry.success and "task_id" in (entry.output or {}):
            image = str((entry.input.get("input_values") or {}).get("image"))
            ids.setdefault(image, []).append(str(entry.output["task_id"]))
    return ids


def _real_entries(tasks: Iterable[LabelTask]) -> list[_Entry]:
    def make(task: LabelTask) -> Callable[[str], tk.Task]:
        return lambda pool_id: tk.Task(pool_id=pool_id, input_values={"image": task.url})

    return [_Entry(t.item, t.url, make(t)) for t in tasks]


def _known_entries(rows: list[plan.KnownTask], prefix: str) -> list[_Entry]:
    def make(row: plan.KnownTask) -> Callable[[str], tk.Task]:
        return lambda pool_id: params.known_task(row, pool_id)

    return [_Entry(f"{prefix}:{i}:{r.image}", r.image, make(r)) for i, r in enumerate(rows)]


# -- the backend ------------------------------------------------------------------------------


_STATUSES = ["SUBMITTED", "ACCEPTED", "REJECTED"]
_CLOSED_EARLY = ("MANUAL", "EXPIRED", "BLOCKED", "NOT_ENOUGH_BALANCE", "FOR_UPDATE")


class TolokaBackend:
    """Labels on Toloka: `label(ctx)` creates what is missing, uploads, opens and collects."""

    name = "toloka"

    def __init__(
        self,
        environment: str = "sandbox",
        *,
        poll_interval: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 10.0,
        batch_size: int = 1000,
        attempts: int = 6,
    ) -> None:
        self.environment = environment
        self.poll_interval = poll_interval
        self.sleep = sleep
        self.timeout = timeout
        self.batch_size = batch_size
        self.attempts = attempts

    @property
    def backend_key(self) -> str:
        return f"toloka:{self.environment}"

    def connect(self, environ: Mapping[str, str], environment: str) -> _Session:
        return connect(
            environ, environment, timeout=self.timeout, sleep=self.sleep, attempts=self.attempts
        )

    def label(self, ctx: LabelContext) -> Outcome:
        spec, store = ctx.spec, ctx.store
        self.poll_interval = _poll_interval(ctx.environ, self.poll_interval)
        session = self.connect(ctx.environ, spec.crowd.environment)
        ids = _Objects(spec, store, session).ensure_all()
        ctx.progress.message(
            f"Toloka {spec.crowd.environment}: project {ids['project']}, pool {ids['pool']}"
        )
        self._upload(ctx, session, ids)
        collector = _Collector(spec, store, session, ids["pool"])
        expected = expected_assignments(spec, len(ctx.tasks))
        pool = session.call(session.client.get_pool, ids["pool"])
        if collector.collect() >= expected and _status(pool) != "OPEN":
            ctx.progress.advance("assignments", collector.count, expected)
            return Outcome.DONE
        if _status(pool) != "OPEN":
            self._check_budget(spec, store, session, expected - collector.count)
            _open(session, ids)
            ctx.progress.message(f"opened Toloka pool {ids['pool']}")
        if not ctx.wait:
            return Outcome.WAITING
        try:
            return self._poll(ctx, session, collector, ids["pool"], expected)
        except KeyboardInterrupt:
            ctx.progress.message("stopped waiting; the pool keeps running on Toloka")
            return Outcome.WAITING

    def _upload(self, ctx: LabelContext, session: _Session, ids: dict[str, str]) -> None:
        spec, uploader = ctx.spec, _Uploader(ctx.store, session, batch_size=self.batch_size)
        pool_key = plan.object_key(spec, "pool")
        if spec.pool.training is not None:
            path = spec.root / spec.pool.training.tasks
            rows = plan.training_rows(path)
            params.check_answers(spec, rows, path)
            uploader.upload(
                plan.object_key(spec, "training"),
                ids["training"],
                _known_entries(rows, "training"),
            )
        golden = spec.pool.quality_control.golden
        if golden is not None:
            path = spec.root / golden.tasks
            rows = plan.training_rows(path)
            params.check_answers(spec, rows, path)
            uploader.upload(pool_key, ids["pool"], _known_entries(rows, "golden"))
        sent = uploader.upload(pool_key, ids["pool"], _real_entries(ctx.tasks))
        if sent:
            ctx.progress.message(f"uploaded {sent} tasks to Toloka")

    def _check_budget(self, spec: Spec, store: Store, session: _Session, remaining: int) -> None:
        cost = round(max(0, remaining) * spec.pool.cost_per_assignment, 4)
        if spec.budget is not None and store.spent() + cost > spec.budget + 1e-9:
            raise BudgetError(
                f"labeling would cost ${store.spent() + cost:.4f} in all "
                f"(${cost:.4f} still to come), over the budget of ${spec.budget:.4f}; "
                "raise `budget` or label fewer images"
            )
        balance = float(session.call(session.client.get_requester).balance or 0)
        if cost > balance + 1e-9:
            raise BudgetError(
                f"labeling needs ${cost:.4f} but the Toloka {spec.crowd.environment} account "
                f"holds ${balance:.4f}; top up the account"
            )

    def _poll(
        self,
        ctx: LabelContext,
        session: _Session,
        collector: _Collector,
        pool_id: str,
        expected: int,
    ) -> Outcome:
        while True:
            pool = session.call(session.client.get_pool, pool_id)
            got = collector.collect()
            ctx.progress.advance("assignments", got, expected)
            if _status(pool) != "OPEN":
                reason = _status(pool, "last_close_reason")
                if got >= expected or reason == "COMPLETED":
                    return Outcome.DONE
                if reason in _CLOSED_EARLY:
                    raise CrowdError(
                        f"Toloka pool {pool_id} closed ({reason}) with {got} of {expected} "
                        "assignments; reopen it in Toloka or run apply again"
                    )
            self.sleep(self.poll_interval)


def _poll_interval(environ: Mapping[str, str], default: float) -> float:
    """`YAMLSET_TOLOKA_POLL` seconds between looks at a running pool, else `default`."""
    value = environ.get("YAMLSET_TOLOKA_POLL", "").strip()
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise CrowdError(
            f"YAMLSET_TOLOKA_POLL must be a number of seconds, not {value!r}"
        ) from None
    if not seconds >= 0:
        raise CrowdError(f"YAMLSET_TOLOKA_POLL must be zero or more seconds, not {value!r}")
    return seconds


def expected_assignments(spec: Spec, tasks: int) -> int:
    pages = -(-tasks // spec.pool.tasks_per_page)
    return pages * spec.pool.overlap


def _open(session: _Session, ids: dict[str, str]) -> None:
    client = session.client
    if "training" in ids:
        session.call(client.open_training, ids["training"])
    session.call(client.open_pool, ids["pool"])


# -- assignments ---------------------------------------------------------------------------------


class _Collector:
    """Reads a pool's assignments page by page (id_gt) and stores their answers and spend."""

    def __init__(self, spec: Spec, store: Store, session: _Session, pool_id: str) -> None:
        self.spec, self.store, self.session, self.pool_id = spec, store, session, pool_id
        self.backend = f"toloka:{spec.crowd.environment}"
        self.last_id: str | None = None
        self.count = 0
        tasks = store.remote_tasks(plan.object_key(spec, "pool"))
        self.items = {rid: item for item, rid in tasks.items() if rid is not None}

    def collect(self) -> int:
        while True:
            page = self.session.call(
                self.session.client.find_assignments,
                pool_id=self.pool_id,
                status=_STATUSES,
                id_gt=self.last_id,
                sort=["id"],
                limit=500,
            )
            for assignment in page.items or []:
                self._store(assignment)
                self.last_id = assignment.id
                self.count += 1
            if not page.has_more:
                return self.count

    def _store(self, assignment: Any) -> None:
        status = _status(assignment).lower()
        submitted = assignment.submitted.timestamp() if assignment.submitted else time.time()
        rows = [
            AnswerRow(
                self.backend,
                str(assignment.id),
                self.items[task.id],
                str(assignment.user_id),
                str(solution.output_values.get("result", "")),
                status,
                submitted,
            )
            for task, solution in _pairs(assignment)
            if task.id in self.items  # control tasks are not ours to aggregate
        ]
        self.store.add_answers(rows)
        reward = float(assignment.reward or 0)
        paid = 0.0 if status == "rejected" else reward + self.spec.pool.fee.per_page(reward)
        self.store.record_spend(
            f"{self.backend}:assignment:{assignment.id}",
            round(paid, 6),
            f"Toloka assignment {assignment.id}",
        )


# -- manual review, plan, destroy ------------------------------------------------------------


def review(
    spec: Spec,
    store: Store,
    decisions: Mapping[str, str | None],
    environ: Mapping[str, str],
    *,
    session: _Session | None = None,
) -> ReviewSummary:
    """Accept each submitted page whose answers agree with the decided labels often enough
    (`pool.accept_threshold`, undecided items ignored); reject the rest with
    `pool.reject_comment`. Pages already reviewed are left alone."""
    record = store.remote("pool", plan.object_key(spec, "pool"))
    if record is None or record.remote_id is None:
        return ReviewSummary(0, 0)
    session = session or connect(environ, spec.crowd.environment)
    collector = _Collector(spec, store, session, record.remote_id)
    accepted = rejected = 0
    for assignment in _submitted(session, record.remote_id):
        answers = {
            collector.items[t.id]: str(s.output_values.get("result", ""))
            for t, s in _pairs(assignment)
            if t.id in collector.items
        }
        if plan.agreement(answers, decisions) >= spec.pool.accept_threshold:
            _decide(session, assignment.id, "ACCEPTED", "Thank you!")
            accepted += 1
        else:
            _decide(session, assignment.id, "REJECTED", spec.pool.reject_comment)
            rejected += 1
    collector.collect()  # store the new statuses (and zero the spend of rejected pages)
    return ReviewSummary(accepted, rejected)


def _pairs(assignment: Any) -> list[tuple[Any, Any]]:
    return list(zip(assignment.tasks or [], assignment.solutions or [], strict=False))


def _submitted(session: _Session, pool_id: str) -> list[Any]:
    found: list[Any] = []
    last: str | None = None
    while True:
        page = session.call(
            session.client.find_assignments,
            pool_id=pool_id,
            status=["SUBMITTED"],
            id_gt=last,
            sort=["id"],
            limit=500,
        )
        found += page.items or []
        if not page.has_more or not page.items:
            return found
        last = str(page.items[-1].id)


def _decide(session: _Session, assignment_id: str, status: str, comment: str) -> None:
    client = session.client
    try:
        if status == "ACCEPTED":
            session.call(client.accept_assignment, assignment_id, comment)
        else:
            session.call(client.reject_assignment, assignment_id, comment)
    except CrowdError:
        # a retried PATCH whose first attempt went through finds the page already reviewed
        current = session.call(client.get_assignment, assignment_id)
        if _status(current) != status:
            raise


def destroy(
    spec: Spec, store: Store, environ: Mapping[str, str], *, session: _Session | None = None
) -> list[str]:
    """Close and archive the pool and training, and archive the project, that yamlset
    created for this spec and environment (as state records them). Nothing else."""
    live = {r.kind: r for r in plan.destroyable(spec, store)}
    if not live:
        return []
    session = session or connect(environ, spec.crowd.environment)
    client: Any = session.client
    done: list[str] = []
    actions = {
        "pool": (client.get_pool, client.close_pool, client.archive_pool),
        "training": (client.get_training, client.close_training, client.archive_training),
    }
    for kind in ("pool", "training"):
        record = live.get(kind)
        if record is None or record.remote_id is None:
            continue
        get, close, archive = actions[kind]
        if _status(session.call(get, record.remote_id)) == "OPEN":
            session.call(close, record.remote_id)
        session.call(archive, record.remote_id)
        store.put_remote(kind, record.key, "archived", record.remote_id, record.data)
        done.append(f"archived Toloka {kind} {record.remote_id}")
    project = live.get("project")
    if project is not None and project.remote_id is not None:
        session.call(client.archive_project, project.remote_id)
        store.put_remote("project", project.key, "archived", project.remote_id, project.data)
        done.append(f"archived Toloka project {project.remote_id}")
    return done
