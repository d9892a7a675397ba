"""The default crowd: apply serves the labeling page, colleagues label, the dataset appears."""

from __future__ import annotations

import csv
import hashlib
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.conftest import photo, write

SPEC = """\
version: 1
name: office
classes:
  cat: {title: A cat, folder: cats}
  dog: {title: A dog, folder: dogs}
image: {size: [64, 64]}
crowd: {backend: local, port: 0}
pool: {tasks_per_page: 2, overlap: 2}
aggregation: {method: majority, min_votes: 2}
output: {dir: out}
"""


def _project(root: Path) -> tuple[Path, dict[str, str]]:
    files: dict[str, str | bytes] = {"office.yaml": SPEC}
    truth = {}
    for i in range(3):
        for cls, seed in (("cat", i), ("dog", 50 + i)):
            data = photo(seed)
            files[f"{cls}s/{i}.jpg"] = data
            truth[hashlib.sha256(data).hexdigest()] = cls
    write(root, files)
    return root / "office.yaml", truth


def _start(spec: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "yamlset", "apply", str(spec), "--yes"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "300", "TERM": "dumb"},
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        found = re.search(r"Label at (http://127\.0\.0\.1:\d+/\?token=[\w-]+)", line)
        if found:
            return proc, found.group(1)
        assert line or proc.poll() is None, "apply ended before serving the page"
    raise AssertionError("no labeling URL printed")


def _label(url: str, labeler: str, answer: dict[str, str], pages: int | None = None) -> int:
    base, token = url.split("/?token=")
    auth = {"Authorization": f"Bearer {token}"}
    done = 0
    while pages is None or done < pages:
        got = requests.get(
            f"{base}/api/next", params={"labeler": labeler}, headers=auth, timeout=10
        )
        if got.status_code == 204:
            break
        page = got.json()
        answers = {t["id"]: answer[t["id"]] for t in page["tasks"]}
        sent = requests.post(
            f"{base}/api/submit",
            headers=auth,
            timeout=10,
            json={"page": page["page"], "labeler": labeler, "answers": answers},
        )
        assert sent.status_code == 200, sent.text
        done += 1
    return done


def test_two_colleagues_label_and_apply_finishes_by_itself(tmp_path: Path) -> None:
    spec, truth = _project(tmp_path)
    proc, url = _start(spec)
    try:
        assert (
            requests.get(url.split("/?")[0] + "/api/next?labeler=x", timeout=5).status_code == 401
        )
        assert _label(url, "ann", truth) == 3
        wrong = {item: "dog" for item in truth}  # bob calls everything a dog
        # the last answer ends the job; asking for more right after it still gets a 204
        assert _label(url, "bob", wrong) == 3
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, out
    assert "Apply complete" in out
    rows = list(csv.DictReader((tmp_path / "out" / "manifest.csv").open()))
    kept = {r["sha256"]: r["class"] for r in rows if r["kept"] == "yes"}
    assert kept == {item: "dog" for item, cls in truth.items() if cls == "dog"}
    assert len(list((tmp_path / "out" / "dog").iterdir())) == 3
    assert not (tmp_path / "out" / "cat").exists()  # 1 of 2 votes: undecided

    shown = subprocess.run(
        [sys.executable, "-m", "yamlset", "show", str(spec)],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    ).stdout
    assert re.search(r"bob\s+50% of 6 decided", shown) is None  # only decided items count
    assert re.search(r"ann\s+100% of 3 decided answers", shown), shown
    assert re.search(r"bob\s+100% of 3 decided answers", shown), shown


def test_ctrl_c_keeps_answers_and_the_next_apply_continues(tmp_path: Path) -> None:
    spec, truth = _project(tmp_path)
    proc, url = _start(spec)
    try:
        _label(url, "ann", truth, pages=2)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, out
    assert "Stopped at labeling" in out
    assert "Traceback" not in out

    proc, url = _start(spec)
    try:
        assert _label(url, "ann", truth) == 1  # the 2 pages already done are not handed out
        assert _label(url, "cy", truth, pages=3) == 3
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, out
    assert len(list((tmp_path / "out" / "cat").iterdir())) == 3
    assert len(list((tmp_path / "out" / "dog").iterdir())) == 3


def test_serve_shows_the_prepared_images_until_stopped(tmp_path: Path) -> None:
    spec, truth = _project(tmp_path)
    prepared = subprocess.run(
        [sys.executable, "-m", "yamlset", "apply", str(spec), "--yes", "--until", "resize"],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert prepared.returncode == 0, prepared.stdout + prepared.stderr
    proc = subprocess.Popen(
        [sys.executable, "-m", "yamlset", "serve", str(spec), "--port", "0", "--token", "t0k"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "300", "TERM": "dumb"},
    )
    try:
        assert proc.stdout is not None
        line = ""
        while "Label at" not in line:
            line = proc.stdout.readline()
            assert line or proc.poll() is None, "serve ended before serving"
        base = re.search(r"(http://127\.0\.0\.1:\d+)/\?token=t0k", line)
        assert base, line
        assert requests.get(base.group(1) + "/health", timeout=5).json() == {"ok": True}
        page = requests.get(
            base.group(1) + "/api/next", params={"labeler": "ann", "token": "t0k"}, timeout=5
        ).json()
        assert {t["id"] for t in page["tasks"]} <= set(truth)
        image = requests.get(
            base.group(1) + page["tasks"][0]["image"], params={"token": "t0k"}, timeout=5
        )
        assert image.headers["Content-Type"] == "image/jpeg"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
