from __future__ import annotations

from pathlib import Path

from tests.crowd_toloka.conftest import Recorder, backend, context, make_spec, truth
from tests.fakes.toloka import TolokaStandIn
from yamlset.crowd import toloka
from yamlset.state import Store


def test_manual_review_accepts_agreeing_pages_and_rejects_the_rest(
    tmp_path: Path, store: Store, recorder: Recorder
) -> None:
    # worker-1 always errs; the other two are always right
    with TolokaStandIn(truth=truth, accuracies=(0.0, 1.0, 1.0), seed=3) as api:
        spec = make_spec(tmp_path, training=None)
        ctx = context(spec, store, api, recorder, 8)
        backend(recorder).label(ctx)
        decisions = {t.item: truth({"image": t.url}) for t in ctx.tasks}
        environ = dict(ctx.environ)
        summary = toloka.review(spec, store, decisions, environ)
        assert (summary.accepted, summary.rejected) == (4, 2)
        statuses = {a["user_id"]: a["status"] for a in api.assignments.values()}
        assert statuses == {"worker-1": "REJECTED", "worker-2": "ACCEPTED", "worker-3": "ACCEPTED"}
        rejected = [a for a in api.assignments.values() if a["status"] == "REJECTED"]
        assert {a["public_comment"] for a in rejected} == {spec.pool.reject_comment}
        assert toloka.review(spec, store, decisions, environ) == toloka.ReviewSummary(0, 0)
        assert {a.labeler for a in store.answers("toloka:sandbox")} == {"worker-2", "worker-3"}
        assert round(store.spent(), 6) == round(4 * 0.015, 6)
        assert api.violations == []


def test_plan_and_destroy(
    tmp_path: Path, api: TolokaStandIn, store: Store, recorder: Recorder
) -> None:
    spec = make_spec(tmp_path)
    assert [c[:2] for c in toloka.planned_objects(spec, store)] == [
        ("+", "toloka sandbox project"),
        ("+", "toloka sandbox training"),
        ("+", "toloka sandbox pool"),
    ]
    ctx = context(spec, store, api, recorder, 4)
    backend(recorder).label(ctx)
    assert toloka.planned_objects(spec, store) == []
    changed = make_spec(tmp_path, overlap=2)
    assert toloka.planned_objects(changed, store) == [
        ("~", "toloka sandbox pool", "pool.overlap: 3 -> 2")
    ]
    done = toloka.destroy(spec, store, dict(ctx.environ))
    assert len(done) == 3
    assert all(p["status"] == "ARCHIVED" for p in [*api.pools.values(), *api.trainings.values()])
    assert all(p["status"] == "ARCHIVED" for p in api.projects.values())
    assert toloka.destroy(spec, store, dict(ctx.environ)) == []
