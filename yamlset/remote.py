"""What the crowd platform holds now, for plan: drift made outside yamlset (Toloka's web UI).

Only reached when state records remote objects; without a token it says what it skipped,
so `plan` still needs no credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from yamlset.spec.model import Spec
from yamlset.stages.base import Change
from yamlset.state import Store


@dataclass(frozen=True)
class RemoteView:
    changes: tuple[Change, ...] = ()
    notes: tuple[str, ...] = ()


def read(spec: Spec, store: Store, environ: Mapping[str, str]) -> RemoteView:
    if spec.crowd.backend != "toloka":
        return RemoteView()
    from yamlset.crowd.toloka_plan import destroyable

    if not destroyable(spec, store):
        return RemoteView()
    if not environ.get("TOLOKA_API_KEY"):
        return RemoteView(
            notes=(
                "Not compared with what Toloka holds: set TOLOKA_API_KEY to see changes made "
                "in Toloka's web UI.",
            )
        )
    from yamlset.crowd import toloka  # toloka-kit: imported only when there is something to read

    changes = tuple(
        Change(
            "~", "label", f"{subject}: changed in Toloka, to be set back to the spec", tuple(found)
        )
        for subject, found in toloka.drift(spec, store, environ)
    )
    return RemoteView(changes=changes)
