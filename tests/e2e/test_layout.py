"""The output loads the way ML engineers load it: torchvision's ImageFolder and HF imagefolder."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import photo, write
from yamlset.cli import main

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("layout")
    files: dict[str, str | bytes] = {
        "s.yaml": """\
        version: 1
        name: layout
        classes:
          cat: {folder: cat}
          dog: {folder: dog}
        image: {size: [40, 30]}
        crowd: {backend: files}
        hosting: {type: static, base_url: "http://127.0.0.1:9/l/"}
        pool: {overlap: 1}
        aggregation: {min_votes: 1}
        output: {dir: out, splits: {train: 0.5, val: 0.25, test: 0.25}}
    """
    }
    for i in range(8):
        files[f"cat/{i}.jpg"] = photo(200 + i)
        files[f"dog/{i}.jpg"] = photo(300 + i)
    write(root, files)
    spec = root / "s.yaml"
    assert CliRunner().invoke(main, ["apply", str(spec), "--yes"]).exit_code == 0
    db = sqlite3.connect(root / ".yamlset" / "layout" / "state.db")
    truth = dict(
        db.execute(
            "SELECT h.url, c.class FROM hosted h JOIN derived d ON d.file = h.file "
            "JOIN downloads dl ON dl.sha256 = d.sha256 JOIN candidates c ON c.url = dl.url"
        ).fetchall()
    )
    with (root / "layout.results.tsv").open("w", newline="") as f:
        w = csv.writer(f, delimiter="\t")
        w.writerow(["INPUT:image", "OUTPUT:result", "ASSIGNMENT:worker_id"])
        w.writerows([[url, cls, "w1"] for url, cls in truth.items()])
    result = CliRunner().invoke(main, ["apply", str(spec), "--yes"])
    assert result.exit_code == 0, result.output
    return root / "out"


def test_each_split_is_an_imagefolder_root(dataset: Path) -> None:
    """torchvision.datasets.ImageFolder: sorted class folders, image files inside them."""
    for split, expected in (("train", 4), ("val", 2), ("test", 2)):
        classes = sorted(p.name for p in (dataset / split).iterdir() if p.is_dir())
        assert classes == ["cat", "dog"]
        for cls in classes:
            images = [
                p for p in (dataset / split / cls).iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS
            ]
            assert len(images) == expected, (split, cls)


def test_hugging_face_imagefolder_loads_every_split(
    dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    datasets = pytest.importorskip("datasets")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(dataset.parent / "hf"))
    loaded = datasets.load_dataset("imagefolder", data_dir=str(dataset))
    assert {name: len(part) for name, part in loaded.items()} == {
        "train": 8,
        "validation": 4,
        "test": 4,
    }
    row = loaded["train"][0]
    assert row["image"].size == (40, 30)
    assert row["label"] in {"cat", "dog"}
    assert row["votes"][row["label"]] == 1
