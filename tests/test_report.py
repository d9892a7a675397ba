"""report.html: sections, escaping and the atomic write."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.crowd.specs import make_spec
from yamlset.report import ReportRow, write_report
from yamlset.spec.model import Spec

EVIL = "<script>alert(1)</script>"


def row(n: int, label: str | None, votes: dict[str, int], source: str = "") -> ReportRow:
    item = f"{n:02d}" + "ef" * 31
    folder = label or "dropped"
    ranked = tuple(sorted(votes.items(), key=lambda kv: -kv[1]))
    share = max(votes.values()) / sum(votes.values())
    url = source or f"https://commons.example/{n}"
    return ReportRow(item, f"train/{folder}/{item}.jpg", label, ranked, share, "train", url)


ROWS = [
    row(1, "cat", {"cat": 3}),
    row(2, "cat", {"cat": 2, "dog": 1}),
    row(3, "dog", {"dog": 3}),
    row(4, "other", {"other": 2, "cat": 1}),
    row(5, None, {"cat": 1, "dog": 1, "other": 1}, source="javascript:alert(5)"),
]
AGREEMENT = [("ann", 5, 5, 1.0), (EVIL, 5, 1, 0.2)]


@pytest.fixture
def spec(tmp_path: Path) -> Spec:
    return make_spec(tmp_path, classes=(("cat", EVIL), ("dog", "Dog")))


def write(tmp_path: Path, spec: Spec, rows: list[ReportRow] = ROWS) -> str:
    path = tmp_path / "out" / "report.html"
    write_report(path, spec=spec, rows=rows, agreement=AGREEMENT, spend=1.305, elapsed_s=1234)
    return path.read_text(encoding="utf-8")


def section(html: str, heading: str) -> str:
    """The HTML between the <h2> starting with `heading` and the next <h2>."""
    start = html.index(f"<h2>{heading}")
    end = html.find("<h2>", start + 4)
    return html[start : end if end != -1 else len(html)]


def items_in(html: str) -> list[int]:
    return [int(m) for m in re.findall(r'src="train/[a-z]+/(\d\d)ef', html)]


def test_summary_counts_cost_and_time(tmp_path: Path, spec: Spec) -> None:
    html = write(tmp_path, spec)
    figures = re.findall(r'<div class="figure"><b>([^<]+)</b><span>([^<]+)</span>', html)
    assert figures == [
        ("5", "images labeled"),
        ("3", "kept"),
        ("1", "kept, not unanimous"),
        ("2", "dropped"),
        ("$1.305", "crowd cost"),
        ("20m 34s", "labeling time"),
    ]


def test_sections_hold_the_right_images(tmp_path: Path, spec: Spec) -> None:
    html = write(tmp_path, spec)
    assert items_in(section(html, "Dog")) == [3]
    assert items_in(section(html, "Contested")) == [2]
    dropped = section(html, "Dropped")
    assert items_in(dropped) == [4, 5]
    assert "<b>other 2</b> · cat 1" in dropped
    assert "<i>undecided</i> · cat 1 · dog 1 · other 1" in dropped


def test_everything_is_escaped_and_inert(tmp_path: Path, spec: Spec) -> None:
    html = write(tmp_path, spec)
    assert EVIL not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3  # class and labeler
    assert "javascript:" not in html
    assert "<script" not in html
    assert re.search(r"""(src|href)=["']?//""", html) is None


def test_careless_labelers_are_marked(tmp_path: Path, spec: Spec) -> None:
    table = section(write(tmp_path, spec), "Labelers")
    rows = re.findall(r"<tr( class=\"careless\")?><td>([^<]+)</td>", table)
    assert rows == [(' class="careless"', "&lt;script&gt;alert(1)&lt;/script&gt;"), ("", "ann")]


def test_image_paths_cannot_leave_the_folder_as_urls(tmp_path: Path, spec: Spec) -> None:
    odd = ReportRow("x" * 64, "javascript:alert(1)", "cat", (("cat", 1),), 1.0, None, "")
    html = write(tmp_path, spec, [odd])
    assert 'src="javascript%3Aalert%281%29"' in html


def test_the_write_is_atomic(tmp_path: Path, spec: Spec) -> None:
    write(tmp_path, spec)
    assert os.listdir(tmp_path / "out") == ["report.html"]
    assert (tmp_path / "out" / "report.html").stat().st_mode & 0o777 == 0o644
