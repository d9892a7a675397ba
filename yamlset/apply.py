"""apply: the one place where side effects are sequenced, stage by stage, resumably."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from yamlset.crowd.base import Outcome, Progress
from yamlset.errors import BudgetError
from yamlset.plan import Plan
from yamlset.spec.model import Spec
from yamlset.stages import aggregate, collect, download, export, host, label, resize
from yamlset.stages.base import STAGES, RunContext
from yamlset.stages.collect import Survey
from yamlset.state import Store


@dataclass(frozen=True)
class Result:
    stages_run: tuple[str, ...]
    waiting: bool  # stopped at labeling: a later apply continues
    elapsed_s: float


def apply(
    spec: Spec,
    store: Store,
    plan: Plan,
    survey: Survey,
    *,
    progress: Progress,
    environ: Mapping[str, str],
    until: str | None = None,
    wait: bool = True,
    open_browser: bool = False,
) -> Result:
    """Carry out `plan`: every stage from the first one with changes, up to `until`."""
    started = time.monotonic()
    _check_budget(spec, store, plan)
    first = plan.first_stage()
    if first is None:
        return Result((), False, 0.0)
    last = until or STAGES[-1]
    todo = STAGES[STAGES.index(first) : STAGES.index(last) + 1]
    ctx = RunContext(spec, store, progress, environ, wait=wait, open_browser=open_browser)
    ran: list[str] = []
    for stage in todo:
        progress.message(f"[bold]• {stage}[/bold]")
        ran.append(stage)
        if not _run(stage, ctx, survey):
            return Result(tuple(ran), True, time.monotonic() - started)
    return Result(tuple(ran), False, time.monotonic() - started)


def _run(stage: str, ctx: RunContext, survey: Survey) -> bool:
    """Run one stage; False when the pipeline must stop here and wait (labeling)."""
    if stage == collect.NAME:
        collect.run(ctx, survey)
    elif stage == download.NAME:
        download.run(ctx)
    elif stage == resize.NAME:
        resize.run(ctx)
    elif stage == host.NAME:
        host.run(ctx)
    elif stage == label.NAME:
        return label.run(ctx) is Outcome.DONE
    elif stage == aggregate.NAME:
        decisions = aggregate.run(ctx)
        if ctx.spec.crowd.backend == "toloka" and ctx.spec.pool.review == "manual":
            from yamlset.crowd import toloka

            labels = {item: d.label for item, d in decisions.items()}
            summary = toloka.review(ctx.spec, ctx.store, labels, ctx.environ)
            ctx.progress.message(
                f"  review: {summary.accepted:,} assignments accepted, "
                f"{summary.rejected:,} rejected"
            )
            if summary.rejected:
                # rejected pages' answers no longer count: decide again without them, so
                # that the state is final now and the next plan has nothing left to do
                aggregate.run(ctx)
    elif stage == export.NAME:
        export.run(
            ctx, aggregate.stored_decisions(ctx.store), spend=label.spent(ctx.spec, ctx.store)
        )
    return True


def _check_budget(spec: Spec, store: Store, plan: Plan) -> None:
    if spec.budget is None or not plan.estimate.cost:
        return
    spent = label.spent(spec, store)
    if spent + plan.estimate.cost > spec.budget + 1e-9:
        raise BudgetError(
            f"this apply would spend ${plan.estimate.cost:,.3f} on top of ${spent:,.3f} already "
            f"spent, over the spec's budget of ${spec.budget:,.2f}; raise `budget` or label less"
        )
