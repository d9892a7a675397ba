"""Aggregate: decide each item's class from its stored answers. Never asks the crowd again."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from yamlset import aggregation, items
from yamlset.aggregation.base import Answers, Decision
from yamlset.spec.model import OTHER, Spec
from yamlset.stages import label
from yamlset.stages.base import Change, RunContext, diff
from yamlset.state import Store

NAME = "aggregate"


def rule(spec: Spec) -> dict[str, Any]:
    a = spec.aggregation
    return {
        "method": a.method,
        "min_votes": a.min_votes,
        "min_share": a.min_share,
        "min_confidence": a.min_confidence,
    }


def config(spec: Spec, store: Store) -> dict[str, Any]:
    return {"aggregation": rule(spec), "inputs": _fingerprint(spec, store)}


def stored_answers(spec: Spec, store: Store) -> Answers:
    wanted = {it.sha256 for it in items.eligible(spec, store)}
    rows = [a for a in store.answers(label.key(spec)) if a.item in wanted]
    return Answers(
        items=[a.item for a in rows],
        labelers=[a.labeler for a in rows],
        values=[a.value for a in rows],
    )


def decide(spec: Spec, store: Store) -> dict[str, Decision]:
    answers = stored_answers(spec, store)
    if not answers.items:
        return {}
    options = [value for value, _ in spec.options()]
    return aggregation.aggregate(answers, options, spec.aggregation)


def stored_decisions(store: Store) -> dict[str, Decision]:
    rows = store.db.execute("SELECT item, label, confidence, votes FROM decisions")
    return {
        item: Decision(item, lab, conf, tuple((v, n) for v, n in json.loads(votes)))
        for item, lab, conf, votes in rows
    }


def class_counts(spec: Spec, decisions: dict[str, Decision]) -> Counter[str]:
    counts: Counter[str] = Counter({k: 0 for k in spec.class_keys})
    for d in decisions.values():
        if d.label is not None and d.label != OTHER and d.label in counts:
            counts[d.label] += 1
    return counts


def changes(spec: Spec, store: Store, labeling_pending: bool) -> list[Change]:
    old = store.stage_config(NAME)
    new = config(spec, store)
    if old == new:
        return []
    if not stored_answers(spec, store).items:
        if old is None or labeling_pending:
            return [
                Change("+", NAME, f"decide labels by {spec.aggregation.method} once answers are in")
            ]
        return []
    before = class_counts(spec, stored_decisions(store))
    after = class_counts(spec, decide(spec, store))
    effect = tuple(
        f"{k}: {before[k]:,} -> {after[k]:,} images"
        for k in spec.class_keys
        if before[k] != after[k]
    )
    reasons = _reasons(old, new)
    action = "~" if old else "+"
    return [
        Change(
            action,
            NAME,
            f"decide labels by {spec.aggregation.method}",
            reasons + effect,
            sum(after.values()),
        )
    ]


def _reasons(old: dict[str, Any] | None, new: dict[str, Any]) -> tuple[str, ...]:
    if old is None:
        return ()
    out = diff(old.get("aggregation"), new["aggregation"], prefix="aggregation.")
    o, n = old.get("inputs", {}), new["inputs"]
    if o.get("answers") != n["answers"]:
        out.append(f"{n['answers'] - o.get('answers', 0):+,} answers since the last decision")
    return tuple(out)


def _fingerprint(spec: Spec, store: Store) -> dict[str, int]:
    row = store.db.execute(
        "SELECT COUNT(*), COUNT(DISTINCT item) FROM answers WHERE backend=? "
        "AND status != 'rejected'",
        (label.key(spec),),
    ).fetchone()
    return {"answers": int(row[0]), "items": int(row[1])}


def run(ctx: RunContext) -> dict[str, Decision]:
    spec, store = ctx.spec, ctx.store
    decisions = decide(spec, store)
    with store.tx() as db:
        db.execute("DELETE FROM decisions")
        db.executemany(
            "INSERT INTO decisions VALUES (?, ?, ?, ?)",
            [(d.item, d.label, d.confidence, json.dumps(d.votes)) for d in decisions.values()],
        )
    counts = class_counts(spec, decisions)
    ctx.progress.message(
        "  "
        + ", ".join(f"{k}: {counts[k]:,}" for k in spec.class_keys)
        + f" kept of {len(decisions):,} labeled"
    )
    store.finish_stage(NAME, config(spec, store))
    return decisions
