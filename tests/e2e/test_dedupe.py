"""The same photo found for two classes, at two sizes, is one task; the manifest says why."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from click.testing import CliRunner
from PIL import Image

from tests.conftest import photo, write
from tests.fakes.images import ImageServer
from yamlset.cli import main


def _smaller(data: bytes) -> bytes:
    im = Image.open(io.BytesIO(data)).resize((400, 300))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=70)
    return buf.getvalue()


def _spec(root: Path, server: ImageServer, dedupe: str) -> Path:
    big = server.add("/big.jpg", photo(7))
    small = server.add("/small.jpg", _smaller(photo(7)))
    other = server.add("/other.jpg", photo(8))
    write(
        root,
        {
            "s.yaml": f"""\
            version: 1
            name: dupes
            classes:
              cat: {{urls: cat.txt}}
              dog: {{urls: dog.txt}}
            collect: {{dedupe: {dedupe}}}
            crowd: {{backend: files}}
            hosting: {{type: static, base_url: "http://127.0.0.1:9/d/"}}
            pool: {{overlap: 1}}
            aggregation: {{min_votes: 1}}
            output: {{dir: out}}
        """,
            "cat.txt": f"{big}\n{other}\n",
            "dog.txt": f"{small}\n",
        },
    )
    return root / "s.yaml"


def _tasks(spec: Path) -> list[str]:
    return (spec.parent / "dupes.tasks.tsv").read_text().splitlines()[1:]


def test_a_near_duplicate_across_classes_is_one_task_kept_at_the_larger_size(
    tmp_path: Path, image_server: ImageServer
) -> None:
    spec = _spec(tmp_path, image_server, "perceptual")
    assert CliRunner().invoke(main, ["apply", str(spec), "--yes"]).exit_code == 0
    tasks = _tasks(spec)
    assert len(tasks) == 2
    with (tmp_path / "dupes.results.tsv").open("w", newline="") as f:
        w = csv.writer(f, delimiter="\t")
        w.writerow(["INPUT:image", "OUTPUT:result", "ASSIGNMENT:worker_id"])
        w.writerows([[t, "cat", "w1"] for t in tasks])
    result = CliRunner().invoke(main, ["apply", str(spec), "--yes"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((tmp_path / "out" / "manifest.csv").open()))
    merged = next(r for r in rows if r["merged_urls"])
    assert merged["source_url"] == image_server.url("/big.jpg")
    assert image_server.url("/small.jpg") in merged["merged_urls"]
    assert "near-duplicate, pHash distance" in merged["merged_urls"]


def test_dedupe_none_keeps_both(tmp_path: Path, image_server: ImageServer) -> None:
    spec = _spec(tmp_path, image_server, "none")
    assert CliRunner().invoke(main, ["apply", str(spec), "--yes"]).exit_code == 0
    assert len(_tasks(spec)) == 3
