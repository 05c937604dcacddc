"""CreationProgress: live stages of new workspaces, polled by a daemon thread (never the kernel)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import ipywidgets as widgets

from ..api.client import ExalsiusClient
from ..errors import ExalsiusError
from ..poller import Poller
from ..render import ProgressLine, access_html, access_text, error_line, escape, progress_html
from ..watch import Stage, Tracked, WorkspaceWatcher, failure_reason
from .base import (
    Displayable,
    ErrorArea,
    Jobs,
    classed,
    guarded,
    own_client,
    stop_at_exit,
    walk,
)
from .progress_row import TICK, ProgressRow, ProgressRowStyle, elapsed_text, name_html
from .style import STYLESHEET, stylesheet_widget


class CreationProgress(Displayable):
    """Watch new workspaces come up (Submitted → Pending → Running) without blocking the kernel.

    Args:
        workspace_ids: the workspaces to watch (one id or several; repeats are ignored).
        client: the client to use; default the kernel's (``session.get_client()``). The polling
            thread and Cancel each work on their own ``client.clone()``.
        timeout: seconds until a workspace that is not RUNNING counts as timed out.
        interval: seconds between polls while something changes.
        max_interval: the longest pause between polls (the backoff's cap).
        on_done: called (from the polling thread) once every workspace has ended.
    """

    def __init__(
        self,
        workspace_ids: Sequence[str],
        client: ExalsiusClient | None = None,
        *,
        timeout: float = 600.0,
        interval: float = 1.0,
        max_interval: float = 10.0,
        on_done: Callable[[CreationProgress], None] | None = None,
    ) -> None:
        if isinstance(workspace_ids, str):
            workspace_ids = [workspace_ids]
        ids = list(dict.fromkeys(workspace_ids))
        if not ids:
            raise ValueError("CreationProgress needs at least one workspace id")
        if client is None:
            from ..session import get_client

            client = get_client()
        self.client = client
        # The watcher polls from the polling thread only: it gets a client of its own.
        self.watcher = WorkspaceWatcher(client.clone(), ids, timeout=timeout, interval=interval,
                                        max_interval=max_interval)
        self._on_done = on_done
        self._lock = threading.RLock()
        self._poller = Poller(self._step, name="exalsius-progress", on_crash=self._crashed_with,
                              on_end=self._ended)
        self._poll_now = False
        self._next_poll = self.watcher.clock()
        self._closed = False
        self._error: ExalsiusError | None = None
        self._crashed = False
        self.errors = ErrorArea()
        self._guard = guarded(self.errors)
        self._jobs = Jobs("exalsius-progress-cancel", self.errors)
        self.status = classed(widgets.HTML(value=""), "exls-progress-status")
        self._style = ProgressRowStyle()
        # Every row waits from the same moment: one clock shows all their times while they wait.
        starts = {t.started for t in self.watcher.tracked.values()}
        self._started = min(starts)
        self.clock = self._style.elapsed_label(elapsed_text(0)) if len(starts) == 1 else None
        self.rows = {wid: ProgressRow(wid, guard=self._guard, on_cancel=self._cancel,
                                      style=self._style, clock=self.clock)
                     for wid in ids}
        self.widget = classed(widgets.VBox(
            [stylesheet_widget(), self.status, *[r.box for r in self.rows.values()],
             *self.errors.widgets()]), "exls-progress")
        stop_at_exit(self)
        self._render()

    # -- public ----------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        """Whether every workspace reached an end (RUNNING, FAILED, gone or timed out)."""
        return self.watcher.done

    @property
    def running(self) -> bool:
        """Whether the polling thread is alive."""
        return self._poller.running

    @property
    def tracked(self) -> dict[str, Tracked]:
        """What the watcher knows about each workspace."""
        return self.watcher.tracked

    def start(self) -> CreationProgress:
        """Start the daemon polling thread (done when displayed); idempotent; returns self."""
        with self._lock:
            if not self._closed and not self.watcher.done:
                self._poller.start()
        return self

    def wait(self, timeout: float | None = None) -> dict[str, Tracked]:
        """Block until polling has finished (or ``timeout`` seconds passed); the outcomes.

        Raises the error that ended the wait (one waiting would not cure, e.g. a sign-in that
        could not be renewed), as ``%exalsius wait`` does in a terminal.
        """
        self.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
            if left <= 0 or self._poller.join(left):
                break
        for thread in self._jobs.threads():
            thread.join(max(0.0, deadline - time.monotonic()) if deadline else None)
        if self.watcher.error is not None:
            raise self.watcher.error
        return self.watcher.tracked

    def close(self) -> None:
        """Stop polling for good and close the widgets."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._poller.stop()
        self._jobs.join()
        self.watcher.client.close()
        for row in self.rows.values():
            row.close()
        for w in list(walk(self.widget)):
            w.close()
        if self.clock is not None:
            self.clock.close()
        self._style.close()

    # -- display ---------------------------------------------------------------------------

    def _repr_html_(self) -> str:
        now = self.watcher.clock()
        lines = []
        for wid, t in self.watcher.tracked.items():
            stage = self.rows[wid].stage_name(t)
            access = access_html(t.workspace.access_information) \
                if stage is Stage.RUNNING and t.workspace else ""
            lines.append(ProgressLine(t.name, stage.value, elapsed_text(t.elapsed(now)), access))
        return progress_html(lines, prelude=STYLESHEET)

    def __repr__(self) -> str:
        now = self.watcher.clock()
        lines = ["CreationProgress:"]
        for wid, t in self.watcher.tracked.items():
            stage = self.rows[wid].stage_name(t)
            access = access_text(t.workspace.access_information) \
                if stage is Stage.RUNNING and t.workspace else ""
            line = f"  {t.name}  {stage.value}  {elapsed_text(t.elapsed(now))}"
            lines.append(f"{line}  {access}" if access else line)
        return "\n".join(lines)

    # -- polling ---------------------------------------------------------------------------

    def _step(self) -> float | None:
        """One round of the polling thread: poll when due, redraw, the pause to the next."""
        w = self.watcher
        if self._poll_now or w.clock() >= self._next_poll:
            self._poll_now = False
            asked = w.requests
            w.poll()  # the watcher's policy: transient errors back off, others end the wait
            if w.requests != asked:  # the deadline tick asks nothing: keep the error
                self._error = w.error or w.last_error
            self._find_reasons()
            self._next_poll = w.clock() + w.next_delay()
        if self._poller.stopped:
            return None
        self._render()
        return None if w.done else max(0.0, min(TICK, self._next_poll - w.clock()))

    def _crashed_with(self, exc: BaseException) -> None:
        """A bug in a round: show it and stop polling."""
        self._crashed = True
        self.errors.show_exception(exc, "Polling stopped")

    def _ended(self) -> None:
        w = self.watcher
        w.client.close()  # this thread's own session; a later use opens a new connection
        if not self._closed:
            self._render()
        if self._on_done is not None and w.done and not self._closed:
            try:
                self._on_done(self)
            except Exception as exc:
                self.errors.show_exception(exc, "Unexpected error")

    def _find_reasons(self) -> None:
        """For a newly FAILED workspace, what the server's logs say (``watch.failure_reason``)."""
        for wid, t in self.watcher.tracked.items():
            row = self.rows[wid]
            if t.stage is Stage.FAILED and row.reason is None:
                row.reason = failure_reason(self.watcher.client, wid)

    def _render(self) -> None:
        with self._lock:
            if self._closed:
                return
            now = self.watcher.clock()
            if self.clock is not None:
                self.clock.value = elapsed_text(now - self._started)
            for wid, t in self.watcher.tracked.items():
                self.rows[wid].render(t, now)
            self.status.value = self._status_html()

    def _status_html(self) -> str:
        tracked = list(self.watcher.tracked.values())
        n = len(tracked)
        noun = "workspace" if n == 1 else "workspaces"
        stages = [self.rows[t.workspace_id].stage_name(t) for t in tracked]
        if self.watcher.error is not None:  # an error waiting would not cure ended the wait
            return (f'<span class="exls-tone-error">Stopped watching: '
                    f"{escape(error_line(self.watcher.error))}</span>")
        if self.watcher.done:
            if all(s is Stage.RUNNING for s in stages):
                return f'<span class="exls-tone-ok">✔ {n} {noun} RUNNING</span>'
            counts: dict[Stage, int] = {}
            for s in stages:
                counts[s] = counts.get(s, 0) + 1
            summary = ", ".join(f"{c} {s.value.lower()}" for s, c in counts.items())
            if self._error is not None:  # why it never saw them: the last error, not lost
                summary += f"; last error: {error_line(self._error)}"
            return f'<span class="exls-tone-error">Finished: {escape(summary)}</span>'
        if self._crashed:
            return '<span class="exls-tone-error">Stopped watching after an unexpected error</span>'
        if self._closed or self._poller.stopped:
            return "Stopped watching."
        if self._error is not None:
            return (f'<span class="exls-tone-warning">retrying… '
                    f"({escape(error_line(self._error))})</span>")
        waiting = sum(1 for t in tracked if not t.done)
        if waiting == n:
            return f"Waiting for {n} {noun} to be RUNNING…"
        return f"Waiting for {waiting} of {n} {noun} to be RUNNING…"

    # -- cancel ----------------------------------------------------------------------------

    def _cancel(self, row: ProgressRow) -> None:
        """A row's Cancel was confirmed (the row is busy): delete off the kernel thread."""
        self._jobs.run(lambda: self._delete(row))

    def _delete(self, row: ProgressRow) -> None:
        """Delete a tracked workspace (a background job); the poller then sees it go."""
        try:
            with own_client(self.client) as client:
                client.delete_workspace(row.workspace_id)
            row.cancelled = True
        except ExalsiusError as exc:
            self.errors.show_exception(exc, f"Could not delete {row.title}")
        finally:
            with self._lock:
                row.busy = False
                self._render_row(row)
                self.status.value = self._status_html()
            self._poll_now = True
            self._poller.wake()

    def _render_row(self, row: ProgressRow) -> None:
        if not self._closed:
            row.render(self.watcher.tracked[row.workspace_id], self.watcher.clock())

    def _shutdown(self) -> None:
        """Stop polling without touching widgets (kernel shutdown)."""
        self._poller.stop(join=None)


__all__ = ["CreationProgress", "ProgressRow", "ProgressRowStyle", "elapsed_text", "name_html"]
