"""The `local` crowd backend: yamlset serves the task page itself and waits for answers."""

from __future__ import annotations

import contextlib
import threading
import time
import webbrowser
from collections.abc import Callable, Sequence

from yamlset.crowd.base import LabelContext, LabelTask, Outcome, Progress
from yamlset.crowd.local.pages import Tally, shared_store
from yamlset.crowd.local.server import LocalServer, make_book
from yamlset.spec.model import Spec
from yamlset.state import Store


class LocalBackend:
    """Label on a page served from this machine; answers go straight to the state."""

    name = "local"
    backend_key = "local"

    def __init__(
        self,
        *,
        token: str | None = None,
        now: Callable[[], float] = time.time,
        poll_s: float = 1.0,
        open_url: Callable[[str], object] = webbrowser.open,
        linger_s: float = 1.5,
    ) -> None:
        self._token = token
        self._now = now
        self._poll_s = poll_s  # how often progress is re-read when no submit wakes us
        self._open_url = open_url
        # once all is labeled, keep answering a little: the page that sent the last answer
        # asks for more at once, and should hear "nothing left" rather than find no server
        self._linger_s = linger_s

    def label(self, ctx: LabelContext) -> Outcome:
        """Serve until every task has `overlap` answers (DONE) or Ctrl-C (WAITING)."""
        if _tally(ctx.spec, ctx.store, ctx.tasks).done:
            return Outcome.DONE
        if not ctx.wait:
            return Outcome.WAITING
        crowd = ctx.spec.crowd
        with LocalServer(
            ctx.spec,
            ctx.store,
            ctx.tasks,
            host=crowd.host,
            port=crowd.port,
            token=self._token,
            now=self._now,
            on_error=ctx.progress.message,
        ) as server:
            ctx.progress.message(f"Label at {server.url}  (Ctrl-C stops; answers are kept)")
            if ctx.open_browser:
                self._open_url(server.url)
            try:
                outcome = _watch(server, ctx.progress, self._poll_s, stop_when_done=True)
                time.sleep(self._linger_s)
                return outcome
            except KeyboardInterrupt:
                return Outcome.WAITING


def serve(
    spec: Spec,
    store: Store,
    tasks: Sequence[LabelTask],
    *,
    host: str,
    port: int,
    token: str | None,
    progress: Progress,
    stop: threading.Event | None = None,
) -> Tally:
    """Serve the page until Ctrl-C (or `stop` is set), even after everything is labeled;
    returns how far labeling got."""
    with LocalServer(
        spec, store, tasks, host=host, port=port, token=token, on_error=progress.message
    ) as server:
        progress.message(f"Label at {server.url}  (Ctrl-C stops)")
        with contextlib.suppress(KeyboardInterrupt):  # the way to end `yamlset serve`
            _watch(server, progress, 1.0, stop_when_done=False, stop=stop)
        return server.book.tally()


def _watch(
    server: LocalServer,
    progress: Progress,
    poll_s: float,
    *,
    stop_when_done: bool,
    stop: threading.Event | None = None,
) -> Outcome:
    last: Tally | None = None
    while stop is None or not stop.is_set():
        server.changed.clear()  # before reading, so a submit during the read wakes us again
        tally = server.book.tally()
        if tally != last:
            _report(tally, progress)
            last = tally
        if tally.done and stop_when_done:
            return Outcome.DONE
        server.changed.wait(poll_s)
    return Outcome.WAITING


def _report(tally: Tally, progress: Progress) -> None:
    progress.advance("answers", tally.answered, tally.wanted)
    for labeler, pages in tally.pages:
        progress.advance(f"pages by {labeler}", pages, 0)


def _tally(spec: Spec, store: Store, tasks: Sequence[LabelTask]) -> Tally:
    # its own connection: label() may run off the thread that opened `store`
    shared = shared_store(store.dir)
    try:
        return make_book(spec, shared, tasks).tally()
    finally:
        shared.close()
