"""The DESIGN.md example end to end on `crowd: backend: toloka`, against loopback stand-ins.

Toloka is `tests.fakes.toloka.TolokaStandIn` (it checks every request against the OpenAPI
description and simulates workers), S3 is moto's server and the images come from the
loopback image server. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import csv
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.conftest import photo, write
from tests.fakes.images import ImageServer
from tests.fakes.s3 import FakeS3, fake_s3, moto_server  # noqa: F401
from tests.fakes.toloka import Fault, TolokaStandIn
from yamlset.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "specs" / "kirkorov-vs-face.yaml"
NAME = "kirkorov-vs-face"
BUCKET = "my-datasets"
KIRKOROV, FACE, NOBODY = 7, 6, 2  # candidates per class; NOBODY are listed as kirkorov
CREATES = r"/api/v1/(projects|pools|trainings|skills|tasks)"


# -- the project on disk ------------------------------------------------------------------


def adapt(text: str, urls: Mapping[str, str], moto: str) -> str:
    """The DESIGN.md example with only what must change for loopback: candidates from
    `urls:` files instead of search queries, S3 at moto, smaller targets."""
    text = re.sub(r"    queries: \[Philipp.*\n", f"    urls: {urls['kirkorov']}\n", text)
    text = re.sub(r"    queries: \[Face.*\n", f"    urls: {urls['face']}\n", text)
    text = text.replace("target: 500", "target: 5")
    text = text.replace(
        "  prefix: kirkorov-vs-face/\n", f"  prefix: kirkorov-vs-face/\n  endpoint_url: {moto}\n"
    )
    assert text.count("urls:") == 2 + 1 and "endpoint_url" in text  # (+1: the comment)
    return text


@pytest.fixture
def project(
    tmp_path: Path,
    image_server: ImageServer,
    fake_s3: FakeS3,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    fake_s3.bucket(BUCKET)
    kirkorov = [image_server.add(f"/k{i}.jpg", photo(i)) for i in range(KIRKOROV)]
    nobody = [image_server.add(f"/n{i}.jpg", photo(300 + i)) for i in range(NOBODY)]
    face = [image_server.add(f"/f{i}.jpg", photo(100 + i)) for i in range(FACE)]
    training = ["INPUT:image\tGOLDEN:result\tHINT:text"]
    for i, answer in enumerate(["kirkorov", "face", "other"]):
        url = image_server.add(f"/training/t{i}.jpg", photo(200 + i))
        training.append(f"{url}\t{answer}\tLook again: this is {answer}.")
    root = tmp_path / "project"
    write(
        root,
        {
            f"{NAME}.yaml": adapt(
                EXAMPLE.read_text(),
                {"kirkorov": "kirkorov.txt", "face": "face.txt"},
                fake_s3.endpoint_url,
            ),
            "kirkorov.txt": "\n".join(kirkorov + nobody) + "\n",
            "face.txt": "\n".join(face) + "\n",
            f"training/{NAME}.tsv": "\n".join(training) + "\n",
            f"instructions/{NAME}.md": (EXAMPLE.parent / "instructions" / f"{NAME}.md").read_text(),
        },
    )
    for key in ("TOLOKA_URL", "TOLOKA_API_KEY", "YAMLSET_TOLOKA_POLL"):
        monkeypatch.delenv(key, raising=False)
    return root / f"{NAME}.yaml"


def state_db(spec: Path) -> sqlite3.Connection:
    return sqlite3.connect(spec.parent / ".yamlset" / NAME / "state.db")


def source_of(spec: Path, image: str) -> str | None:
    """The image server URL a task's image was made from (tasks show the S3 copy)."""
    name = image.split("?")[0].rsplit("/", 1)[-1]
    row = (
        state_db(spec)
        .execute(
            "SELECT dl.url FROM derived d JOIN downloads dl ON dl.sha256 = d.sha256 "
            "WHERE d.file = ? ORDER BY dl.url LIMIT 1",
            (name,),
        )
        .fetchone()
    )
    return None if row is None else str(row[0])


def believer(spec: Path) -> Callable[[Mapping[str, Any]], str]:
    """What the simulated workers see in a task's image: /k* is Kirkorov, /f* is Face,
    /n* is nobody they know."""

    def truth(values: Mapping[str, Any]) -> str:
        source = source_of(spec, str(values["image"])) or str(values["image"])
        letter = source.rsplit("/", 1)[-1][0]
        return {"k": "kirkorov", "f": "face"}.get(letter, "other")

    return truth


def stand_in(spec: Path, **options: Any) -> TolokaStandIn:
    # worker-1 always errs, the other two never do: majority is right, review rejects w1
    settings: dict[str, Any] = {"accuracies": (0.0, 1.0, 1.0), "seed": 7, **options}
    return TolokaStandIn(truth=believer(spec), **settings)


def toloka_env(monkeypatch: pytest.MonkeyPatch, api: TolokaStandIn) -> dict[str, str]:
    env = {"TOLOKA_URL": api.url, "TOLOKA_API_KEY": "test-token", "YAMLSET_TOLOKA_POLL": "0.05"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def ok(*args: str) -> Result:
    result = run(*args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result


def posts(api: TolokaStandIn) -> list[str]:
    return [r.path for r in api.requests if r.method == "POST" and r.status < 300]


def bodies(api: TolokaStandIn, path: str) -> list[Any]:
    return [r.body for r in api.requests if r.method == "POST" and r.path == path]


def dataset(spec: Path) -> dict[str, str]:
    """The exported images: relative path -> class, from the manifest."""
    out = spec.parent / "datasets" / NAME
    rows = list(csv.DictReader((out / "manifest.csv").open()))
    kept = {r["file"]: r["class"] for r in rows if r["kept"] == "yes"}
    assert {p.relative_to(out).as_posix() for p in out.rglob("*.jpg")} == set(kept)
    return kept


def real_tasks(api: TolokaStandIn) -> list[dict[str, Any]]:
    return [t for t in api.tasks.values() if t["pool_id"] in api.pools]


def assert_no_duplicates(api: TolokaStandIn) -> None:
    names = [p["private_comment"] for p in api.projects.values()]
    assert len(names) == len(set(names)), names
    pools = [p["private_comment"] for p in api.pools.values()]
    assert len(pools) == len(set(pools)), pools
    trainings = [json.dumps(t["metadata"]) for t in api.trainings.values()]
    assert len(trainings) == len(set(trainings)), trainings
    per_pool = [(t["pool_id"], t["input_values"]["image"]) for t in api.tasks.values()]
    assert len(per_pool) == len(set(per_pool)), "a task was uploaded twice"


ITEMS = KIRKOROV + FACE + NOBODY  # 15 images: one page of 40
PAGES = 1


# -- 1. the example, planned and applied ------------------------------------------------------


def test_the_design_example_plans_applies_and_then_has_nothing_to_do(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_s3: FakeS3,  # noqa: F811
) -> None:
    planned = ok("plan", str(project), "--format", "json")  # no token in the environment
    plan = json.loads(planned.output)
    subjects = [(c["action"], c["subject"]) for c in plan["changes"] if c["stage"] == "label"]
    assert subjects[:3] == [
        ("+", "toloka sandbox project"),
        ("+", "toloka sandbox training"),
        ("+", "toloka sandbox pool"),
    ]
    cost = round(PAGES * 3 * (0.01 + 0.005), 6)
    assert plan["estimate"] == {
        "tasks": ITEMS,
        "pages": PAGES,
        "assignments": PAGES * 3,
        "cost": cost,
        "estimate": False,
    }
    text = ok("plan", str(project)).output
    assert "toloka sandbox pool" in text and "$0.045" in text

    with stand_in(project) as api:
        toloka_env(monkeypatch, api)
        applied = ok("apply", str(project), "--yes")
        assert "Apply complete" in applied.output
        assert "2 assignments accepted, 1 rejected" in applied.output

        # created once each, in the sandbox, by the key yamlset gives them
        assert (len(api.projects), len(api.trainings), len(api.pools)) == (1, 1, 1)
        (project_id,) = api.projects
        pool = next(iter(api.pools.values()))
        training = next(iter(api.trainings.values()))
        assert pool["project_id"] == training["project_id"] == project_id
        assert pool["private_comment"].startswith(f"yamlset:{NAME}:sandbox:pool#")
        assert (
            pool["quality_control"]["training_requirement"]["training_pool_id"] == (training["id"])
        )
        # the tasks show the images on S3 (moto), and those answer with the image
        tasks = real_tasks(api)
        assert len(tasks) == ITEMS
        s3 = fake_s3.client()
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
        assert len(keys) == ITEMS
        for task in tasks:
            url = task["input_values"]["image"]
            assert url.startswith(f"{fake_s3.endpoint_url}/{BUCKET}/")
            key = url.split(f"/{BUCKET}/", 1)[1]
            assert key in keys and key.startswith(f"{NAME}/")
        # training tasks carry the loopback training images and their answers
        known = [t for t in api.tasks.values() if t["pool_id"] in api.trainings]
        assert sorted(t["known_solutions"][0]["output_values"]["result"] for t in known) == [
            "face",
            "kirkorov",
            "other",
        ]

        # answers stored, manual review done: worker-1 (always wrong) rejected
        db = state_db(project)
        answers = db.execute(
            "SELECT labeler, status, COUNT(*) FROM answers GROUP BY labeler, status"
        ).fetchall()
        assert sorted(answers) == [
            ("worker-1", "rejected", ITEMS),
            ("worker-2", "accepted", ITEMS),
            ("worker-3", "accepted", ITEMS),
        ]
        statuses = sorted(a["status"] for a in api.assignments.values())
        assert statuses == ["ACCEPTED", "ACCEPTED", "REJECTED"]
        # spend is what Toloka charged: rejected pages are not paid
        assert round(db.execute("SELECT SUM(amount) FROM spend").fetchone()[0], 6) == api.spent
        assert api.spent == round(2 * 0.015, 6)

        # the dataset: every kirkorov and face image, none of the nobodies, in splits
        kept = dataset(project)
        assert sorted(kept.values()) == ["face"] * FACE + ["kirkorov"] * KIRKOROV
        assert {f.split("/")[0] for f in kept} <= {"train", "val", "test"}
        assert all(f.split("/")[1] == c for f, c in kept.items())

        # a second apply: no changes, nothing created, nothing sent but reads
        before = len(posts(api))
        again = ok("apply", str(project), "--yes")
        assert "No changes" in again.output
        assert len(posts(api)) == before
        assert ok("plan", str(project), "--detailed-exitcode").exit_code == 0
        assert api.violations == []
        # what yamlset sent, kept beside the project for people to read
        sent = {k: bodies(api, f"/api/v1/{k}s") for k in ("project", "training", "pool")}
        assert all(len(v) == 1 for v in sent.values())
        (project.parent / "toloka-requests.json").write_text(
            json.dumps({k: v[0] for k, v in sent.items()}, indent=2, ensure_ascii=False)
        )


def remotes(spec: Path) -> dict[tuple[str, str], tuple[str, str]]:
    """(kind, key) -> (status, remote id) of the Toloka objects state records."""
    rows = state_db(spec).execute(
        "SELECT kind, key, status, remote_id FROM remote_objects WHERE kind != 'toloka-tasks'"
    )
    return {(k, key): (status, rid) for k, key, status, rid in rows}


def edit(spec: Path, old: str, new: str) -> None:
    text = spec.read_text()
    assert old in text
    spec.write_text(text.replace(old, new))


# -- 2. sandbox, then production --------------------------------------------------------------


def test_production_gets_its_own_objects_and_sandbox_stays_recorded(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with stand_in(project) as api:  # one stand-in serves both environments
        toloka_env(monkeypatch, api)
        ok("apply", str(project), "--yes")
        sandbox = remotes(project)
        assert {key for _, key in sandbox} == {
            f"yamlset:{NAME}:sandbox:{kind}" for kind in ("project", "training", "pool")
        }
        sandbox_kept = dataset(project)

        edit(project, "environment: sandbox", "environment: production")
        plan = json.loads(ok("plan", str(project), "--format", "json").output)
        label = [(c["action"], c["subject"]) for c in plan["changes"] if c["stage"] == "label"]
        assert label[:3] == [
            ("+", "toloka production project"),
            ("+", "toloka production training"),
            ("+", "toloka production pool"),
        ]
        assert label[3][1].startswith(f"label {ITEMS} images on Toloka production")
        assert plan["estimate"]["cost"] == round(PAGES * 3 * 0.015, 6)

        sent = len(posts(api))
        ok("apply", str(project), "--yes")
        assert (len(api.projects), len(api.trainings), len(api.pools)) == (2, 2, 2)
        assert posts(api)[sent:].count("/api/v1/projects") == 1
        now = remotes(project)
        assert {k: v for k, v in now.items() if ":sandbox:" in k[1]} == sandbox
        production = {k: v for k, v in now.items() if ":production:" in k[1]}
        assert len(production) == 3 and all(s == "created" for s, _ in production.values())
        assert {rid for _, rid in production.values()}.isdisjoint(
            {rid for _, rid in sandbox.values()}
        )
        prod_pool = api.pools[production[("pool", f"yamlset:{NAME}:production:pool")][1]]
        assert prod_pool["private_comment"].startswith(f"yamlset:{NAME}:production:pool#")
        assert len([t for t in real_tasks(api) if t["pool_id"] == prod_pool["id"]]) == ITEMS
        # the dataset now rests on the production answers; the workers agree as before
        assert sorted(dataset(project).values()) == sorted(sandbox_kept.values())
        assert (
            len(
                state_db(project)
                .execute("SELECT 1 FROM answers WHERE backend='toloka:production'")
                .fetchall()
            )
            == 3 * ITEMS
        )
        again = ok("apply", str(project), "--yes")
        assert "No changes" in again.output
        assert_no_duplicates(api)
        assert api.violations == []


# -- 3 and 6. a pool setting changes later; destroy ------------------------------------------


def test_a_changed_pool_setting_is_planned_as_an_update_and_destroy_archives_only_ours(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with stand_in(project) as api:
        toloka_env(monkeypatch, api)
        ok("apply", str(project), "--yes")
        # someone else's project and pool on the same account
        foreign = api.projects["900"] = {
            **next(iter(api.projects.values())),
            "id": "900",
            "private_comment": "not yamlset's",
        }
        api.pools["901"] = {
            **next(iter(api.pools.values())),
            "id": "901",
            "project_id": "900",
            "private_comment": "",
            "status": "OPEN",
        }

        edit(project, "price_per_page: 0.01", "price_per_page: 0.02")
        edit(project, "overlap: 3", "overlap: 2")
        text = ok("plan", str(project)).output
        line = next(x for x in text.splitlines() if "toloka sandbox pool" in x)
        assert line.split()[0] == "~", text
        assert "pool.price_per_page: 0.01 -> 0.02" in text
        assert "pool.overlap: 3 -> 2" in text
        assert "toloka sandbox project" not in text and "toloka sandbox training" not in text

        sent = len(posts(api))
        ok("apply", str(project), "--yes")
        assert len(posts(api)) == sent  # updated in place, nothing created
        pool_id = remotes(project)[("pool", f"yamlset:{NAME}:sandbox:pool")][1]
        assert api.count("PUT", f"/api/v1/pools/{pool_id}") == 1
        assert api.pools[pool_id]["reward_per_assignment"] == 0.02
        assert api.pools[pool_id]["defaults"]["default_overlap_for_new_tasks"] == 2
        assert "No changes" in ok("plan", str(project)).output

        ours = {rid for _, rid in remotes(project).values()}
        listed = ok("destroy", str(project), "--yes").output
        assert all(rid in listed for rid in ours)
        archived = {
            **{i: p["status"] for i, p in api.pools.items()},
            **{i: t["status"] for i, t in api.trainings.items()},
            **{i: p["status"] for i, p in api.projects.items()},
        }
        assert {i for i, s in archived.items() if s == "ARCHIVED"} == ours
        assert archived["900"] == "ACTIVE" and archived["901"] == "OPEN"
        assert foreign["private_comment"] == "not yamlset's"
        touched = {r.path for r in api.requests if r.method == "POST"} - set(posts(api)[:sent])
        assert not [p for p in touched if "/900" in p or "/901" in p]
        assert all(s == "archived" for s, _ in remotes(project).values())
        again = ok("destroy", str(project), "--yes")
        assert "archived" not in again.output.replace("Nothing", "")
        assert api.violations == []


def test_an_edit_made_in_toloka_shows_as_drift_and_apply_sets_it_back(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with stand_in(project) as api:
        env = toloka_env(monkeypatch, api)
        ok("apply", str(project), "--yes")
        pool_id = remotes(project)[("pool", f"yamlset:{NAME}:sandbox:pool")][1]
        api.pools[pool_id]["reward_per_assignment"] = 0.05  # a requester, in the web UI

        planned = run("plan", str(project), "--detailed-exitcode")
        assert planned.exit_code == 2, planned.output
        assert "toloka sandbox pool: changed in Toloka" in planned.output
        assert "pool.price_per_page: 0.01 in the spec, 0.05 in Toloka" in planned.output

        monkeypatch.delenv("TOLOKA_API_KEY")
        blind = ok("plan", str(project)).output
        assert "No changes" in blind
        assert "set TOLOKA_API_KEY to see changes made in Toloka's web UI" in blind
        monkeypatch.setenv("TOLOKA_API_KEY", env["TOLOKA_API_KEY"])

        ok("apply", str(project), "--yes")
        assert api.pools[pool_id]["reward_per_assignment"] == 0.01
        assert "No changes" in ok("plan", str(project)).output
        assert api.violations == []


def test_plan_shows_what_manual_review_will_accept_reject_and_pay(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with stand_in(project) as api:
        toloka_env(monkeypatch, api)
        ok("apply", str(project), "--yes", "--until", "label")
        text = ok("plan", str(project)).output
        # one page of 15 images, overlap 3; worker-1 answers everything wrong
        assert "review 3 submitted pages: accept 2 (pay $0.030), reject 1" in text, text
        assert api.count("PATCH", r"/api/v1/assignments/.*") == 0  # plan decided nothing


# -- 7. budget ---------------------------------------------------------------------------------


def test_a_budget_below_the_estimate_is_refused_before_anything_is_created(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edit(project, "budget: 5.00", "budget: 0.04")
    with stand_in(project) as api:
        toloka_env(monkeypatch, api)
        refused = run("apply", str(project), "--yes")
        assert refused.exit_code == 1
        assert "$0.045" in refused.output and "$0.04" in refused.output
        assert "budget" in refused.output and "Traceback" not in refused.output
        assert api.requests == []
    assert not (project.parent / "datasets").exists()


# -- 4. kill -9 during the upload and during the wait ---------------------------------------


class Stalling(TolokaStandIn):
    """Holds the first read of the log of an upload of real tasks (the tasks exist, yamlset
    has not learned their ids) until `release` is set; `stalled` says it is holding.
    Holding keeps the stand-in's lock: nothing else moves meanwhile."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.stalled = threading.Event()
        self.release = threading.Event()

    def get_operation_log(self, query: dict[str, Any], body: Any, op_id: str) -> tuple[int, Any]:
        answer = super().get_operation_log(query, body, op_id)
        real = any(e["input"]["pool_id"] in self.pools for e in answer[1])
        if real and not self.stalled.is_set():
            self.stalled.set()
            self.release.wait(30)
        return answer


def start_apply(spec: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "yamlset", "apply", str(spec), "--yes"],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env=dict(os.environ),
        start_new_session=True,
    )


def wait_for(what: Callable[[], bool], proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60  # a hang fails the test; nothing is timed
    while not what():
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.01)


def kill(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def assert_paid_once(spec: Path, api: TolokaStandIn, pages: int) -> None:
    db = state_db(spec)
    rows = db.execute("SELECT key, amount FROM spend").fetchall()
    assert len(rows) == pages * 3 == len(api.assignments)
    assert round(sum(a for _, a in rows), 6) == api.spent
    answers = db.execute("SELECT assignment, item, COUNT(*) FROM answers GROUP BY 1, 2")
    counts = [n for _, _, n in answers]
    assert len(counts) == pages * 3 * 3 and set(counts) == {1}  # 3 tasks a page here


def test_kill_during_the_upload_and_during_the_wait_then_apply_creates_and_pays_once(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    edit(project, "tasks_per_page: 40", "tasks_per_page: 3")  # 5 pages
    # workers only when the test says so (pages_per_poll=0)
    api = Stalling(truth=believer(project), accuracies=(0.0, 1.0, 1.0), seed=7, pages_per_poll=0)
    with api:
        toloka_env(monkeypatch, api)

        # 1. killed while uploading: Toloka made the tasks, yamlset has not learned their ids
        log = tmp_path / "apply-1.log"
        proc = start_apply(project, log)
        wait_for(api.stalled.is_set, proc, log)
        kill(proc)
        api.release.set()
        assert len(real_tasks(api)) == ITEMS
        db = state_db(project)
        batches = db.execute(
            "SELECT status FROM remote_objects WHERE kind='toloka-tasks' ORDER BY status"
        ).fetchall()
        assert batches == [("created",), ("creating",)]  # training done, pool batch in flight

        # 2. killed while waiting for the workers, after two of five pages were collected
        log = tmp_path / "apply-2.log"
        proc = start_apply(project, log)
        wait_for(lambda: any(p["status"] == "OPEN" for p in api.pools.values()), proc, log)
        with api.lock:
            pool = next(iter(api.pools.values()))
            api._work(pool, 2)  # two pages done: 6 assignments

        def stored() -> bool:
            return bool(db.execute("SELECT COUNT(*) FROM spend").fetchone()[0] == 6)

        wait_for(stored, proc, log)
        kill(proc)
        assert pool["status"] == "OPEN"
        assert len(real_tasks(api)) == ITEMS  # the second apply uploaded nothing new
        sent = posts(api)

        # 3. the workers finish; apply again
        api.pages_per_poll = 1
        ok("apply", str(project), "--yes")
        new = posts(api)[len(sent) :]
        assert not [p for p in new if re.fullmatch(CREATES, p) or p.endswith("/open")], new
        assert (len(api.projects), len(api.trainings), len(api.pools)) == (1, 1, 1)
        assert api.count("POST", "/api/v1/projects") == 1
        assert api.count("POST", "/api/v1/pools") == 1
        assert_no_duplicates(api)
        uploads = {r.query["operation_id"] for r in api.requests if r.path == "/api/v1/tasks"}
        assert len(uploads) == 2  # training and pool, each one operation, re-sent as is
        assert_paid_once(project, api, pages=5)
        assert sorted(dataset(project).values()) == ["face"] * FACE + ["kirkorov"] * KIRKOROV
        assert api.violations == []


# -- 5. a flaky Toloka -------------------------------------------------------------------------


class Flaky(TolokaStandIn):
    """Misbehaves on one request in ten: 429 with Retry-After, 500 before processing, and on
    POST and PATCH also 500 after processing (the change is made, the answer lost)."""

    def __init__(self, *, rate: float = 0.1, **options: Any) -> None:
        super().__init__(**options)
        self.faulty = random.Random(11)
        self.rate = rate
        self.injected: list[tuple[str, str, str]] = []

    def _fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            if self.faulty.random() >= self.rate:
                return None
            kinds = ["429", "500"] + (["500-after"] * 2 if method in ("POST", "PATCH") else [])
            kind = self.faulty.choice(kinds)
            self.injected.append((method, path, kind))
            return Fault(method, path, kind, retry_after=0)


def test_ten_percent_faults_give_the_same_dataset_and_no_duplicates(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    edit(project, "tasks_per_page: 40", "tasks_per_page: 3")
    with stand_in(project) as api:
        toloka_env(monkeypatch, api)
        ok("apply", str(project), "--yes")
        calm = dataset(project)
    clean = project.parent.parent / "flaky"
    shutil.copytree(project.parent, clean, ignore=shutil.ignore_patterns(".yamlset", "datasets"))
    spec = clean / project.name
    flaky = Flaky(truth=believer(spec), accuracies=(0.0, 1.0, 1.0), seed=7)
    with flaky as api:
        toloka_env(monkeypatch, api)
        ok("apply", str(spec), "--yes")
        assert {k for _, _, k in flaky.injected} == {"429", "500", "500-after"}, flaky.injected
        assert (len(api.projects), len(api.trainings), len(api.pools)) == (1, 1, 1)
        assert len(real_tasks(api)) == ITEMS
        assert_no_duplicates(api)
        assert_paid_once(spec, api, pages=5)
        assert dataset(spec) == calm
        assert sorted(a["status"] for a in api.assignments.values()).count("REJECTED") == 5
        assert api.violations == []


def test_destroy_lists_only_what_it_archives(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with stand_in(project) as api:
        toloka_env(monkeypatch, api)
        ok("apply", str(project), "--yes")
        listed = ok("destroy", str(project), "--yes").output
        assert "toloka-tasks" not in listed
        assert "Nothing to destroy" in ok("destroy", str(project), "--yes").output
