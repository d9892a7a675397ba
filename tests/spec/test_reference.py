from __future__ import annotations

from pathlib import Path

from yamlset.spec import schema
from yamlset.spec.reference import markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "spec.md"


def test_docs_spec_md_is_the_schema_as_generated() -> None:
    """Regenerate with `yamlset schema --format markdown > docs/spec.md`."""
    assert DOC.read_text(encoding="utf-8") == markdown(schema())


def test_every_key_of_the_design_example_is_documented() -> None:
    text = markdown(schema())
    for key in (
        "pool.quality_control.fast_responses.faster_than",
        "pool.fee.min",
        "classes.*.queries",
        "hosting.endpoint_url",
        "aggregation.min_votes",
        "output.splits",
        "budget",
    ):
        assert f"| `{key}` |" in text, key
