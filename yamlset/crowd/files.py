"""The `files` backend: Toloka's web-UI TSV out, its results TSV back in. No API at all."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
from pathlib import Path

from yamlset.crowd.base import LabelContext, LabelTask, Outcome
from yamlset.errors import CrowdError
from yamlset.fsutil import shown, write_atomic
from yamlset.spec.model import Spec
from yamlset.state import AnswerRow

INPUT = "INPUT:image"
OUTPUT = "OUTPUT:result"
WORKER = "ASSIGNMENT:worker_id"
STATUS = "ASSIGNMENT:status"
ASSIGNMENT = "ASSIGNMENT:assignment_id"
SUBMITTED = "ASSIGNMENT:submitted"


class FilesBackend:
    name = "files"
    backend_key = "files"

    def label(self, ctx: LabelContext) -> Outcome:
        spec, store = ctx.spec, ctx.store
        assert spec.crowd.tasks_file is not None and spec.crowd.results_file is not None
        results = spec.crowd.results_file
        if results.exists():
            rows = read_results(results, spec, known_urls(ctx))
            stored = store.add_answers(rows)
            ctx.progress.message(
                f"  read {len(rows):,} answers from {shown(results)} ({stored:,} new)"
            )
        answered = {
            item
            for (item,) in store.db.execute(
                "SELECT DISTINCT item FROM answers WHERE backend = ?", (self.backend_key,)
            )
        }
        pending = tuple(t for t in ctx.tasks if t.item not in answered)
        if not pending:
            return Outcome.DONE
        write_tasks(spec.crowd.tasks_file, pending)
        ctx.progress.message(
            f"  wrote {len(pending):,} tasks to {shown(spec.crowd.tasks_file)}\n"
            "  next: upload it to a Toloka pool; when the pool is done, save its results TSV "
            f"as {shown(results)} (replacing any older one: answers read before are kept), "
            "then run `yamlset apply` again"
        )
        return Outcome.WAITING


def known_urls(ctx: LabelContext) -> dict[str, str]:
    """Every image URL yamlset ever published for this spec -> its item, so results that
    name URLs of an earlier image size still count."""
    rows = ctx.store.db.execute(
        "SELECT h.url, d.sha256 FROM hosted h JOIN derived d ON d.file = h.file"
    )
    urls = dict(rows.fetchall())
    urls.update({t.url: t.item for t in ctx.tasks})
    return urls


def write_tasks(path: Path, tasks: tuple[LabelTask, ...]) -> None:
    """The tasks TSV, rewritten atomically only when its content changes."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter="\t", lineterminator="\n")
    writer.writerow([INPUT])
    for task in tasks:
        writer.writerow([task.url])
    text = buf.getvalue()
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    write_atomic(path, text.encode("utf-8"))


def read_results(path: Path, spec: Spec, by_url: dict[str, str]) -> list[AnswerRow]:
    """Answers from Toloka's results TSV. Rejected assignments are ignored; a row naming an
    image that is not a task, or an answer that is not an option, is an error at its line."""
    allowed = {value for value, _ in spec.options()}
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f, delimiter="\t")
        missing = [c for c in (INPUT, OUTPUT, WORKER) if c not in (reader.fieldnames or [])]
        if missing:
            raise CrowdError(f"{path}:1: results file lacks column(s) {', '.join(missing)}")
        rows: list[AnswerRow] = []
        for line, rec in enumerate(reader, start=2):
            status = (rec.get(STATUS) or "APPROVED").strip().upper()
            if status == "REJECTED":
                continue
            url, value = rec[INPUT].strip(), rec[OUTPUT].strip()
            if not url and not value:
                continue  # golden/training rows have no answer of a worker here
            if url not in by_url:
                raise CrowdError(
                    f"{path}:{line}: image {url[:100]} is not one of this spec's tasks"
                )
            if value not in allowed:
                raise CrowdError(
                    f"{path}:{line}: answer {value!r} is not one of: {', '.join(sorted(allowed))}"
                )
            worker = rec[WORKER].strip()
            assignment = (rec.get(ASSIGNMENT) or "").strip() or _row_id(worker, url)
            rows.append(
                AnswerRow(
                    "files",
                    assignment,
                    by_url[url],
                    worker,
                    value,
                    "accepted" if status == "APPROVED" else "submitted",
                    _when(rec.get(SUBMITTED) or ""),
                )
            )
    return rows


def _when(text: str) -> float:
    """Toloka's naive UTC timestamp of a submit; 0 (meaning now) when absent or unreadable."""
    try:
        when = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        return 0.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when.timestamp()


def _row_id(worker: str, url: str) -> str:
    return hashlib.sha256(f"{worker}\t{url}".encode()).hexdigest()[:16]
