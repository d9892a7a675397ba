"""One exception root. Everything a user can cause is a YamlsetError."""

from __future__ import annotations

from dataclasses import dataclass


class YamlsetError(Exception):
    """A failure the user can act on: reported as one line, exit code 1."""


@dataclass(frozen=True)
class Problem:
    """One problem in a spec file, located as precisely as the YAML allows."""

    file: str
    line: int
    col: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.path}: {self.message}"


class SpecError(YamlsetError):
    """A spec has one or more problems; all of them are reported at once."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class StalePlanError(YamlsetError):
    """A saved plan no longer matches the state it was made against."""


class LockedError(YamlsetError):
    """Another apply holds the state lock."""


class SourceError(YamlsetError):
    """A search source failed for the rest of this run (blocked, rate-limited, broken)."""


class CrowdError(YamlsetError):
    """A crowd backend failed in a way the user must see."""


class BudgetError(YamlsetError):
    """Applying would spend more than the spec's budget or the account holds."""
