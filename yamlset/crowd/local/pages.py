"""Who labels what: the local backend's pages, over the `local_pages` and `answers` tables.

Rules, all decided inside one transaction per request:

- overlap counts distinct labelers: an item wants `overlap` different people;
- a labeler never gets an item they already answered or hold on an open page;
- items with the fewest answers plus open holds go first, then in task order;
- a labeler who asks again while holding an unexpired page gets that page back;
- a page not submitted within `time_per_page_s` expires: its items stop counting as held and
  go to someone else;
- a late submit of an expired page is still stored, for every item that labeler has not
  answered yet. An item reissued meanwhile may so end with one vote more than `overlap`:
  an honest extra vote from a distinct labeler is worth more than a lost one.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from yamlset.state import Store

BACKEND = "local"
MAX_NAME = 64


@dataclass(frozen=True)
class Page:
    id: int
    labeler: str
    items: tuple[str, ...]
    expires: float
    submitted: float | None = None


@dataclass(frozen=True)
class Tally:
    """How far labeling has come: answers that count toward overlap, and pages per labeler."""

    answered: int  # sum over tasks of min(distinct labelers, overlap)
    wanted: int  # tasks x overlap
    pages: tuple[tuple[str, int], ...]  # (labeler, submitted pages), by name

    @property
    def done(self) -> bool:
        return self.answered >= self.wanted


class PageError(Exception):
    """A request the API refuses; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class PageBook:
    """Hands out and takes back pages. Thread-safe: one lock around every store access."""

    def __init__(
        self,
        store: Store,
        items: Sequence[str],
        *,
        per_page: int,
        overlap: int,
        time_per_page_s: float,
        options: Sequence[str],
        labelers: Sequence[str] = (),
        now: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._items = tuple(dict.fromkeys(items))  # task order, without repeats
        self._known = frozenset(self._items)
        self._per_page = per_page
        self._overlap = overlap
        self._ttl = time_per_page_s
        self._options = frozenset(options)
        self._labelers = frozenset(labelers)
        self._now = now
        self._lock = threading.Lock()

    def next_page(self, labeler: str) -> Page | None:
        """The labeler's open page, or a new one; None when nothing is left for them."""
        self._check_name(labeler)
        now = self._now()
        with self._lock, self._store.tx() as db:
            held = _open_page(db, labeler, now)
            if held is not None:
                return held
            chosen = self._choose(db, labeler, now)
            if not chosen:
                return None
            expires = now + self._ttl
            cur = db.execute(
                "INSERT INTO local_pages (labeler, items, issued, expires) VALUES (?, ?, ?, ?)",
                (labeler, json.dumps(chosen), now, expires),
            )
            return Page(int(cur.lastrowid or 0), labeler, tuple(chosen), expires)

    def submit(self, page_id: int, labeler: str, answers: Mapping[str, str]) -> int:
        """Store a page's answers; returns how many were stored. Raises PageError."""
        self._check_name(labeler)
        if not answers:
            raise PageError(400, "answers: give at least one answer")
        bad = sorted(v for v in answers.values() if v not in self._options)
        if bad:
            raise PageError(400, f"answers: {bad[0]!r} is not one of the options")
        now = self._now()
        with self._lock, self._store.tx() as db:
            page = _page(db, page_id)
            self._check_submit(page, labeler, answers)
            mine = _answered_by(db, labeler)
            rows = [
                (BACKEND, f"page-{page_id}", item, labeler, value, "submitted", now)
                for item, value in answers.items()
                if item not in mine
            ]
            db.executemany("INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            db.execute("UPDATE local_pages SET submitted=? WHERE id=?", (now, page_id))
            return len(rows)

    def tally(self) -> Tally:
        with self._lock:
            votes = _votes(self._store.db, self._known)
            pages = self._store.db.execute(
                "SELECT labeler, COUNT(*) FROM local_pages WHERE submitted IS NOT NULL "
                "GROUP BY labeler ORDER BY labeler"
            ).fetchall()
        answered = sum(min(votes[item], self._overlap) for item in self._items)
        return Tally(answered, len(self._items) * self._overlap, tuple(pages))

    # -- private -------------------------------------------------------------------------

    def _check_name(self, labeler: str) -> None:
        if not labeler.strip() or len(labeler) > MAX_NAME:
            raise PageError(400, f"labeler: give a name of 1 to {MAX_NAME} characters")
        if self._labelers and labeler not in self._labelers:
            raise PageError(403, f"labeler: {labeler!r} is not on this project's list")

    def _check_submit(self, page: Page | None, labeler: str, answers: Mapping[str, str]) -> None:
        if page is None:
            raise PageError(400, "page: no such page")
        if page.labeler != labeler:
            raise PageError(400, "page: this page was given to another labeler")
        if page.submitted is not None:
            raise PageError(409, "page: already submitted")
        stray = sorted(set(answers) - set(page.items))
        if stray:
            raise PageError(400, f"answers: task {stray[0]!r} is not on this page")

    def _choose(self, db: sqlite3.Connection, labeler: str, now: float) -> list[str]:
        load = _votes(db, self._known) + _holds(db, now)
        mine = _answered_by(db, labeler)
        free = [
            (load[item], index, item)
            for index, item in enumerate(self._items)
            if item not in mine and load[item] < self._overlap
        ]
        return [item for _, _, item in sorted(free)[: self._per_page]]


def _open_page(db: sqlite3.Connection, labeler: str, now: float) -> Page | None:
    row = db.execute(
        "SELECT id, labeler, items, expires, submitted FROM local_pages "
        "WHERE labeler=? AND submitted IS NULL AND expires>? ORDER BY id LIMIT 1",
        (labeler, now),
    ).fetchone()
    return None if row is None else _to_page(row)


def _page(db: sqlite3.Connection, page_id: int) -> Page | None:
    row = db.execute(
        "SELECT id, labeler, items, expires, submitted FROM local_pages WHERE id=?", (page_id,)
    ).fetchone()
    return None if row is None else _to_page(row)


def _to_page(row: tuple[int, str, str, float, float | None]) -> Page:
    page_id, labeler, items, expires, submitted = row
    return Page(page_id, labeler, tuple(json.loads(items)), expires, submitted)


def _votes(db: sqlite3.Connection, known: frozenset[str]) -> Counter[str]:
    rows = db.execute(
        "SELECT item, COUNT(DISTINCT labeler) FROM answers "
        "WHERE backend=? AND status!='rejected' GROUP BY item",
        (BACKEND,),
    )
    return Counter({item: n for item, n in rows if item in known})


def _holds(db: sqlite3.Connection, now: float) -> Counter[str]:
    rows = db.execute("SELECT items FROM local_pages WHERE submitted IS NULL AND expires>?", (now,))
    return Counter(item for (items,) in rows for item in json.loads(items))


def _answered_by(db: sqlite3.Connection, labeler: str) -> set[str]:
    rows = db.execute("SELECT item FROM answers WHERE backend=? AND labeler=?", (BACKEND, labeler))
    return {item for (item,) in rows}


def shared_store(directory: Path) -> Store:
    """The state at `directory` on a connection that the server's threads may share.

    sqlite3 refuses by default to use a connection from another thread; PageBook serialises
    every use of this one with its lock, so sharing it is safe."""
    Store.open(directory).close()  # creates the schema if this state is new
    conn = sqlite3.connect(
        directory / "state.db", isolation_level=None, timeout=30, check_same_thread=False
    )
    return Store(directory, conn)
