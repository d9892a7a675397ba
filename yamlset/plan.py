"""make_plan(spec, store, survey) -> Plan: what apply would do, as data. Reads, never writes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yamlset.aggregation.base import Decision
from yamlset.errors import StalePlanError
from yamlset.fsutil import write_atomic
from yamlset.remote import RemoteView
from yamlset.spec.model import Spec
from yamlset.stages import aggregate, collect, download, export, host, label, resize
from yamlset.stages.base import STAGES, Change, diff
from yamlset.stages.collect import Survey
from yamlset.stages.label import Estimate
from yamlset.state import Store

PLAN_FORMAT = 1


@dataclass(frozen=True)
class Shortfall:
    cls: str
    have: int  # verified images now
    target: int


@dataclass(frozen=True)
class Plan:
    spec_path: str
    name: str
    digest: str  # the spec and the inputs it lists; a saved plan is stale when it moves
    serial: int  # the state's serial when planned
    changes: tuple[Change, ...]
    estimate: Estimate
    shortfall: tuple[Shortfall, ...]
    notes: tuple[str, ...] = ()  # what the plan could not check, and why

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    def counts(self) -> dict[str, int]:
        add = sum(c.action == "+" for c in self.changes)
        change = sum(c.action in "~>" for c in self.changes)
        remove = sum(c.action == "-" for c in self.changes)
        return {"add": add, "change": change, "remove": remove}

    def first_stage(self) -> str | None:
        staged = {c.stage for c in self.changes}
        return next((s for s in STAGES if s in staged), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": PLAN_FORMAT,
            "spec": self.spec_path,
            "name": self.name,
            "digest": self.digest,
            "serial": self.serial,
            "changes": [c.as_dict() for c in self.changes],
            "summary": self.counts(),
            "estimate": self.estimate.as_dict(),
            "shortfall": [
                {"class": s.cls, "have": s.have, "target": s.target} for s in self.shortfall
            ],
            "notes": list(self.notes),
        }


def digest(spec: Spec, survey: Survey) -> str:
    h = hashlib.sha256(spec.path.read_bytes())
    h.update(json.dumps(survey.fingerprints, sort_keys=True).encode())
    return h.hexdigest()


def make_plan(spec: Spec, store: Store, survey: Survey, remote: RemoteView | None = None) -> Plan:
    """The plan, from the spec, the state, the inputs the spec lists (`survey`) and, where
    state records remote objects, what the crowd platform holds now (`remote`)."""
    remote = remote or RemoteView()
    if _nothing_to_collect(spec, store, survey):
        return Plan(
            str(spec.path),
            spec.name,
            digest(spec, survey),
            store.serial,
            (),
            label.estimate(spec, 0, estimated=False),
            (),
            (_EMPTY,),
        )
    changes: list[Change] = []
    collecting = collect.changes(spec, store, survey)
    changes += collecting
    searching = any(c.estimate for c in collecting)
    new_candidates = sum(c.count for c in collecting)
    changes += download.changes(spec, store, new_candidates, searching)
    expected_items = new_candidates + len(download.pending(store)[0])
    changes += resize.changes(
        spec, store, expected_items, searching, _reasons(store, resize.NAME, resize.config(spec))
    )
    changes += host.changes(spec, store, expected_items, searching)
    tasks = len(label.pending(spec, store)) + expected_items
    est = label.estimate(spec, tasks, estimated=searching)
    labeling = label.changes(spec, store, expected_items, est)
    changes += labeling + list(remote.changes)
    labeling_pending = any(c.count for c in labeling)
    changes += aggregate.changes(spec, store, labeling_pending)
    decided: dict[str, Decision] | None = None  # unknown until the crowd has answered
    if not labeling_pending:
        rerun = any(c.stage == aggregate.NAME for c in changes)
        decided = aggregate.decide(spec, store) if rerun else aggregate.stored_decisions(store)
    changes += _review(spec, store, decided)
    changes += export.changes(spec, store, decided)
    return Plan(
        spec_path=str(spec.path),
        name=spec.name,
        digest=digest(spec, survey),
        serial=store.serial,
        changes=tuple(changes),
        estimate=est,
        notes=remote.notes,
        shortfall=_shortfall(
            spec, aggregate.stored_decisions(store) if decided is None else decided
        ),
    )


_EMPTY = (
    "No images yet: the classes' folders and URL files are empty and they have no queries. "
    "Add images, URLs or queries, then plan again."
)


def _nothing_to_collect(spec: Spec, store: Store, survey: Survey) -> bool:
    """A new spec whose classes list nothing: say so instead of planning empty stages."""
    listed = any(survey.listed.values())
    searches = any(c.queries for c in spec.classes)
    known = store.db.execute("SELECT 1 FROM candidates LIMIT 1").fetchone() is not None
    return not (listed or searches or known)


def _review(spec: Spec, store: Store, decided: dict[str, Decision] | None) -> list[Change]:
    """Manual review's effect on the pages already answered: accepted, rejected, paid."""
    if spec.crowd.backend != "toloka" or spec.pool.review != "manual" or decided is None:
        return []
    from yamlset.crowd.toloka_plan import review_preview

    labels = {item: d.label for item, d in decided.items()}
    accepted, rejected = review_preview(spec, store, labels)
    if not accepted + rejected:
        return []
    pay = accepted * spec.pool.cost_per_assignment
    return [
        Change(
            "+",
            aggregate.NAME,
            f"review {accepted + rejected:,} submitted pages: accept {accepted:,} "
            f"(pay ${pay:,.3f}), reject {rejected:,}",
        )
    ]


def _reasons(store: Store, stage: str, config: dict[str, Any]) -> tuple[str, ...]:
    return tuple(diff(store.stage_config(stage), config))


def _shortfall(spec: Spec, decisions: dict[str, Decision]) -> tuple[Shortfall, ...]:
    counts = aggregate.class_counts(spec, decisions)
    return tuple(
        Shortfall(c.key, counts[c.key], c.target)
        for c in spec.classes
        if c.target is not None and counts[c.key] < c.target
    )


def save(plan: Plan, path: Path) -> None:
    write_atomic(path, (json.dumps(plan.as_dict(), indent=2, ensure_ascii=False) + "\n").encode())


def load_saved(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StalePlanError(f"{path}: not a saved yamlset plan ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT or "spec" not in data:
        raise StalePlanError(f"{path}: not a saved yamlset plan")
    return data


def check_fresh(saved: dict[str, Any], current: Plan, path: Path) -> None:
    """A saved plan is carried out only against the very state and spec it was made from."""
    if saved["digest"] != current.digest:
        raise StalePlanError(
            f"saved plan {path} is stale: the spec or the files it lists changed since; "
            "run `yamlset plan` again"
        )
    if saved["serial"] != current.serial:
        raise StalePlanError(
            f"saved plan {path} is stale: the state moved from serial {saved['serial']} to "
            f"{current.serial} since; run `yamlset plan` again"
        )
