"""Where the files that ship with yamlset live (task page templates)."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def templates_dir() -> Path:
    """The shipped templates: inside the wheel, or the checkout's top-level templates/."""
    for candidate in (_HERE / "templates", _HERE.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("yamlset's templates/ folder is missing from this installation")


def template_names() -> list[str]:
    return sorted(p.name.removesuffix(".html.j2") for p in templates_dir().glob("*.html.j2"))


def find_template(name_or_path: str, spec_root: Path) -> Path | None:
    """A template by shipped name (`image-classification`) or by path relative to the spec."""
    if "/" in name_or_path or name_or_path.endswith((".j2", ".html")):
        path = (spec_root / name_or_path).resolve()
        return path if path.is_file() else None
    shipped = templates_dir() / f"{name_or_path}.html.j2"
    return shipped if shipped.is_file() else None
