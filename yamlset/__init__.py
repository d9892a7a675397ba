"""yamlset: verified image datasets from one YAML spec and a crowd."""

from __future__ import annotations

__version__ = "0.1.0"
