"""CreationProgress: live stages of new workspaces, polled by a daemon thread (never the kernel)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import ipywidgets as widgets
from ipywidgets.widgets.widget_int import ProgressStyle
from ipywidgets.widgets.widget_string import HTMLStyle, LabelStyle

from ..api.client import ExalsiusClient
from ..durations import duration
from ..errors import ExalsiusError
from ..poller import Poller
from ..render import (
    ProgressLine,
    access_html,
    access_text,
    cpu_memory,
    error_line,
    escape,
    progress_html,
    short_id,
    stage_class,
)
from ..watch import Stage, Tracked, WorkspaceWatcher, failure_reason
from .base import (
    Displayable,
    ErrorArea,
    Guard,
    Jobs,
    classed,
    guarded,
    own_client,
    set_traits,
    stop_at_exit,
    walk,
)
from .question import Question
from .style import STYLESHEET, stylesheet_widget

STAGE_PERCENT = {Stage.SUBMITTED: 10, Stage.PENDING: 50, Stage.RUNNING: 100, Stage.FAILED: 100,
                 Stage.STOPPED: 100, Stage.DELETED: 100, Stage.TIMED_OUT: 100,
                 Stage.CANCELLED: 100}
STAGE_BAR = {Stage.SUBMITTED: "info", Stage.PENDING: "info", Stage.RUNNING: "success",
             Stage.FAILED: "danger", Stage.STOPPED: "danger", Stage.DELETED: "danger",
             Stage.TIMED_OUT: "warning", Stage.CANCELLED: ""}
FINISHED = frozenset({Stage.RUNNING, Stage.DELETED, Stage.CANCELLED})  # nothing left to cancel
CANCELLED_FROM = frozenset({Stage.DELETED, Stage.SUBMITTED, Stage.PENDING})
TICK = 1.0  # seconds between redraws of the elapsed time


def elapsed_text(seconds: float) -> str:
    """Elapsed time as "8 s" or "2 min 05 s" (the one duration format, to the second)."""
    return duration(seconds, parts=2)


@dataclass
class ProgressRowStyle:
    """Layouts and styles shared by every progress row: one model each, not one per row."""

    name: widgets.Layout = field(default_factory=lambda: widgets.Layout(width="180px"))
    stage: widgets.Layout = field(default_factory=lambda: widgets.Layout(width="100px"))
    bar: widgets.Layout = field(default_factory=lambda: widgets.Layout(width="220px"))
    elapsed: widgets.Layout = field(default_factory=lambda: widgets.Layout(width="90px"))
    access: widgets.Layout = field(default_factory=lambda: widgets.Layout(width="260px"))
    button: widgets.Layout = field(default_factory=lambda: widgets.Layout(width="84px",
                                                                          margin="0 2px"))
    line: widgets.Layout = field(default_factory=lambda: widgets.Layout(align_items="center"))
    box: widgets.Layout = field(default_factory=widgets.Layout)
    detail: widgets.Layout = field(default_factory=widgets.Layout)
    html: HTMLStyle = field(default_factory=HTMLStyle)
    label: LabelStyle = field(default_factory=LabelStyle)
    bar_style: ProgressStyle = field(default_factory=ProgressStyle)
    button_style: widgets.ButtonStyle = field(default_factory=widgets.ButtonStyle)

    def elapsed_label(self, text: str) -> widgets.Label:
        """A Label for an elapsed time, in the Elapsed column."""
        return widgets.Label(value=text, layout=self.elapsed, style=self.label,
                             _dom_classes=("exls-progress-elapsed",))

    def close(self) -> None:
        """Close the shared models."""
        for w in vars(self).values():
            w.close()


def name_html(name: str, workspace_id: str) -> str:
    """The Workspace cell: the name (or short id), with name and id as its tooltip."""
    return f'<b title="{escape(name)} ({escape(workspace_id)})">{escape(name)}</b>'


class ProgressRow:
    """One tracked workspace: name, stage, bar, elapsed time, access link and Cancel.

    Args:
        workspace_id: the workspace the row follows.
        guard: wraps the buttons' callbacks so no exception escapes them.
        on_cancel: called with the row once a Cancel is confirmed (the row is busy).
        style: the layouts and styles shared by the rows (default: the row's own).
        clock: a Label shared by every row still waiting, showing the time they have all
            waited: one update a second for all of them. A row that has ended shows its own,
            frozen time instead. None: the row always shows its own.
    """

    def __init__(self, workspace_id: str, *, guard: Guard,
                 on_cancel: Callable[[ProgressRow], None],
                 style: ProgressRowStyle | None = None,
                 clock: widgets.Label | None = None) -> None:
        self.workspace_id = workspace_id
        self._on_cancel = on_cancel
        self._guard = guard
        self._lock = threading.RLock()
        self._style = style or ProgressRowStyle()
        self._clock = clock
        self._shown: tuple[object, ...] | None = None  # what the last render showed
        self.title = workspace_id  # the name, once the server told it
        self.busy = False
        self.cancelled = False
        self.reason: str | None = None
        st = self._style
        # Each widget is created with its first state and classes: no update message follows.
        self.name = widgets.HTML(value=name_html(short_id(workspace_id), workspace_id),
                                 layout=st.name, style=st.html,
                                 _dom_classes=("exls-progress-name",))
        self.stage = widgets.Label(value=Stage.SUBMITTED.value, layout=st.stage, style=st.label,
                                   _dom_classes=("exls-progress-stage",))
        self.bar = widgets.IntProgress(value=STAGE_PERCENT[Stage.SUBMITTED], min=0, max=100,
                                       bar_style="info", layout=st.bar, style=st.bar_style,
                                       _dom_classes=("exls-progress-bar",))
        self._own_elapsed: widgets.Label | None = None  # made when first needed
        self.elapsed = clock if clock is not None else self._own_label()
        self.access = widgets.HTML(value="", layout=st.access, style=st.html,
                                   _dom_classes=("exls-progress-access",))
        self.cancel_button = widgets.Button(
            description="Cancel", icon="times", tooltip="Delete this workspace",
            layout=st.button, style=st.button_style, _dom_classes=("exls-progress-cancel",))
        self._question = Question(st.button, guard=guard, on_confirm=self._on_confirm,
                                  on_cancel=self._relayout, cancel_label="Keep")
        self.detail = widgets.HTML(value="", layout=st.detail, style=st.html,
                                   _dom_classes=("exls-progress-detail",))
        self.line = widgets.HBox(self._line_children(), layout=st.line)
        self.box = widgets.VBox([self.line, self.detail], layout=st.box,
                                _dom_classes=("exls-progress-row",))
        self.cancel_button.on_click(guard(lambda _b: self.ask()))

    def _own_label(self) -> widgets.Label:
        if self._own_elapsed is None:
            self._own_elapsed = self._style.elapsed_label(elapsed_text(0))
        return self._own_elapsed

    def _line_children(self) -> tuple[widgets.Widget, ...]:
        end = self._question.children if self.asking else (self.cancel_button,)
        return (self.name, self.stage, self.bar, self.elapsed, self.access, *end)

    @property
    def confirm_button(self) -> widgets.Button:
        """Confirm of the inline "Delete …?" question."""
        return self._question.yes

    @property
    def keep_button(self) -> widgets.Button:
        """Keep (do not delete) of the inline question."""
        return self._question.no

    @property
    def asking(self) -> bool:
        """Whether the inline "Delete …?" question is open."""
        return self._question.asking

    @property
    def question(self) -> str:
        """The confirmation question currently shown ("" when none)."""
        return self._question.text

    def stage_name(self, t: Tracked) -> Stage:
        """The stage shown: the watcher's, or Cancelled after a confirmed Cancel."""
        if self.cancelled and (t.done or t.stage in CANCELLED_FROM):
            return Stage.CANCELLED
        return t.stage

    def render(self, t: Tracked, now: float) -> None:
        """Bring the row's widgets in line with what the watcher knows.

        A row whose workspace, stage and question are as at the last render is left alone:
        its time is the shared clock's (or frozen), so nothing of it has changed.
        """
        with self._lock:
            stage = self.stage_name(t)
            shown = (stage, t.workspace, t.finished, self.busy, self.reason, self.asking)
            if shown == self._shown:
                return
            self._shown = shown
            self.title = t.name
            name = t.name if t.workspace else short_id(t.workspace_id)
            self.name.value = name_html(name, t.workspace_id)
            self.stage.value = "cancelling…" if self.busy else stage.value
            set_traits(self.bar, value=STAGE_PERCENT.get(stage, 50),
                       bar_style=STAGE_BAR.get(stage, "info"))
            if self._clock is None or t.done:
                own = self._own_label()
                own.value = elapsed_text(t.elapsed(now))
                if self.elapsed is not own:  # it has ended: its time stops here
                    self.elapsed = own
                    self.line.children = self._line_children()
            ws = t.workspace
            self.access.value = (access_html(ws.access_information)
                                 if stage is Stage.RUNNING and ws else "")
            self.detail.value = self._detail_html(t, stage)
            finished = stage in FINISHED
            self.cancel_button.disabled = self.busy or finished
            if self.asking and (finished or self.busy):
                self._leave_question()

    def _detail_html(self, t: Tracked, stage: Stage) -> str:
        ws = t.workspace
        if stage is Stage.FAILED and ws is not None:
            text = (f"FAILED: asked for {ws.resources.gpus} GPUs, {cpu_memory(ws)} on cluster "
                    f"{short_id(ws.cluster_id)}")
            if self.reason:
                text += f" — {self.reason}"
        elif stage is Stage.TIMED_OUT:
            status = t.status.value if t.status else "not seen yet"
            text = (f"Timed out after {elapsed_text(t.elapsed(t.finished or 0))}: still "
                    f"{status}; it was not RUNNING in time (not a success)")
        elif stage in (Stage.STOPPED, Stage.DELETED):
            text = f"{stage.value.upper()} before it was RUNNING"
        elif stage is Stage.CANCELLED:
            text = "Cancelled: the workspace was deleted"
        else:
            return ""
        return (f'<div class="exls-detail-text {stage_class(stage)}" title="{escape(text)}">'
                f"{escape(text)}</div>")

    def ask(self) -> None:
        """Show "Delete NAME? Confirm / Keep" in place of the Cancel button."""
        with self._lock:
            if self.busy or self.cancel_button.disabled:
                return
            self._question.ask(f"Delete {self.title}?", "delete", self.workspace_id)
            self._relayout()

    def _leave_question(self) -> None:
        with self._lock:
            if self._question.disarm():
                self._relayout()

    def _relayout(self) -> None:
        with self._lock:
            self.line.children = self._line_children()

    def _on_confirm(self, _action: str, key: str) -> None:
        with self._lock:
            if key != self.workspace_id or self.busy:
                return
            self.busy = True  # set on the clicking thread: a second click finds it
            self.stage.value = "cancelling…"
            self.cancel_button.disabled = True
            self._relayout()
        self._on_cancel(self)

    def close(self) -> None:
        """Close the row's widgets (not the shared clock, layouts and styles)."""
        for w in (self.name, self.stage, self.bar, self._own_elapsed, self.access,
                  self.cancel_button, self.detail, self.line, self.box):
            if w is not None:
                w.close()
        self._question.close()


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
