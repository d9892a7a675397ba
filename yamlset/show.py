"""What the state holds, per stage, as data for `yamlset show`."""

from __future__ import annotations

from collections import Counter
from typing import Any

from yamlset import items
from yamlset.aggregation import labeler_agreement
from yamlset.spec.model import Spec
from yamlset.stages import aggregate, host, label
from yamlset.stages.base import params_key
from yamlset.state import Store

Rows = list[tuple[str, Any]]


def collect_state(spec: Spec, store: Store) -> dict[str, Any]:
    sections: list[tuple[str, Rows]] = [
        ("collect", _collect(store)),
        ("download", _download(store)),
        ("resize", _resize(spec, store)),
        ("host", _host(spec, store)),
        ("crowd", _crowd(spec, store)),
        ("labelers (agreement with the decided labels, worst first)", _labelers(spec, store)),
        ("decisions", _decisions(spec, store)),
    ]
    return {
        "name": spec.name,
        "state_dir": str(store.dir),
        "serial": store.serial,
        "sections": sections,
        "spent": label.spent(spec, store),
    }


def _collect(store: Store) -> Rows:
    rows: Rows = []
    for cls, source, n in store.db.execute(
        "SELECT class, source, COUNT(*) FROM candidates GROUP BY class, source ORDER BY 1, 2"
    ):
        rows.append((f"{cls} from {source}", f"{n:,} candidates"))
    for cls, source, query, error in store.db.execute(
        "SELECT class, source, query, error FROM searches WHERE error IS NOT NULL"
    ):
        rows.append((f"{cls} {source} {query!r}", f"failed: {error}"))
    return rows


def _download(store: Store) -> Rows:
    rows: Rows = [
        (status, f"{n:,}")
        for status, n in store.db.execute(
            "SELECT status, COUNT(*) FROM downloads GROUP BY status ORDER BY status"
        )
    ]
    reasons: Counter[str] = Counter(
        e
        for (e,) in store.db.execute(
            "SELECT error FROM downloads WHERE status != 'ok' AND error IS NOT NULL"
        )
    )
    for reason, n in reasons.most_common(5):
        rows.append(("  why", f"{n:,} x {reason}"))
    return rows


def _resize(spec: Spec, store: Store) -> Rows:
    total, dupes, rejected = store.db.execute(
        "SELECT COUNT(*), COUNT(duplicate_of), COUNT(rejected) FROM originals"
    ).fetchone()
    derived = store.db.execute(
        "SELECT COUNT(file), COUNT(error) FROM derived WHERE params=?", (params_key(spec),)
    ).fetchone()
    if not total:
        return []
    return [
        ("distinct originals", f"{total:,}"),
        ("near-duplicates merged", f"{dupes:,}"),
        ("not decodable", f"{rejected:,}"),
        (f"derived at {params_key(spec)}", f"{derived[0]:,} ({derived[1]:,} failed)"),
        ("items (after filters)", f"{len(items.eligible(spec, store)):,}"),
    ]


def _host(spec: Spec, store: Store) -> Rows:
    if spec.hosting.type == "local":
        return [("hosting", "served by yamlset itself")]
    return [(spec.hosting.type, f"{len(host.urls(spec, store)):,} images published")]


def _crowd(spec: Spec, store: Store) -> Rows:
    rows: Rows = []
    for obj in store.remotes():
        rows.append((f"{obj.kind} {obj.key}", f"{obj.remote_id or '-'} ({obj.status})"))
    for backend, n, labelers, items_n in store.db.execute(
        "SELECT backend, COUNT(*), COUNT(DISTINCT labeler), COUNT(DISTINCT item) FROM answers "
        "GROUP BY backend"
    ):
        rows.append(
            (f"answers ({backend})", f"{n:,} from {labelers:,} labelers on {items_n:,} images")
        )
    pending = len(label.pending(spec, store))
    if pending:
        rows.append(("images still short of answers", f"{pending:,}"))
    rows.append(("spent", f"${label.spent(spec, store):,.3f}"))
    return rows


def _labelers(spec: Spec, store: Store) -> Rows:
    decisions = aggregate.stored_decisions(store)
    answers = aggregate.stored_answers(spec, store)
    if not decisions or not answers.items:
        return []
    return [
        (a.labeler, f"{a.share:.0%} of {a.decided:,} decided answers ({a.answers:,} in all)")
        for a in labeler_agreement(answers, decisions)
    ]


def _decisions(spec: Spec, store: Store) -> Rows:
    decisions = aggregate.stored_decisions(store)
    if not decisions:
        return []
    counts = aggregate.class_counts(spec, decisions)
    rows: Rows = []
    for cls in spec.classes:
        target = f" of {cls.target:,} wanted" if cls.target else ""
        rows.append((cls.key, f"{counts[cls.key]:,} kept{target}"))
    other = sum(d.label == "other" for d in decisions.values())
    undecided = sum(d.label is None for d in decisions.values())
    rows.append(("other", f"{other:,}"))
    rows.append(("undecided", f"{undecided:,}"))
    return rows
