"""Hosting: where labelers' browsers fetch the resized images from.

Backends are registered in one place, keyed by the spec's `hosting.type`, and imported on
first use: a spec with static hosting never pays for importing boto3.
The `local` type is the local crowd server's own and is not listed here.
"""

from __future__ import annotations

import importlib

from yamlset.errors import YamlsetError
from yamlset.hosting.base import Host, check_url

__all__ = ["HOSTS", "Host", "check_url", "get"]

# type -> (module, class)
HOSTS: dict[str, tuple[str, str]] = {
    "s3": ("yamlset.hosting.s3", "S3Host"),
    "static": ("yamlset.hosting.static", "StaticHost"),
}
_MADE: dict[str, Host] = {}


def get(type: str) -> Host:
    """The backend for a `hosting.type`; a one-line error names the choices."""
    if type not in HOSTS:
        raise YamlsetError(f"unknown hosting type {type!r}; choose one of {', '.join(HOSTS)}")
    if type not in _MADE:
        module, cls = HOSTS[type]
        _MADE[type] = getattr(importlib.import_module(module), cls)()
    return _MADE[type]
