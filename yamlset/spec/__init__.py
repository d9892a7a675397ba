"""The spec format: load a YAML spec into frozen values, or list its problems."""

from __future__ import annotations

from yamlset.spec.durations import parse_duration
from yamlset.spec.load import load, schema, validate
from yamlset.spec.starter import starter_spec

__all__ = ["load", "parse_duration", "schema", "starter_spec", "validate"]
