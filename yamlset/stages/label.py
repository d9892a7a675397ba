"""Label: hand every item to the crowd backend until it has `overlap` answers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from yamlset import crowd, items
from yamlset.crowd.base import LabelContext, LabelTask, Outcome
from yamlset.spec.model import Spec
from yamlset.stages import host
from yamlset.stages.base import Change, Item, RunContext
from yamlset.state import Store

NAME = "label"


@dataclass(frozen=True)
class Estimate:
    tasks: int
    pages: int
    assignments: int
    cost: float
    estimate: bool  # counts rest on results not collected yet

    def as_dict(self) -> dict[str, Any]:
        return {
            "tasks": self.tasks,
            "pages": self.pages,
            "assignments": self.assignments,
            "cost": round(self.cost, 6),
            "estimate": self.estimate,
        }


def estimate(spec: Spec, tasks: int, *, estimated: bool) -> Estimate:
    """pages = ceil(tasks / tasks_per_page); assignments = pages x overlap; each assignment
    costs the price plus the platform fee (the larger of percent x price and the minimum).
    The local backend's labelers are colleagues: it costs nothing."""
    pool = spec.pool
    pages = math.ceil(tasks / pool.tasks_per_page) if tasks else 0
    assignments = pages * pool.overlap
    per = 0.0 if spec.crowd.backend == "local" else pool.cost_per_assignment
    return Estimate(tasks, pages, assignments, assignments * per, estimated)


def key(spec: Spec) -> str:
    return crowd.backend_key(spec.crowd.backend, spec.crowd.environment)


def config(spec: Spec) -> dict[str, Any]:
    p = spec.pool
    return {
        "crowd": {"backend": spec.crowd.backend, "environment": spec.crowd.environment},
        "pool": {
            "overlap": p.overlap,
            "tasks_per_page": p.tasks_per_page,
            "price_per_page": p.price_per_page,
        },
    }


def answer_counts(spec: Spec, store: Store) -> dict[str, int]:
    """item -> distinct labelers who answered it on the spec's backend. On Toloka a page
    that manual review rejected still counts: Toloka does not hand it out again, so it
    must not leave its items pending (and the plan never settled) for ever."""
    rejected = "" if spec.crowd.backend == "toloka" else "AND status != 'rejected' "
    rows = store.db.execute(
        "SELECT item, COUNT(DISTINCT labeler) FROM answers WHERE backend=? "
        f"{rejected}GROUP BY item",
        (key(spec),),
    )
    return dict(rows.fetchall())


def pending(spec: Spec, store: Store) -> list[Item]:
    """Items still short of answers. The files backend's results file is the final word: an
    item it answered at all is done there."""
    counts = answer_counts(spec, store)
    need = 1 if spec.crowd.backend == "files" else spec.pool.overlap
    return [it for it in items.eligible(spec, store) if counts.get(it.sha256, 0) < need]


def changes(spec: Spec, store: Store, expected_new: int, est: Estimate) -> list[Change]:
    out: list[Change] = []
    if spec.crowd.backend == "toloka":
        from yamlset.crowd.toloka_plan import planned_objects  # spec-only: no toloka-kit

        for action, subject, reason in planned_objects(spec, store):
            out.append(Change(action, NAME, subject, (reason,) if reason else ()))
    todo = len(pending(spec, store)) + expected_new
    if not todo:
        return out
    where = {
        "local": "on the local labeling page",
        "files": f"through {spec.crowd.tasks_file.name if spec.crowd.tasks_file else 'a TSV'}",
        "toloka": f"on Toloka {spec.crowd.environment}",
    }[spec.crowd.backend]
    started = store.db.execute(
        "SELECT 1 FROM answers WHERE backend=? LIMIT 1", (key(spec),)
    ).fetchone()
    subject = (
        f"label {todo:,} images {where}: {est.pages:,} pages x overlap {spec.pool.overlap} = "
        f"{est.assignments:,} assignments"
    )
    if spec.crowd.backend != "local":
        subject += f", ${est.cost:,.3f}"
    out.append(Change(">" if started else "+", NAME, subject, (), todo, est.estimate))
    return out


def spent(spec: Spec, store: Store) -> float:
    """What the crowd cost so far. Toloka's spend is recorded per assignment as it comes in;
    a files-backend pool was paid in the web UI, so it is counted from its results."""
    if spec.crowd.backend != "files":
        return store.spent()
    (assignments,) = store.db.execute(
        "SELECT COUNT(DISTINCT assignment) FROM answers WHERE backend = 'files' "
        "AND status != 'rejected'"
    ).fetchone()
    return float(assignments) * spec.pool.cost_per_assignment


def tasks(spec: Spec, store: Store) -> tuple[LabelTask, ...]:
    hosted = host.urls(spec, store) if spec.hosting.type != "local" else {}
    return tuple(
        LabelTask(it.sha256, it.file, hosted.get(it.file.name, ""))
        for it in items.eligible(spec, store)
    )


def run(ctx: RunContext) -> Outcome:
    spec, store = ctx.spec, ctx.store
    backend = crowd.get(spec.crowd.backend)
    outcome = backend.label(
        LabelContext(
            spec,
            store,
            tasks(spec, store),
            ctx.progress,
            ctx.environ,
            wait=ctx.wait,
            open_browser=ctx.open_browser,
        )
    )
    if outcome is Outcome.DONE:
        store.finish_stage(NAME, config(spec))
    return outcome
