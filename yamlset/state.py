"""The state store: one SQLite database (WAL) per spec, under `.yamlset/<name>/`.

Every stage writes its progress item by item in short transactions, so a
`kill -9` loses at most the item in flight. Remote objects are recorded
before and after creation so that a retry can reconcile instead of creating
a duplicate. The `serial` counts applied changes; a saved plan carries it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yamlset.errors import LockedError, YamlsetError

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stages (
  stage TEXT PRIMARY KEY, config TEXT NOT NULL, finished REAL NOT NULL);
CREATE TABLE IF NOT EXISTS searches (
  class TEXT NOT NULL, source TEXT NOT NULL, query TEXT NOT NULL,
  fetched INTEGER NOT NULL DEFAULT 0, exhausted INTEGER NOT NULL DEFAULT 0, error TEXT,
  PRIMARY KEY (class, source, query));
CREATE TABLE IF NOT EXISTS candidates (
  id INTEGER PRIMARY KEY, class TEXT NOT NULL, source TEXT NOT NULL, query TEXT NOT NULL,
  rank INTEGER NOT NULL, url TEXT NOT NULL, page_url TEXT NOT NULL DEFAULT '',
  original_url TEXT NOT NULL DEFAULT '', title TEXT NOT NULL DEFAULT '',
  license TEXT NOT NULL DEFAULT '', license_version TEXT NOT NULL DEFAULT '',
  license_url TEXT NOT NULL DEFAULT '', author TEXT NOT NULL DEFAULT '',
  attribution TEXT NOT NULL DEFAULT '', width INTEGER NOT NULL DEFAULT 0,
  height INTEGER NOT NULL DEFAULT 0, mime TEXT NOT NULL DEFAULT '', sha1 TEXT NOT NULL DEFAULT '',
  UNIQUE (class, source, query, url));
CREATE INDEX IF NOT EXISTS candidates_url ON candidates (url);
CREATE TABLE IF NOT EXISTS downloads (
  url TEXT PRIMARY KEY, status TEXT NOT NULL, sha256 TEXT, bytes INTEGER NOT NULL DEFAULT 0,
  error TEXT, updated REAL NOT NULL);
CREATE INDEX IF NOT EXISTS downloads_sha ON downloads (sha256);
CREATE TABLE IF NOT EXISTS originals (
  sha256 TEXT PRIMARY KEY, format TEXT NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL,
  bytes INTEGER NOT NULL, phash TEXT, rejected TEXT, duplicate_of TEXT, distance INTEGER);
CREATE TABLE IF NOT EXISTS derived (
  sha256 TEXT NOT NULL, params TEXT NOT NULL, file TEXT, error TEXT,
  PRIMARY KEY (sha256, params));
CREATE TABLE IF NOT EXISTS hosted (
  file TEXT NOT NULL, target TEXT NOT NULL, url TEXT NOT NULL, PRIMARY KEY (file, target));
CREATE TABLE IF NOT EXISTS remote_objects (
  kind TEXT NOT NULL, key TEXT NOT NULL, status TEXT NOT NULL, remote_id TEXT,
  data TEXT NOT NULL DEFAULT '{}', updated REAL NOT NULL, PRIMARY KEY (kind, key));
CREATE TABLE IF NOT EXISTS remote_tasks (
  pool_key TEXT NOT NULL, item TEXT NOT NULL, remote_id TEXT,
  PRIMARY KEY (pool_key, item));
CREATE TABLE IF NOT EXISTS answers (
  backend TEXT NOT NULL, assignment TEXT NOT NULL, item TEXT NOT NULL, labeler TEXT NOT NULL,
  value TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'submitted', submitted REAL NOT NULL,
  PRIMARY KEY (backend, assignment, item));
CREATE INDEX IF NOT EXISTS answers_item ON answers (item);
CREATE TABLE IF NOT EXISTS local_pages (
  id INTEGER PRIMARY KEY, labeler TEXT NOT NULL, items TEXT NOT NULL, issued REAL NOT NULL,
  expires REAL NOT NULL, submitted REAL);
CREATE TABLE IF NOT EXISTS decisions (
  item TEXT PRIMARY KEY, label TEXT, confidence REAL NOT NULL, votes TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS exported (
  path TEXT PRIMARY KEY, item TEXT NOT NULL, sha256 TEXT NOT NULL,
  source TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS spend (
  key TEXT PRIMARY KEY, amount REAL NOT NULL, note TEXT NOT NULL DEFAULT '', at REAL NOT NULL);
"""


@dataclass(frozen=True)
class RemoteObject:
    kind: str  # "project" | "pool" | "training" | ...
    key: str  # spec-derived identity, e.g. "sandbox:pool"
    status: str  # "creating" | "created" | "open" | "closed" | "archived"
    remote_id: str | None
    data: dict[str, Any]


@dataclass(frozen=True)
class AnswerRow:
    backend: str
    assignment: str
    item: str
    labeler: str
    value: str
    status: str = "submitted"  # submitted | accepted | rejected
    submitted: float = 0.0


class Store:
    """The state of one spec. Open with `Store.open(dir)`; close with `.close()`."""

    def __init__(self, directory: Path, conn: sqlite3.Connection) -> None:
        self.dir = directory
        self.db = conn
        self._lock_fd: int | None = None

    # -- opening ---------------------------------------------------------------

    @classmethod
    def open(cls, directory: Path, *, create: bool = True) -> Store:
        if not create and not (directory / "state.db").exists():
            return cls(directory, _memory_db())
        directory.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(directory / "state.db", isolation_level=None, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(_SCHEMA)
        conn.execute(
            "INSERT OR IGNORE INTO meta VALUES ('schema', ?), ('serial', '0')",
            (str(SCHEMA_VERSION),),
        )
        version = int(_one(conn, "SELECT value FROM meta WHERE key='schema'"))
        if version > SCHEMA_VERSION:
            raise YamlsetError(
                f"{directory}: state written by a newer yamlset (schema {version}); upgrade yamlset"
            )
        return cls(directory, conn)

    def close(self) -> None:
        self.unlock()
        self.db.close()

    @property
    def cache_dir(self) -> Path:
        return self.dir / "originals"

    @property
    def derived_dir(self) -> Path:
        return self.dir / "derived"

    # -- locking -----------------------------------------------------------------

    def lock(self, command: str) -> None:
        """Take the apply lock, or say who holds it."""
        path = self.dir / "lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 4096).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise LockedError(
                f"{self.dir} is locked by {holder}; wait for it to finish or stop it"
            ) from None
        os.ftruncate(fd, 0)
        started = time.strftime("%Y-%m-%d %H:%M:%S")
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()} ({command}, {started})".encode())
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing releases the flock
            self._lock_fd = None

    # -- transactions and the serial -----------------------------------------------

    @contextlib.contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    @property
    def serial(self) -> int:
        return int(_one(self.db, "SELECT value FROM meta WHERE key='serial'"))

    def bump(self) -> None:
        self.db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='serial'")

    # -- stages ----------------------------------------------------------------------

    def stage_config(self, stage: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT config FROM stages WHERE stage=?", (stage,)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def finish_stage(self, stage: str, config: dict[str, Any]) -> None:
        with self.tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO stages VALUES (?, ?, ?)",
                (stage, json.dumps(config, sort_keys=True), time.time()),
            )
            self.bump()

    # -- remote objects (reconciled creates) -----------------------------------------

    def remote(self, kind: str, key: str) -> RemoteObject | None:
        row = self.db.execute(
            "SELECT kind, key, status, remote_id, data FROM remote_objects WHERE kind=? AND key=?",
            (kind, key),
        ).fetchone()
        return None if row is None else _remote(row)

    def remotes(self, kind: str | None = None) -> list[RemoteObject]:
        sql = "SELECT kind, key, status, remote_id, data FROM remote_objects"
        rows = self.db.execute(sql + (" WHERE kind=?" if kind else ""), (kind,) if kind else ())
        return [_remote(r) for r in rows]

    def put_remote(
        self, kind: str, key: str, status: str, remote_id: str | None, data: dict[str, Any]
    ) -> None:
        """Record a remote object: before creation (status "creating") and after each change."""
        with self.tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO remote_objects VALUES (?, ?, ?, ?, ?, ?)",
                (kind, key, status, remote_id, json.dumps(data, sort_keys=True), time.time()),
            )
            self.bump()

    def remote_tasks(self, pool_key: str) -> dict[str, str | None]:
        rows = self.db.execute(
            "SELECT item, remote_id FROM remote_tasks WHERE pool_key=?", (pool_key,)
        )
        return {item: rid for item, rid in rows}

    def put_remote_tasks(self, pool_key: str, pairs: Iterable[tuple[str, str | None]]) -> None:
        with self.tx() as db:
            db.executemany(
                "INSERT OR REPLACE INTO remote_tasks VALUES (?, ?, ?)",
                ((pool_key, item, rid) for item, rid in pairs),
            )

    # -- answers and spend -------------------------------------------------------------

    def add_answers(self, rows: Sequence[AnswerRow]) -> int:
        """Store answers; an answer already stored (same assignment and item) is updated."""
        with self.tx() as db:
            before = db.total_changes
            db.executemany(
                "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (backend, assignment, item) DO UPDATE SET "
                "value=excluded.value, status=excluded.status, labeler=excluded.labeler",
                [
                    (
                        a.backend,
                        a.assignment,
                        a.item,
                        a.labeler,
                        a.value,
                        a.status,
                        a.submitted or time.time(),
                    )
                    for a in rows
                ],
            )
            return db.total_changes - before

    def answers(self, backend: str | None = None) -> list[AnswerRow]:
        sql = "SELECT backend, assignment, item, labeler, value, status, submitted FROM answers"
        sql += " WHERE status != 'rejected'"
        params: tuple[str, ...] = ()
        if backend is not None:
            sql += " AND backend=?"
            params = (backend,)
        return [AnswerRow(*r) for r in self.db.execute(sql + " ORDER BY rowid", params)]

    def set_answer_status(self, backend: str, assignment: str, status: str) -> None:
        with self.tx() as db:
            db.execute(
                "UPDATE answers SET status=? WHERE backend=? AND assignment=?",
                (status, backend, assignment),
            )

    def record_spend(self, key: str, amount: float, note: str = "") -> None:
        with self.tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO spend VALUES (?, ?, ?, ?)", (key, amount, note, time.time())
            )

    def spent(self) -> float:
        return float(_one(self.db, "SELECT COALESCE(SUM(amount), 0) FROM spend"))


def _one(db: sqlite3.Connection, sql: str, params: tuple[Any, ...] = ()) -> Any:
    row = db.execute(sql, params).fetchone()
    return None if row is None else row[0]


def _remote(row: tuple[Any, ...]) -> RemoteObject:
    kind, key, status, remote_id, data = row
    return RemoteObject(kind, key, status, remote_id, json.loads(data))


def _memory_db() -> sqlite3.Connection:
    """An empty state, for planning a spec that was never applied (plan writes nothing)."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.executescript(_SCHEMA)
    conn.execute("INSERT INTO meta VALUES ('schema', ?), ('serial', '0')", (str(SCHEMA_VERSION),))
    return conn
