"""How amounts read to a person, shared by the plan and the report."""

from __future__ import annotations


def money(dollars: float) -> str:
    """Cents, or tenths of a cent when they matter: fees make prices like $1.305."""
    text = f"{dollars:,.3f}"
    return "$" + (text[:-1] if text.endswith("0") else text)
