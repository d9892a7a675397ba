"""What Toloka objects a spec needs and with which settings: spec-only, no toloka-kit.

Kept apart from toloka_params (which builds toloka-kit objects) so that `yamlset plan`
never pays toloka-kit's import time, and never needs a token.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yamlset.errors import CrowdError
from yamlset.page import instructions_html, render_page
from yamlset.spec.model import Spec
from yamlset.state import RemoteObject, Store

KINDS = ("skill", "project", "training", "pool")
# pool keys that only yamlset reads (review, spend): changing them changes nothing remote
_LOCAL_POOL_KEYS = ("accept_threshold", "reject_comment", "fee")


def object_key(spec: Spec, kind: str) -> str:
    return f"yamlset:{spec.name}:{spec.crowd.environment}:{kind}"


def settings(spec: Spec, kind: str) -> dict[str, Any]:
    """The spec values an object of `kind` is made from, flattened to `section.key` names."""
    if kind == "project":
        page = render_page(spec, backend="toloka")
        return {
            "project.title": spec.project.title,
            "project.description": spec.project.description or spec.description,
            "project.instructions": _digest(str(instructions_html(spec))),
            "project.template": _digest(page.html + page.css + page.js),
            "classes": [value for value, _ in spec.options()],
        }
    if kind == "pool":
        pool = {
            k: v
            for k, v in _flat("pool", dataclasses.asdict(spec.pool)).items()
            if k.split(".")[1] not in _LOCAL_POOL_KEYS and not k.startswith("pool.training")
        }
        return pool
    if kind == "training":
        assert spec.pool.training is not None
        rows = training_rows(spec.root / spec.pool.training.tasks)
        return {
            **_flat("pool.training", dataclasses.asdict(spec.pool.training)),
            "pool.training.tasks": _digest(json.dumps([dataclasses.astuple(r) for r in rows])),
        }
    if kind == "skill":
        return {"pool.quality_control.majority_skill": spec.name}
    raise ValueError(kind)


def wanted_kinds(spec: Spec) -> tuple[str, ...]:
    """The objects this spec needs, in creation order."""
    kinds = ["project"]
    if spec.pool.quality_control.majority_skill is not None:
        kinds.insert(0, "skill")
    if spec.pool.training is not None:
        kinds.append("training")
    return (*kinds, "pool")


def settings_hash(values: dict[str, Any]) -> str:
    return _digest(json.dumps(values, sort_keys=True, default=str))[:12]


def tag(spec: Spec, kind: str, values: dict[str, Any]) -> str:
    return f"{object_key(spec, kind)}#{settings_hash(values)}"


def key_of(tagged: str | None) -> str:
    return (tagged or "").split("#", 1)[0]


@dataclass(frozen=True)
class KnownTask:
    """A training or control task: an image URL with its right answer (and a hint)."""

    image: str
    answer: str
    hint: str = ""


def training_rows(path: Path) -> list[KnownTask]:
    """Read a TSV with INPUT:image, GOLDEN:result and (for training) HINT:text columns."""
    try:
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
    except OSError as e:
        raise CrowdError(f"{path}: cannot read the tasks file: {e.strerror}") from None
    missing = {"INPUT:image", "GOLDEN:result"} - set(rows[0] if rows else {})
    if missing:
        raise CrowdError(f"{path}: the tasks file has no column {', '.join(sorted(missing))}")
    return [KnownTask(r["INPUT:image"], r["GOLDEN:result"], r.get("HINT:text") or "") for r in rows]


def planned_objects(spec: Spec, store: Store) -> list[tuple[str, str, str]]:
    """(action, subject, reason) for every Toloka object the spec needs that state lacks or
    that has different settings. Pure: reads the spec and the store only."""
    changes = []
    for kind in wanted_kinds(spec):
        subject = f"toloka {spec.crowd.environment} {kind}"
        record = store.remote(kind, object_key(spec, kind))
        values = settings(spec, kind)
        if record is None or record.status == "archived":
            changes.append(("+", subject, "not created yet"))
        elif record.status == "creating":
            changes.append((">", subject, "creation was interrupted; reconcile and resume"))
        elif record.data.get("hash") != settings_hash(values):
            changes.append(("~", subject, _differences(record.data.get("settings", {}), values)))
    return changes


def _differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    keys = sorted(k for k in {*old, *new} if old.get(k) != new.get(k))
    return ", ".join(f"{k}: {_show(old.get(k))} -> {_show(new.get(k))}" for k in keys)


def _show(value: Any) -> str:
    return "-" if value is None else str(value)


def _flat(prefix: str, value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flat(f"{prefix}.{k}", v))
        return out
    if isinstance(value, (list, tuple)):
        return {prefix: [str(v) if isinstance(v, Path) else v for v in value]}
    return {prefix: str(value) if isinstance(value, Path) else value}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def destroyable(spec: Spec, store: Store) -> list[RemoteObject]:
    """What `yamlset destroy` closes and archives: the pool, training and project yamlset
    created for this spec in its current environment, as state records them."""
    records = (
        store.remote(kind, object_key(spec, kind)) for kind in ("pool", "training", "project")
    )
    return [r for r in records if r is not None and r.remote_id and r.status != "archived"]


def agreement(answers: Mapping[str, str], decisions: Mapping[str, str | None]) -> float:
    """The share of a page's answers that match the decided labels (undecided items aside)."""
    decided = [item for item in answers if decisions.get(item) is not None]
    if not decided:
        return 1.0  # nothing to judge the page by: the worker gets the benefit of the doubt
    return sum(answers[i] == decisions[i] for i in decided) / len(decided)


def review_preview(
    spec: Spec, store: Store, decisions: Mapping[str, str | None]
) -> tuple[int, int]:
    """(accepted, rejected): what manual review would do with the submitted pages whose
    answers state holds, judged against `decisions`."""
    pages: dict[str, dict[str, str]] = {}
    rows = store.db.execute(
        "SELECT assignment, item, value FROM answers WHERE backend = ? AND status = 'submitted'",
        (f"toloka:{spec.crowd.environment}",),
    )
    for assignment, item, value in rows:
        pages.setdefault(assignment, {})[item] = value
    accepted = sum(
        agreement(answers, decisions) >= spec.pool.accept_threshold for answers in pages.values()
    )
    return accepted, len(pages) - accepted
