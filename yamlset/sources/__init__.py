"""Search sources, registered in one dict. Lists and folders are per class, not searched."""

from __future__ import annotations

import importlib

from yamlset.sources.base import Candidate, SearchContext, Source

# name -> module that defines `SOURCE`; imported on first use so an optional
# source's dependency (ddgs) is only needed by specs that use it.
_MODULES = {
    "wikimedia": "yamlset.sources.wikimedia",
    "openverse": "yamlset.sources.openverse",
    "ddg": "yamlset.sources.ddg",
    "google": "yamlset.sources.google",
}
SEARCH_SOURCES = tuple(_MODULES)


def get(name: str) -> Source:
    module = importlib.import_module(_MODULES[name])
    source: Source = module.SOURCE
    return source


__all__ = ["SEARCH_SOURCES", "Candidate", "SearchContext", "Source", "get"]
