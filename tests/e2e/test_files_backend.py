"""The whole pipeline on URL lists and a folder, labeled through the `files` backend."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from PIL import Image

from tests.conftest import photo, write
from tests.fakes.images import ImageServer
from yamlset.cli import main

SPEC = """\
version: 1
name: pets
classes:
  cat:
    title: A cat
    urls: cat-urls.txt
    target: 4
  dog:
    title: A dog
    urls: dog-urls.txt
    folder: dogs/
image:
  size: [64, 64]
crowd:
  backend: files
hosting:
  type: static
  base_url: http://127.0.0.1:9/pets/
pool:
  tasks_per_page: 4
  overlap: 3
aggregation:
  method: majority
  min_votes: 2
output:
  dir: out
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def project(tmp_path: Path, image_server: ImageServer) -> Path:
    urls = {f"/c{i}.jpg": image_server.add(f"/c{i}.jpg", photo(i)) for i in range(3)}
    dogs = {f"/d{i}.jpg": image_server.add(f"/d{i}.jpg", photo(100 + i)) for i in range(2)}
    same = image_server.add("/c0-again.jpg", photo(0))  # the same bytes at another URL
    write(
        tmp_path,
        {
            "pets.yaml": SPEC,
            "cat-urls.txt": "# cats\n" + "\n".join([*urls.values(), same]) + "\n",
            "dog-urls.txt": "\n".join(
                [*dogs.values(), image_server.url("/page.jpg"), urls["/c0.jpg"]]
            )
            + "\n",
            "dogs/d9.jpg": photo(109),
        },
    )
    return tmp_path / "pets.yaml"


def truth(spec: Path) -> dict[str, str]:
    """Image URL in the tasks file -> the class the test's workers believe."""
    import sqlite3

    db = sqlite3.connect(spec.parent / ".yamlset" / "pets" / "state.db")
    rows = db.execute(
        "SELECT h.url, MIN(c.class) FROM hosted h JOIN derived d ON d.file = h.file "
        "JOIN downloads dl ON dl.sha256 = d.sha256 JOIN candidates c ON c.url = dl.url "
        "GROUP BY h.url"
    )
    return dict(rows.fetchall())


def write_results(spec: Path, answers: dict[str, list[str]]) -> None:
    """Toloka's results TSV: three workers per image; a rejected assignment is noise."""
    path = spec.parent / "pets.results.tsv"
    with path.open("w", newline="") as f:
        w = csv.writer(f, delimiter="\t")
        w.writerow(
            [
                "INPUT:image",
                "OUTPUT:result",
                "ASSIGNMENT:assignment_id",
                "ASSIGNMENT:worker_id",
                "ASSIGNMENT:status",
            ]
        )
        for url, values in answers.items():
            for worker, value in zip(("w1", "w2", "w3"), values, strict=True):
                w.writerow([url, value, f"a-{worker}", worker, "APPROVED"])
            w.writerow([url, "other", "a-bad", "w9", "REJECTED"])


def test_apply_stops_for_results_then_builds_the_dataset(
    project: Path, image_server: ImageServer
) -> None:
    first = run("apply", str(project), "--yes")
    assert first.exit_code == 0, first.output
    assert "Stopped at labeling" in first.output
    tasks = (project.parent / "pets.tasks.tsv").read_text().splitlines()
    # 3 cats + 2 dogs + 1 folder dog; the HTML page is dropped, the duplicate URL and the
    # cat listed under dog too are one task each
    assert tasks[0] == "INPUT:image"
    assert len(tasks) == 1 + 6
    assert all(t.startswith("http://127.0.0.1:9/pets/") for t in tasks[1:])

    seen = truth(project)
    answers = {}
    for url in tasks[1:]:
        cls = seen[url]
        answers[url] = [cls, cls, "other"] if cls == "cat" else [cls, "cat", "other"]
    write_results(project, answers)

    second = run("apply", str(project), "--yes")
    assert second.exit_code == 0, second.output
    out = project.parent / "out"
    cats = sorted((out / "cat").iterdir())
    assert len(cats) == 3
    assert not (out / "dog").exists()  # 1 of 3 votes each: undecided, dropped
    assert Image.open(cats[0]).size == (64, 64)
    manifest = list(csv.DictReader((out / "manifest.csv").open()))
    assert len(manifest) == 6
    kept = [r for r in manifest if r["kept"] == "yes"]
    assert {r["class"] for r in kept} == {"cat"}
    assert all(r["votes"] == "cat:2 other:1" for r in kept)
    assert (out / "report.html").exists()
    meta = [json.loads(line) for line in (out / "metadata.jsonl").read_text().splitlines()]
    assert sorted(m["file_name"] for m in meta) == sorted(f"cat/{p.name}" for p in cats)

    again = run("plan", str(project), "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes" in again.output


def test_new_size_rederives_from_cache_and_new_rule_redecides(
    project: Path, image_server: ImageServer
) -> None:
    run("apply", str(project), "--yes")
    seen = truth(project)
    write_results(project, {u: [c, c, "cat"] for u, c in seen.items()})
    assert run("apply", str(project), "--yes").exit_code == 0
    hits = dict(image_server.counts)

    project.write_text(project.read_text().replace("size: [64, 64]", "size: [32, 48]"))
    planned = run("plan", str(project))
    assert "image.size: [64, 64] -> [32, 48]" in planned.output
    assert run("apply", str(project), "--yes").exit_code == 0
    assert dict(image_server.counts) == hits  # nothing downloaded again
    for file in (project.parent / "out").rglob("*.jpg"):
        assert Image.open(file).size == (32, 48)

    project.write_text(project.read_text().replace("min_votes: 2", "min_votes: 3"))
    planned = run("plan", str(project), "--format", "json")
    plan = json.loads(planned.output)
    agg = next(c for c in plan["changes"] if c["stage"] == "aggregate")
    assert "aggregation.min_votes: 2 -> 3" in agg["reasons"]
    assert "cat: 3 -> 3 images" not in agg["reasons"]
    assert "dog: 3 -> 0 images" in agg["reasons"]  # dogs had 2 of 3 votes
    assert plan["estimate"]["assignments"] == 0
    assert run("apply", str(project), "--yes").exit_code == 0
    assert not (project.parent / "out" / "dog").exists()
    assert len(list((project.parent / "out" / "cat").iterdir())) == 3


def test_export_refuses_to_overwrite_files_it_did_not_write(project: Path) -> None:
    run("apply", str(project), "--yes")
    seen = truth(project)
    write_results(project, {u: [c, c, c] for u, c in seen.items()})
    foreign = project.parent / "out" / "notes.txt"
    write(project.parent, {"out/notes.txt": "mine"})
    assert run("apply", str(project), "--yes").exit_code == 0
    assert foreign.read_text() == "mine"
    # a file in the way of one export wants to write is an error, not an overwrite
    project.write_text(project.read_text().replace("dir: out", "dir: out2"))
    first = sorted((project.parent / "out").rglob("*.jpg"))[0]
    target = project.parent / "out2" / first.relative_to(project.parent / "out")
    target.parent.mkdir(parents=True)
    target.write_bytes(b"precious")
    result = CliRunner().invoke(main, ["apply", str(project), "--yes"])
    assert result.exit_code == 1
    assert "was not written by yamlset" in result.output
    assert target.read_bytes() == b"precious"
