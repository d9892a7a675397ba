"""What every stage is given, what it reports to the plan, and the items they share."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yamlset.crowd.base import Progress
from yamlset.spec.model import Spec
from yamlset.state import Store

STAGES = ("collect", "download", "resize", "host", "label", "aggregate", "export")


@dataclass(frozen=True)
class RunContext:
    """Everything a stage's `run` may touch: the world is passed in, never looked up."""

    spec: Spec
    store: Store
    progress: Progress
    environ: Mapping[str, str]
    wait: bool = True
    open_browser: bool = False


@dataclass(frozen=True)
class Change:
    """One line of a plan: `+` create, `~` update or rerun, `>` resume, `-` remove."""

    action: str
    stage: str
    subject: str
    reasons: tuple[str, ...] = ()
    count: int = 0
    estimate: bool = False  # the count is a ceiling known before collection, not exact
    details: tuple[str, ...] = ()  # long lists, folded in markdown

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "stage": self.stage,
            "subject": self.subject,
            "reasons": list(self.reasons),
            "count": self.count,
            "estimate": self.estimate,
            "details": list(self.details),
        }


@dataclass(frozen=True)
class Item:
    """An image that goes to the crowd: one per distinct original after dedupe."""

    sha256: str
    file: Path  # the resized image for the current image settings
    width: int
    height: int
    classes: tuple[str, ...] = field(default=())  # classes whose candidates found it


def params_key(spec: Spec) -> str:
    """The identity of the derivation settings; a new key means new derived files."""
    im = spec.image
    return f"{im.size[0]}x{im.size[1]}-{im.fit}-{im.format}-q{im.quality}-{im.background}"


def diff(old: Mapping[str, Any] | None, new: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Human reasons for a change between two stage configs: `image.size: [299, 299] -> [...]`."""
    if old is None:
        return []
    reasons: list[str] = []
    for key in sorted(set(old) | set(new)):
        path = f"{prefix}{key}"
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            reasons.extend(diff(a, b, prefix=f"{path}."))
        elif a != b:
            reasons.append(f"{path}: {_show(a)} -> {_show(b)}")
    return reasons


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
