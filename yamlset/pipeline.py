"""The download and resize stages' engine: fetch in threads, decode and derive in processes.

Downloads wait on the network, so a thread pool overlaps them; decoding and encoding
are CPU-bound, so a process pool runs one worker per core. Originals go to a
content-addressed cache and workers read them from there: only paths and small
results cross the process boundary. A bounded window of jobs is in flight at any time,
so memory stays flat however long the job list is, and results come back to the
caller's thread (which records them) as soon as each is done.
"""

from __future__ import annotations

import dataclasses
import hashlib
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any, TypeVar

import requests

from yamlset import fsutil
from yamlset.download import DownloadError, fetch
from yamlset.imaging import Derived, ImageRejected, derived_name, probe_and_derive
from yamlset.spec.model import CollectSpec, ImageSpec

_JOBS_PER_WORKER = 4  # derive jobs queued per process: keeps every core busy between results


@dataclass(frozen=True)
class Job:
    key: str  # the caller's id for the candidate (a state row)
    url: str


@dataclass(frozen=True)
class Result:
    """The outcome of one job; `error` says why when `ok` is false."""

    key: str
    url: str
    ok: bool
    error: str | None
    sha256: str | None
    original_path: Path | None
    derived: Derived | None
    derived_path: Path | None
    bytes: int  # size of the original


@dataclass(frozen=True)
class _Cached:
    """A job whose original is in the cache, waiting for (or done with) its derivation."""

    job: Job
    sha256: str
    path: Path
    size: int


def cache_path(cache_dir: Path, sha256: str) -> Path:
    """Where the original with this content hash lives in the cache."""
    return cache_dir / sha256[:2] / sha256


def fetch_and_derive(
    jobs: Iterable[Job],
    *,
    cache_dir: Path,
    derived_dir: Path,
    image: ImageSpec,
    collect: CollectSpec,
    session: requests.Session,
    workers: int | None = None,
    want_phash: bool = True,
) -> Generator[Result, None, None]:
    """Download, cache, check and derive every job; yield one Result per job as each ends.

    Downloads run in `collect.threads` threads, derivations in `workers` processes
    (default: one per core). Jobs with the same content share one cache file and one
    derivation. Stopping the iteration (or ^C) shuts both pools down without waiting
    for queued work; every file is written through a temporary name, so none is ever
    left half-written.
    """
    threads = max(1, collect.threads)
    engine = _Engine(derived_dir, image, collect, workers, want_phash)  # forks: before threads
    pool = ThreadPoolExecutor(threads, thread_name_prefix="yamlset-fetch")

    def start(job: Job) -> tuple[Job, Future[_Cached]]:
        return job, pool.submit(_download, job, cache_dir, session, collect)

    finished = False
    try:
        yield from engine.run(iter(jobs), start, max_downloads=threads)
        finished = True
    finally:
        pool.shutdown(wait=finished, cancel_futures=not finished)
        engine.shutdown(wait=finished)


def derive_cached(
    items: Iterable[tuple[str, Path]],
    *,
    derived_dir: Path,
    image: ImageSpec,
    collect: CollectSpec,
    workers: int | None = None,
    want_phash: bool = True,
) -> Generator[Result, None, None]:
    """Re-derive originals already in the cache, given as (key, cache path), without
    downloading: used when the spec's image settings change. Results have url ""."""
    engine = _Engine(derived_dir, image, collect, workers, want_phash)
    finished = False
    try:
        yield from engine.run(iter(items), _from_cache, max_downloads=1)
        finished = True
    finally:
        engine.shutdown(wait=finished)


def _from_cache(item: tuple[str, Path]) -> tuple[Job, Future[_Cached]]:
    key, path = item
    job = Job(key, "")
    done: Future[_Cached] = Future()
    try:
        done.set_result(_Cached(job, path.name, path, path.stat().st_size))
    except OSError as e:
        done.set_exception(DownloadError(f"not in the cache: {e.strerror}"))
    return job, done


_T = TypeVar("_T")
_Outcome = Derived | str  # a rejection's reason comes back as a str


class _Engine:
    """The process pool and the bounded scheduling loop shared by both entry points."""

    def __init__(
        self,
        derived_dir: Path,
        image: ImageSpec,
        collect: CollectSpec,
        workers: int | None,
        want_phash: bool,
    ) -> None:
        self.derived_dir = derived_dir
        self.image = image
        self.collect = collect
        self.want_phash = want_phash
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.pool = _process_pool(self.workers)

    def shutdown(self, *, wait: bool) -> None:
        # After an error or ^C, queued work is dropped; workers end their current file.
        self.pool.shutdown(wait=wait, cancel_futures=not wait)

    def run(
        self,
        items: Iterator[_T],
        start: Callable[[_T], tuple[Job, Future[_Cached]]],
        *,
        max_downloads: int,
    ) -> Iterator[Result]:
        downloads: dict[Future[_Cached], Job] = {}
        derives: dict[Future[_Outcome], list[_Cached]] = {}
        by_sha: dict[str, Future[_Outcome]] = {}  # derivations in flight, by content
        window = max_downloads + self.workers * _JOBS_PER_WORKER
        exhausted = False
        while True:
            # Jobs waiting on a shared derivation count too, or a run of duplicates
            # would let downloads race ahead without bound.
            in_flight = len(downloads) + sum(len(w) for w in derives.values())
            while not exhausted and len(downloads) < max_downloads and in_flight < window:
                item = next(items, None)
                if item is None:
                    exhausted = True
                    break
                job, future = start(item)
                downloads[future] = job
                in_flight += 1
            if not downloads and not derives:
                return
            pending: list[Future[Any]] = [*downloads, *derives]
            wait(pending, return_when=FIRST_COMPLETED)
            for fetched in [f for f in downloads if f.done()]:
                yield from self._downloaded(downloads.pop(fetched), fetched, derives, by_sha)
            results: list[Result] = []
            for derived in [f for f in derives if f.done()]:
                waiting = derives.pop(derived)
                by_sha.pop(waiting[0].sha256, None)
                results.extend(self._result(c, derived) for c in waiting)
            _sync(results, self.derived_dir)
            yield from results

    def _downloaded(
        self,
        job: Job,
        future: Future[_Cached],
        derives: dict[Future[_Outcome], list[_Cached]],
        by_sha: dict[str, Future[_Outcome]],
    ) -> Iterator[Result]:
        try:
            cached = dataclasses.replace(future.result(), job=job)
        except DownloadError as e:
            yield Result(job.key, job.url, False, e.reason, None, None, None, None, 0)
            return
        if cached.sha256 in by_sha:  # the same bytes under another URL: derive once
            derives[by_sha[cached.sha256]].append(cached)
            return
        derive = self._submit(cached)
        derives[derive] = [cached]
        by_sha[cached.sha256] = derive

    def _submit(self, cached: _Cached) -> Future[_Outcome]:
        dst = self.derived_dir / derived_name(cached.sha256, self.image)
        args = (cached.path, dst, self.image, self.collect, self.want_phash)
        try:
            return self.pool.submit(_derive, *args)
        except BrokenProcessPool:
            # A worker died (a decoder crash, the OOM killer): its jobs report it, the rest go on.
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = _process_pool(self.workers)
            return self.pool.submit(_derive, *args)

    def _result(self, cached: _Cached, future: Future[_Outcome]) -> Result:
        job = cached.job
        try:
            outcome = future.result()
        except BrokenProcessPool:
            outcome = "decoder crashed"
        if isinstance(outcome, str):
            return Result(
                job.key,
                job.url,
                False,
                outcome,
                cached.sha256,
                cached.path,
                None,
                None,
                cached.size,
            )
        dst = self.derived_dir / derived_name(cached.sha256, self.image)
        return Result(
            job.key, job.url, True, None, cached.sha256, cached.path, outcome, dst, cached.size
        )


def _download(
    job: Job, cache_dir: Path, session: requests.Session, collect: CollectSpec
) -> _Cached:
    got = fetch(
        session,
        job.url,
        max_bytes=collect.max_bytes,
        timeout=collect.timeout,
        retries=collect.retries,
    )
    sha = hashlib.sha256(got.data).hexdigest()
    path = cache_path(cache_dir, sha)
    if not path.exists():
        fsutil.write_atomic(path, got.data)
    return _Cached(job, sha, path, len(got.data))


def _sync(results: list[Result], derived_dir: Path) -> None:
    """Make the derived files of `results` durable before the caller records them, so a
    crash or power cut can only lose files nothing points to: each file's data, then
    their one folder's entries (the renames) with a single fsync for the whole batch."""
    paths = {r.derived_path for r in results if r.derived_path is not None}
    for path in paths:
        fsutil.sync_file(path)
    if paths:
        fsutil.sync_dir(derived_dir)


def _read_once(path: Path) -> bytes:
    """The original's bytes, then its pages dropped from the page cache.

    Originals are read once per derivation and were fsynced when cached, so their pages
    are clean: keeping ~1 MB of them per image only crowds out other files, and pages
    freed here go straight to the next download's cache write (on a VM, fresh pages cost
    the host a fault each: writing a 1 MB original then takes 3 ms of CPU instead of 0.4).
    """
    with open(path, "rb") as f:
        data = f.read()
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    return data


def _derive(
    src: Path, dst: Path, image: ImageSpec, collect: CollectSpec, want_phash: bool
) -> Derived | str:
    """Runs in a worker process: a rejection comes back as its reason, not a traceback."""
    try:
        data = _read_once(src)
    except OSError as e:
        return f"cannot read the original: {e.strerror}"
    try:
        # The parent fsyncs: a decoding process blocked on the disk would idle its core.
        return probe_and_derive(
            src, dst, image, want_phash=want_phash, collect=collect, sync=False, data=data
        )
    except ImageRejected as e:
        return e.reason
    except MemoryError:
        return "too large to decode"


def _process_pool(workers: int) -> ProcessPoolExecutor:
    # fork starts workers in milliseconds with everything already imported, but forking
    # a process that runs other threads can deadlock a child. Then use the forkserver:
    # one clean process, started once, that imports the decoders and forks the workers.
    context: BaseContext
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("fork")
    else:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_ignore_sigint)
    # With fork every worker starts at the first submit: do it now, before our threads exist.
    pool.submit(int).result()
    return pool


def _ignore_sigint() -> None:
    # ^C reaches the whole process group; the parent alone decides how to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
