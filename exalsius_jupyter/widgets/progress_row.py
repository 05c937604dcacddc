"""ProgressRow: one workspace of the creation progress widget (stage, bar, time, access, Cancel)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import ipywidgets as widgets
from ipywidgets.widgets.widget_int import ProgressStyle
from ipywidgets.widgets.widget_string import HTMLStyle, LabelStyle

from ..durations import duration
from ..render import access_html, cpu_memory, escape, short_id, stage_class
from ..watch import Stage, Tracked
from .base import Guard, set_traits
from .question import AsksQuestion, Question

STAGE_PERCENT = {Stage.SUBMITTED: 10, Stage.PENDING: 50, Stage.RUNNING: 100, Stage.FAILED: 100,
                 Stage.STOPPED: 100, Stage.DELETED: 100, Stage.TIMED_OUT: 100,
                 Stage.CANCELLED: 100}
STAGE_BAR = {Stage.SUBMITTED: "info", Stage.PENDING: "info", Stage.RUNNING: "success",
             Stage.FAILED: "danger", Stage.STOPPED: "danger", Stage.DELETED: "danger",
             Stage.TIMED_OUT: "warning", Stage.CANCELLED: ""}
FINISHED = frozenset({Stage.RUNNING, Stage.DELETED, Stage.CANCELLED})  # nothing left to cancel
# The stages with something to cancel (#17.5a): a row that ended shows no Cancel at all (a
# failed or stopped workspace is the panel's Delete to remove, not a creation to cancel).
CANCELLABLE = frozenset({Stage.SUBMITTED, Stage.PENDING})
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


class ProgressRow(AsksQuestion):
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
        self._can_cancel = True  # whether the row offers Cancel (it is still waiting)
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
        if self.asking:
            end: tuple[widgets.Widget, ...] = self._question.children
        else:
            end = (self.cancel_button,) if self._can_cancel else ()
        return (self.name, self.stage, self.bar, self.elapsed, self.access, *end)

    @property
    def keep_button(self) -> widgets.Button:
        """Keep (do not delete) of the inline question."""
        return self._question.no

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
            self.access.value = (access_html(ws.access_information, ws.opens_with, note=True)
                                 if stage is Stage.RUNNING and ws else "")
            self.detail.value = self._detail_html(t, stage)
            ended = stage not in CANCELLABLE
            self.cancel_button.disabled = self.busy or ended
            if self.asking and (ended or self.busy):
                self._leave_question()
            can_cancel = self.busy or not ended  # "cancelling…" keeps its greyed button
            if can_cancel != self._can_cancel:
                self._can_cancel = can_cancel
                self._relayout()

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


__all__ = ["CANCELLABLE", "CANCELLED_FROM", "FINISHED", "STAGE_BAR", "STAGE_PERCENT", "TICK",
           "ProgressRow", "ProgressRowStyle", "elapsed_text", "name_html"]
