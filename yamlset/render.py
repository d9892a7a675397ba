"""Plans and state summaries as text (rich markup), Markdown or JSON. The only printer's helper."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from rich.markup import escape

from yamlset.fsutil import shown
from yamlset.plan import Plan
from yamlset.spec.model import Spec
from yamlset.units import money

_COLOUR = {"+": "green", "~": "yellow", ">": "cyan", "-": "red"}
_FOLD = 8  # markdown folds lists longer than this into <details>
_NO_CHANGES = "No changes. The dataset is up to date with the spec."


def _cents(x: float) -> str:
    """Dollars rounded half up to the cent, as a person would: $1.305 is ~$1.31."""
    cents = Decimal(repr(round(x, 6))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{cents:,}"


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def estimate_line(plan: Plan, spec: Spec) -> str:
    e = plan.estimate
    if not e.tasks:
        return "Crowd: nothing to label."
    approx = "~" if e.estimate else ""
    line = (
        f"Crowd: {approx}{_n(e.tasks, 'task')}, {approx}{_n(e.pages, 'page')}, "
        f"{approx}{_n(e.assignments, 'assignment')}"
    )
    if spec.crowd.backend == "local":
        return line + " on the local page (no cost)."
    p = spec.pool
    return (
        line + f", {approx}{money(e.cost)} (${p.price_per_page:g} + "
        f"${p.fee.per_page(p.price_per_page):g} fee per assignment)."
    )


def summary_line(plan: Plan) -> str:
    c = plan.counts()
    e = plan.estimate
    crowd = ""
    if e.assignments:
        cost = f"~${_cents(e.cost)}" if e.cost else "no cost"
        crowd = f" Crowd: {_n(e.assignments, 'assignment')}, {cost}."
    return f"Plan: {c['add']} to add, {c['change']} to change, {c['remove']} to remove.{crowd}"


def plan_text(plan: Plan, spec: Spec) -> str:
    lines = [f"[bold]yamlset plan[/bold]: {escape(spec.name)} ({escape(shown(spec.path))})", ""]
    if not plan.changes:
        lines.append(_NO_CHANGES if not plan.notes else "No changes.")
        lines += [f"[yellow]{escape(note)}[/yellow]" for note in plan.notes]
        return "\n".join(lines)
    for ch in plan.changes:
        colour = _COLOUR[ch.action]
        est = " [dim](estimate)[/dim]" if ch.estimate else ""
        lines.append(f"  [{colour}]{ch.action}[/{colour}] {ch.stage:<9} {escape(ch.subject)}{est}")
        for reason in ch.reasons:
            lines.append(f"      {escape(reason)}")
        for detail in ch.details[:_FOLD]:
            lines.append(f"      [dim]{escape(detail)}[/dim]")
        if len(ch.details) > _FOLD:
            lines.append(f"      [dim]... and {len(ch.details) - _FOLD} more[/dim]")
    lines += ["", estimate_line(plan, spec)]
    if plan.shortfall:
        short = ", ".join(f"{s.cls} {s.have:,}/{s.target:,}" for s in plan.shortfall)
        lines.append(f"Verified so far, against targets: {escape(short)}")
    lines += [f"[yellow]{escape(note)}[/yellow]" for note in plan.notes]
    lines += ["", f"[bold]{summary_line(plan)}[/bold]"]
    return "\n".join(lines)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;")


def plan_markdown(plan: Plan, spec: Spec) -> str:
    lines = [f"### yamlset plan: `{spec.name}`", ""]
    if not plan.changes:
        lines.append(_NO_CHANGES if not plan.notes else "No changes.")
        lines += ["", *plan.notes]
        return "\n".join(lines) + "\n"
    lines += ["| | stage | change | why |", "|---|---|---|---|"]
    for ch in plan.changes:
        est = " *(estimate)*" if ch.estimate else ""
        why = "<br>".join(_md(r) for r in ch.reasons)
        lines.append(f"| `{ch.action}` | {ch.stage} | {_md(ch.subject)}{est} | {why} |")
    details = [ch for ch in plan.changes if ch.details]
    for ch in details:
        lines += ["", f"<details><summary>{_md(ch.subject)}: {len(ch.details)} items</summary>", ""]
        lines += [f"- {_md(d)}" for d in ch.details]
        lines += ["", "</details>"]
    lines += ["", estimate_line(plan, spec)]
    if plan.shortfall:
        lines.append("")
        lines.append(
            "Verified so far, against targets: "
            + ", ".join(f"{s.cls} {s.have:,}/{s.target:,}" for s in plan.shortfall)
        )
    lines += [f"\n> {_md(note)}" for note in plan.notes]
    lines += ["", f"**{summary_line(plan)}**"]
    return "\n".join(lines) + "\n"


def plan_json(plan: Plan) -> str:
    return json.dumps(plan.as_dict(), indent=2, ensure_ascii=False)


def show_text(data: dict[str, Any]) -> str:
    """`yamlset show` as text, from the data `show.collect_state` returns."""
    lines = [
        f"[bold]{escape(data['name'])}[/bold]  state {escape(data['state_dir'])}"
        f"  serial {data['serial']}",
        "",
    ]
    for title, rows in data["sections"]:
        lines.append(f"[bold]{escape(title)}[/bold]")
        if not rows:
            lines.append("  (nothing yet)")
        for label, value in rows:
            lines.append(f"  {escape(label):<28} {escape(str(value))}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
