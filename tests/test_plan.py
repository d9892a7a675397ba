"""Plans as a user reads them: the article's reference figures, formats, saved plans."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tests.conftest import write
from yamlset.cli import main

REFERENCE = """\
version: 1
name: reference
classes:
  kirkorov:
    title: Philipp Kirkorov
    urls: urls.txt
crowd:
  backend: files
hosting:
  type: static
  base_url: https://img.example.org/
pool:
  price_per_page: 0.01
  fee: {percent: 30, min: 0.005}
  tasks_per_page: 40
  overlap: 3
"""


def _reference(tmp_path: Path) -> Path:
    urls = "".join(f"http://127.0.0.1:9/{i}.jpg\n" for i in range(1159))
    write(tmp_path, {"ref.yaml": REFERENCE, "urls.txt": urls})
    return tmp_path / "ref.yaml"


def test_the_articles_run_plans_to_29_pages_87_assignments_and_1_305(tmp_path: Path) -> None:
    spec = _reference(tmp_path)
    result = CliRunner().invoke(main, ["plan", str(spec), "--format", "json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    assert plan["estimate"] == {
        "tasks": 1159,
        "pages": 29,
        "assignments": 87,
        "cost": 1.305,
        "estimate": False,
    }
    text = CliRunner().invoke(main, ["plan", str(spec)]).output
    assert "Crowd: 1,159 tasks, 29 pages, 87 assignments, $1.305" in text
    assert text.rstrip().endswith(
        "Plan: 7 to add, 0 to change, 0 to remove. Crowd: 87 assignments, ~$1.31."
    )
    # plan is read-only: no state directory appears
    assert not (tmp_path / ".yamlset").exists()


def test_markdown_plan_is_a_table_ready_for_a_pull_request(tmp_path: Path) -> None:
    spec = _reference(tmp_path)
    md = CliRunner().invoke(main, ["plan", str(spec), "--format", "markdown"]).output
    assert md.startswith("### yamlset plan: `reference`")
    assert "| | stage | change | why |" in md
    assert "| `+` | label | label 1,159 images through reference.tasks.tsv" in md
    assert "**Plan: 7 to add, 0 to change, 0 to remove. Crowd: 87 assignments, ~$1.31.**" in md


def test_detailed_exitcode_says_2_when_there_are_changes(tmp_path: Path) -> None:
    spec = _reference(tmp_path)
    assert CliRunner().invoke(main, ["plan", str(spec), "--detailed-exitcode"]).exit_code == 2


def test_a_saved_plan_is_refused_once_the_spec_or_state_moved(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "s.yaml": """\
            version: 1
            name: saved
            classes:
              a: {folder: photos}
            crowd: {backend: files}
            hosting: {type: static, base_url: "http://127.0.0.1:9/"}
        """,
        },
    )
    from tests.conftest import photo

    write(tmp_path, {"photos/1.jpg": photo(1), "photos/2.jpg": photo(2)})
    spec = tmp_path / "s.yaml"
    plan_file = tmp_path / "plan.json"
    runner = CliRunner()
    assert runner.invoke(main, ["plan", str(spec), "--out", str(plan_file)]).exit_code == 0
    assert (
        runner.invoke(main, ["plan", str(spec), "--out", str(tmp_path / "p2.json")]).exit_code == 0
    )
    applied = runner.invoke(main, ["apply", str(plan_file)])
    assert applied.exit_code == 0, applied.output
    stale = runner.invoke(main, ["apply", str(tmp_path / "p2.json")])
    assert stale.exit_code == 1
    assert "is stale: the state moved from serial 0 to" in stale.output

    spec.write_text(spec.read_text().replace("saved", "saved", 1) + "description: changed\n")
    runner.invoke(main, ["plan", str(spec), "--out", str(plan_file)])
    spec.write_text(spec.read_text() + "budget: 3\n")
    stale = runner.invoke(main, ["apply", str(plan_file)])
    assert stale.exit_code == 1
    assert "the spec or the files it lists changed since" in stale.output


def test_a_spec_that_lists_no_images_says_so_instead_of_planning_empty_stages(
    tmp_path: Path,
) -> None:
    runner = CliRunner()
    assert (
        runner.invoke(
            main, ["init", "pets", "--classes", "cat,dog", "--dir", str(tmp_path)]
        ).exit_code
        == 0
    )
    result = runner.invoke(main, ["plan", str(tmp_path / "pets.yaml"), "--detailed-exitcode"])
    assert result.exit_code == 0, result.output
    assert "No images yet" in result.output
