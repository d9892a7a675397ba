"""The command line as a user meets it: errors, locks, init, schema, the docs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from tests.conftest import photo, write
from yamlset.cli import main
from yamlset.state import Store

ROOT = Path(__file__).resolve().parent.parent


def test_a_broken_spec_is_one_line_per_problem_exit_1_no_traceback(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "bad.yaml": """\
        version: 1
        name: bad
        classes:
          cat: {urls: missing.txt}
        pool:
          overlp: 3
    """
        },
    )
    proc = subprocess.run(
        [sys.executable, "-m", "yamlset", "plan", str(tmp_path / "bad.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert any(
        re.match(r".*bad\.yaml:4:\d+: \$\.classes\.cat\.urls: .*missing\.txt", x) for x in lines
    ), lines
    assert any(
        "bad.yaml:6:3: $.pool.overlp: unknown key 'overlp'; did you mean 'overlap'?" in x
        for x in lines
    ), lines
    assert lines[-1] == "2 problems found"


def test_a_second_apply_is_told_who_holds_the_lock(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "s.yaml": """\
        version: 1
        name: locked
        classes:
          a: {folder: photos}
    """
        },
    )
    (tmp_path / "photos").mkdir()
    holder = Store.open(tmp_path / ".yamlset" / "locked")
    holder.lock("yamlset apply s.yaml")
    try:
        result = CliRunner().invoke(main, ["apply", str(tmp_path / "s.yaml"), "--yes"])
    finally:
        holder.close()
    assert result.exit_code == 1
    assert "is locked by pid" in result.output
    assert "(yamlset apply s.yaml" in result.output


def test_init_writes_a_spec_that_validates(tmp_path: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(main, ["init", "demo", "--classes", "cat,dog", "--dir", str(tmp_path)])
    assert made.exit_code == 0, made.output
    checked = runner.invoke(main, ["validate", str(tmp_path / "demo.yaml")])
    assert checked.exit_code == 0, checked.output
    again = runner.invoke(main, ["init", "demo", "--classes", "cat", "--dir", str(tmp_path)])
    assert again.exit_code == 1
    assert "exists; not overwriting it" in again.output


def test_schema_is_json_schema_that_rejects_unknown_top_level_keys() -> None:
    result = CliRunner().invoke(main, ["schema"])
    schema = json.loads(result.output)
    assert schema["additionalProperties"] is False
    assert {"name", "classes"} <= set(schema["required"])


def test_every_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in main.commands:  # type: ignore[attr-defined]
        assert f"`yamlset {name}" in readme, name


def test_the_design_example_validates_and_plans_without_credentials(tmp_path: Path) -> None:
    spec = ROOT / "specs" / "kirkorov-vs-face.yaml"
    proc = subprocess.run(
        [sys.executable, "-m", "yamlset", "plan", str(spec), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)
    assert plan["estimate"]["estimate"] is True  # searches not run yet: a ceiling
    assert plan["estimate"]["tasks"] == 2 * 3 * 2 * 100


def test_apply_without_a_terminal_or_yes_changes_nothing(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "s.yaml": """\
        version: 1
        name: careful
        classes:
          a: {folder: photos}
    """
        },
    )
    write(tmp_path, {"photos/1.jpg": photo(1)})
    result = CliRunner().invoke(main, ["apply", str(tmp_path / "s.yaml")], input="")
    assert result.exit_code == 1
    assert "pass --yes to apply" in result.output
    assert not (tmp_path / ".yamlset").exists()
