"""crowd-kit's methods beyond ours (Wawa, GLAD), behind the same Method protocol.

crowd-kit is an optional extra: it is imported only when one of these methods runs.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from yamlset.aggregation.base import Answers, Decision, Encoded, Floats, decide_by_posterior, encode
from yamlset.errors import YamlsetError
from yamlset.spec.model import AggregationSpec


class CrowdKitMethod:
    """Runs `crowdkit.aggregation.<cls>` and turns its probas into Decisions."""

    def __init__(self, name: str, cls: str) -> None:
        self.name = name
        self.cls = cls

    def aggregate(
        self, answers: Answers, options: Sequence[str], spec: AggregationSpec
    ) -> dict[str, Decision]:
        model = self._load()()
        enc = encode(answers, options)
        if not enc.items:
            return {}
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            # crowd-kit's internals warn (pandas deprecations, log(0)) in ways a user
            # cannot act on; its results are checked below like any method's.
            warnings.simplefilter("ignore")
            probas = model.fit_predict_proba(_frame(answers))
        return decide_by_posterior(enc, _posterior(probas, enc), spec)

    def _load(self) -> Any:
        try:
            module = importlib.import_module("crowdkit.aggregation")
        except ImportError as e:  # crowd-kit itself, or pandas/scikit-learn it needs
            raise YamlsetError(
                f"aggregation method {self.name!r} needs crowd-kit: "
                "pip install --no-deps crowd-kit && pip install 'yamlset[crowdkit]'"
            ) from e
        return getattr(module, self.cls)


def _frame(answers: Answers) -> Any:
    import pandas as pd  # present whenever crowd-kit imported

    return pd.DataFrame(
        {
            "task": list(answers.items),
            "worker": list(answers.labelers),
            "label": list(answers.values),
        }
    )


def _posterior(probas: Any, enc: Encoded) -> Floats:
    """crowd-kit's probas (task x label frame) as an (items, options) array in our order;
    options it never saw get probability 0."""
    aligned = probas.reindex(index=enc.items, columns=list(enc.options), fill_value=0.0)
    out: Floats = np.nan_to_num(aligned.to_numpy(dtype=np.float64))
    return out


WAWA = CrowdKitMethod("wawa", "Wawa")
GLAD = CrowdKitMethod("glad", "GLAD")
