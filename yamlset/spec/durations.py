"""Durations as a spec writes them: `40s`, `10m`, `1h30m`, `7d`, `2w`."""

from __future__ import annotations

import re

# The schema's pattern for a duration; `parse_duration` adds the order rule.
PATTERN = r"^([0-9]+[smhdw])+$"

_UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"([0-9]+)([smhdw])")


def parse_duration(text: str) -> int:
    """Seconds in `text`; units go from the largest to the smallest, each at most once.

    Raises ValueError on anything else (`10`, `1.5h`, `30m1h`, `ten minutes`).
    """
    if not re.fullmatch(PATTERN, text):
        raise ValueError(f"not a duration: {text!r}; write it like 40s, 10m, 1h30m or 7d")
    parts = _PART.findall(text)
    units = [unit for _, unit in parts]
    order = list(_UNITS)
    # "30m1h" or "10m10m" is almost certainly a typo, not an intended sum.
    if sorted(units, key=order.index) != units or len(set(units)) != len(units):
        raise ValueError(f"not a duration: {text!r}; write each unit once, largest first")
    return sum(int(number) * _UNITS[unit] for number, unit in parts)
