from __future__ import annotations

from pathlib import Path

from tests.crowd_toloka.conftest import Recorder, backend, context, make_spec
from tests.fakes.toloka import TolokaStandIn
from yamlset.crowd.base import Outcome
from yamlset.state import Store


def test_label_creates_everything_once_and_stores_answers(
    tmp_path: Path, api: TolokaStandIn, store: Store, recorder: Recorder
) -> None:
    spec = make_spec(tmp_path)
    outcome = backend(recorder).label(context(spec, store, api, recorder, 10))
    assert outcome is Outcome.DONE
    assert (len(api.projects), len(api.pools), len(api.trainings)) == (1, 1, 1)
    real = [t for t in api.tasks.values() if t["pool_id"] in api.pools]
    assert len(real) == 10
    answers = store.answers("toloka:sandbox")
    assert len(answers) == 10 * 3
    assert {a.value for a in answers if a.item == "item002"} == {"cat"}
    assert len({a.assignment for a in answers}) == 3 * 3  # 3 pages x overlap 3
    assert recorder.advances[-1] == ("assignments", 9, 9)
    assert round(store.spent(), 6) == round(9 * 0.015, 6)


def test_a_second_label_creates_nothing(
    tmp_path: Path, api: TolokaStandIn, store: Store, recorder: Recorder
) -> None:
    spec = make_spec(tmp_path)
    backend(recorder).label(context(spec, store, api, recorder, 10))
    posts = [r for r in api.requests if r.method == "POST"]
    assert backend(recorder).label(context(spec, store, api, recorder, 10)) is Outcome.DONE
    assert [r for r in api.requests if r.method == "POST"] == posts
    assert len(store.answers("toloka:sandbox")) == 30


def test_lost_answers_to_creates_make_no_duplicates(
    tmp_path: Path, api: TolokaStandIn, store: Store, recorder: Recorder
) -> None:
    for path in ("/api/v1/projects", "/api/v1/pools", "/api/v1/trainings"):
        api.fail("POST", path, "500-after")
    spec = make_spec(tmp_path)
    assert backend(recorder).label(context(spec, store, api, recorder, 8)) is Outcome.DONE
    assert (len(api.projects), len(api.pools), len(api.trainings)) == (1, 1, 1)
    assert api.count("POST", "/api/v1/pools") == 1  # found by its key, never sent twice
    record = store.remote("pool", "yamlset:cats:sandbox:pool")
    assert record is not None and record.status == "created"
    assert record.remote_id in api.pools


def test_a_timeout_on_create_is_reconciled(
    tmp_path: Path, api: TolokaStandIn, store: Store, recorder: Recorder
) -> None:
    api.fail("POST", "/api/v1/projects", "stall", stall_s=1.0)
    spec = make_spec(tmp_path)
    b = backend(recorder, timeout=0.3)
    assert b.label(context(spec, store, api, recorder, 4)) is Outcome.DONE
    assert len(api.projects) == 1


def test_rate_limits_are_retried_after_the_asked_delay(
    tmp_path: Path, api: TolokaStandIn, store: Store, recorder: Recorder
) -> None:
    api.fail("POST", "/api/v1/pools", "429", retry_after=7)
    api.fail("GET", "/api/v1/assignments", "429", times=2, retry_after=3)
    spec = make_spec(tmp_path)
    assert backend(recorder).label(context(spec, store, api, recorder, 4)) is Outcome.DONE
    assert len(api.pools) == 1
    assert api.count("POST", "/api/v1/pools", 429) == 1
    assert recorder.sleeps.count(7.0) == 1 and recorder.sleeps.count(3.0) == 2


def test_a_failed_upload_is_retried_with_the_same_operation(
    tmp_path: Path, api: TolokaStandIn, store: Store, recorder: Recorder
) -> None:
    spec = make_spec(tmp_path, training=None)
    api.fail("POST", "/api/v1/tasks", "operation-fail")
    api.fail("POST", "/api/v1/tasks", "500-after")
    assert backend(recorder).label(context(spec, store, api, recorder, 6)) is Outcome.DONE
    assert len(api.tasks) == 6
    uploads = [r for r in api.requests if r.method == "POST" and r.path == "/api/v1/tasks"]
    assert len({r.query["operation_id"] for r in uploads}) == 1
    assert len(uploads) == 3
    assert all(rid in api.tasks for rid in store.remote_tasks("yamlset:cats:sandbox:pool").values())


def test_no_wait_returns_after_opening_and_collects_later(
    tmp_path: Path, store: Store, recorder: Recorder
) -> None:
    from tests.crowd_toloka.conftest import truth

    with TolokaStandIn(truth=truth, accuracies=(1.0,) * 3, pages_per_poll=1) as api:
        spec = make_spec(tmp_path, training=None)
        first = backend(recorder).label(context(spec, store, api, recorder, 8, wait=False))
        assert first is Outcome.WAITING
        assert next(iter(api.pools.values()))["status"] == "OPEN"
        assert backend(recorder).label(context(spec, store, api, recorder, 8)) is Outcome.DONE
        assert recorder.advances[-1] == ("assignments", 6, 6)
        assert [a[1] for a in recorder.advances] == sorted(a[1] for a in recorder.advances)
        assert api.violations == []
