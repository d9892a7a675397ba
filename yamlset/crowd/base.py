"""What every crowd backend is given and what it gives back."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from yamlset.spec.model import Spec
from yamlset.state import Store


@dataclass(frozen=True)
class LabelTask:
    """One image to label: the item id (sha256 of the original) and where its image is."""

    item: str
    file: Path  # the resized image on disk
    url: str  # where labelers' browsers fetch it ("" for the local backend, which serves files)


class Outcome(enum.Enum):
    DONE = "done"  # every task has its answers: aggregation can go on
    WAITING = "waiting"  # stop here; a later apply continues (results file, --no-wait, Ctrl-C)


@dataclass(frozen=True)
class Progress:
    """Callbacks into the terminal UI, so backends never print themselves."""

    message: Callable[[str], None]
    # (label, completed, total): called as work advances; total 0 means unknown
    advance: Callable[[str, int, int], None]


@dataclass(frozen=True)
class LabelContext:
    spec: Spec
    store: Store
    tasks: tuple[LabelTask, ...]
    progress: Progress
    environ: Mapping[str, str]
    wait: bool = True  # False: `apply --no-wait` (return WAITING instead of blocking)
    open_browser: bool = False


class Backend(Protocol):
    name: str
    backend_key: str  # how its answers are tagged in the answers table

    def label(self, ctx: LabelContext) -> Outcome:
        """Get `overlap` answers for every task, storing them as they arrive."""
        ...
