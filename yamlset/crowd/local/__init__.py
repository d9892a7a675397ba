"""The local crowd backend: a task page and JSON API served from this machine."""

from __future__ import annotations

from yamlset.crowd.local.backend import LocalBackend, serve
from yamlset.crowd.local.pages import Page, PageBook, PageError, Tally
from yamlset.crowd.local.server import LocalServer

__all__ = ["LocalBackend", "LocalServer", "Page", "PageBook", "PageError", "Tally", "serve"]
