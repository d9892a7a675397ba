from __future__ import annotations

import pytest

from yamlset.spec import parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("40s", 40), ("10m", 600), ("7d", 604800), ("1h30m", 5400), ("2w", 1209600), ("0s", 0)],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "10", "1.5h", "10 m", "ten minutes", "30m1h", "5m5m", "-1s"])
def test_parse_duration_rejects_junk(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)
