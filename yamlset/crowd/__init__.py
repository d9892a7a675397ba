"""Crowd backends, registered in one dict and imported on first use."""

from __future__ import annotations

import importlib

from yamlset.crowd.base import Backend, LabelContext, LabelTask, Outcome, Progress

_BACKENDS = {
    "local": ("yamlset.crowd.local", "LocalBackend"),
    "toloka": ("yamlset.crowd.toloka", "TolokaBackend"),
    "files": ("yamlset.crowd.files", "FilesBackend"),
}
NAMES = tuple(_BACKENDS)


def get(name: str) -> Backend:
    module, cls = _BACKENDS[name]
    backend: Backend = getattr(importlib.import_module(module), cls)()
    return backend


def backend_key(name: str, environment: str) -> str:
    """How a backend's answers are tagged: Toloka's sandbox and production never mix."""
    return f"toloka:{environment}" if name == "toloka" else name


__all__ = ["NAMES", "Backend", "LabelContext", "LabelTask", "Outcome", "Progress", "get"]
