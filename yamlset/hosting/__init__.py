"""Hosting: where labelers' browsers fetch the resized images from.

Backends live in one registry, `HOSTS`, keyed by the spec's `hosting.type`.
The `local` type is the local crowd server's own and is not listed here.
"""

from __future__ import annotations

from yamlset.errors import YamlsetError
from yamlset.hosting.base import Host, check_url
from yamlset.hosting.s3 import S3Host
from yamlset.hosting.static import StaticHost

__all__ = ["HOSTS", "Host", "check_url", "get"]

HOSTS: dict[str, Host] = {h.name: h for h in (S3Host(), StaticHost())}


def get(type: str) -> Host:
    """The backend for a `hosting.type`; a one-line error names the choices."""
    host = HOSTS.get(type)
    if host is None:
        raise YamlsetError(f"unknown hosting type {type!r}; choose one of {', '.join(HOSTS)}")
    return host
