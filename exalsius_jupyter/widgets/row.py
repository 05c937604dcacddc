"""One row of the workspaces table: a workspace's cells, its action buttons and their question.

A row is a component: it gets its style objects and its callbacks, and knows nothing of the panel.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import ipywidgets as widgets

from ..actions import VERBS
from ..model.workspace import Workspace, WorkspaceStatus
from ..render import workspace_row_html
from .base import Guard, classed, set_traits
from .question import AsksQuestion, Question
from .style import RowStyle

STOPPABLE = frozenset({WorkspaceStatus.PENDING, WorkspaceStatus.RUNNING})
STARTABLE = frozenset({WorkspaceStatus.STOPPED})
CONFIRMED = frozenset({"stop", "delete"})  # the actions that need a confirmation
WORKING = "working…"


@dataclass(frozen=True)
class RowCallbacks:
    """What a row calls: each action gets the row (already marked busy), ``on_ask`` nothing."""

    on_stop: Callable[[WorkspaceRow], None]
    on_delete: Callable[[WorkspaceRow], None]
    on_start: Callable[[WorkspaceRow], None]
    on_ask: Callable[[], None]
    guard: Guard
    cluster_names: Callable[[], Mapping[str, str]] = dict  # cluster id to name, where known
    offline: Callable[[], bool] = bool  # True while the server is unreachable: actions greyed
    name_room: Callable[[], int] = int  # the name column's room on the page (render.name_room)
    on_focus_lost: Callable[[], None] = lambda: None  # no button of the row can take focus


class WorkspaceRow(AsksQuestion):
    """One reusable table row: the read-only cells in one HTML, the buttons and a question line.

    Args:
        ws: the workspace shown first.
        now: the time ages and expiries are counted from.
        style: the layout and style objects shared by every row.
        callbacks: the actions and the error guard for the buttons.
        with_start: whether the row has a Start button (the server offers start).
    """

    def __init__(self, ws: Workspace, now: datetime, *, style: RowStyle,
                 callbacks: RowCallbacks, with_start: bool) -> None:
        self._style = style
        self._callbacks = callbacks
        self._lock = threading.RLock()
        self.workspace: Workspace = ws
        self.busy = False
        self._now = now
        self._line_shown = False
        # Each widget is created with its first state: no update message follows its creation.
        state = self._state()
        guard = callbacks.guard
        self.cells = widgets.HTML(value=state["cells"], layout=style.cells, style=style.html,
                                  _dom_classes=("exls-cells-widget",))
        self.stop_button = widgets.Button(description="Stop", icon="stop", layout=style.button,
                                          style=style.button_style, _dom_classes=("exls-stop",),
                                          **state["stop"])
        # Not "danger": a column of red buttons would outshout the table; the question is red.
        self.delete_button = widgets.Button(description="Delete", icon="trash",
                                            layout=style.delete,
                                            style=style.button_style,
                                            _dom_classes=("exls-delete",), **state["delete"])
        self.start_button: widgets.Button | None = None
        if with_start:
            self.start_button = self._make_start(state["start"])
        self.stop_button.on_click(guard(lambda _b: self.ask("stop")))
        self.delete_button.on_click(guard(lambda _b: self.ask("delete")))
        # The question's widgets are made at the first question: most rows are never asked one.
        self._question = Question(style.button, guard=guard, on_confirm=self._on_confirm,
                                  on_cancel=self._cancelled)
        self._confirm_line: widgets.HBox | None = None
        self._refocus = False  # whether focus goes back to the row once the action is done
        self.box = widgets.HBox(self._children(), layout=style.row, _dom_classes=("exls-row",))

    # -- widgets ---------------------------------------------------------------------------

    @property
    def confirm_line(self) -> widgets.HBox:
        """The line under the row that asks, says what is under way, or how it went."""
        with self._lock:
            if self._confirm_line is None:
                self._confirm_line = classed(
                    widgets.HBox(self._question.children, layout=self._style.confirm),
                    "exls-confirm-line")
            return self._confirm_line

    @property
    def cancel_button(self) -> widgets.Button:
        """The Cancel button of the inline question."""
        return self._question.no

    def _make_start(self, state: dict[str, Any]) -> widgets.Button:
        button = widgets.Button(description="Start", icon="play", layout=self._style.button,
                                style=self._style.button_style, _dom_classes=("exls-start",),
                                **state)
        button.on_click(self._callbacks.guard(lambda _b: self.run("start")))
        return button

    def add_start(self) -> None:
        """Give the row a Start button (the server offers start)."""
        with self._lock:
            if self.start_button is None:
                self.start_button = self._make_start(self._state()["start"])
                self.box.children = self._children()

    def _children(self) -> tuple[widgets.Widget, ...]:
        buttons = [self.start_button] if self.start_button is not None else []
        line = [self.confirm_line] if self._line_shown else []
        return (self.cells, *buttons, self.stop_button, self.delete_button, *line)

    def close(self) -> None:
        """Close the row's widgets (not the shared style objects)."""
        for w in (self.cells, self.stop_button, self.delete_button, self.start_button,
                  self._confirm_line, self.box):
            if w is not None:
                w.close()
        self._question.close()

    # -- state -----------------------------------------------------------------------------

    def show(self, ws: Workspace, now: datetime) -> None:
        """Bind the row to ``ws`` and render it; another workspace drops the question line."""
        with self._lock:
            if ws.id != self.workspace.id:
                self._drop_line()
            self.workspace, self._now = ws, now
            self.render()

    def _state(self) -> dict[str, Any]:
        """What the cells and buttons show for the bound workspace.

        The buttons' tooltips (their title) name the workspace they act on (#17.4), the text
        stays short: a refresh sends a button nothing unless what it can do changed, a page
        flip one message per button that shows another workspace (#10.2).
        """
        ws, working = self.workspace, self.busy
        busy = working or self._callbacks.offline()  # greyed, as while an action runs
        status, name = ws.workspace_status, ws.name
        return {
            "cells": workspace_row_html(ws, self._now, WORKING if working else "",
                                        self._callbacks.cluster_names(),
                                        self._callbacks.name_room()),
            "stop": {"disabled": busy or status not in STOPPABLE,
                     "tooltip": f"Stop {name}" if status in STOPPABLE
                     else f"Stop {name}: only PENDING or RUNNING workspaces can be stopped"},
            "delete": {"disabled": busy or status is WorkspaceStatus.DELETED,
                       "tooltip": f"Delete {name} (irreversible)"},
            "start": {"disabled": busy or status not in STARTABLE,
                      "tooltip": f"Start {name}" if status in STARTABLE
                      else f"Start {name}: only STOPPED workspaces can be started"},
        }

    def render(self) -> None:
        """Bring cells and button states in line with the bound workspace."""
        with self._lock:
            state = self._state()
            self.cells.value = state["cells"]
            set_traits(self.stop_button, **state["stop"])
            set_traits(self.delete_button, **state["delete"])
            if self.start_button is not None:
                set_traits(self.start_button, **state["start"])

    def _button(self, action: str) -> widgets.Button | None:
        return {"stop": self.stop_button, "delete": self.delete_button,
                "start": self.start_button}[action]

    # -- the question line -----------------------------------------------------------------

    def ask(self, action: str) -> None:
        """Show the inline question for ``action`` ("stop" or "delete"), naming this workspace."""
        with self._lock:
            button = self._button(action)
            if self.busy or button is None or button.disabled:
                return
            self._question.ask(f"{VERBS[action][0]} {self.workspace.name}?", action,
                               self.workspace.id, danger=action == "delete")
            self._show_line()
            # Keyboard focus goes to the question: Confirm, or Cancel where it cannot be undone.
            (self._question.no if action == "delete" else self._question.yes).focus()
        self._callbacks.on_ask()

    def escape(self) -> None:
        """Escape pressed in the row: an open question closes as with Cancel (focus included)."""
        self._question.cancel()

    def leave_question(self) -> None:
        """Drop an open question (a line that reports an action stays until ``settle``)."""
        with self._lock:
            if self._question.disarm():
                self._drop_line()

    def settle(self) -> None:
        """Drop the line that reported a finished action (a new list has been shown)."""
        with self._lock:
            if not self.asking and not self.busy:
                self._drop_line()

    def _show_line(self) -> None:
        self._line_shown = True
        self.box.children = self._children()

    def _drop_line(self) -> None:
        self._question.disarm()
        if self._line_shown:
            self._line_shown = False
            self.box.children = self._children()

    def _cancelled(self) -> None:
        """Cancel: the question goes and focus returns to the button that asked it."""
        with self._lock:
            action = self._question.last_action
            self._drop_line()
            self._focus_row(action)

    def _focus_row(self, action: str | None) -> None:
        """Focus ``action``'s button, or the row's first enabled one (a disabled one cannot)."""
        first = self._button(action) if action is not None else None
        for button in (first, self.start_button, self.stop_button, self.delete_button):
            if button is not None and not button.disabled:
                button.focus()
                return
        self._callbacks.on_focus_lost()  # e.g. a deleted workspace: the panel takes focus

    def _on_confirm(self, action: str, key: str) -> None:
        with self._lock:
            if key != self.workspace.id:
                return  # the row shows another workspace now
            self._refocus = True
        self.run(action, confirmed=True)

    # -- actions ---------------------------------------------------------------------------

    def run(self, action: str, *, confirmed: bool = False) -> bool:
        """Mark the row busy and hand ``action`` to its callback; at most one at a time.

        Stop and Delete need ``confirmed``. The question line stays where it is, saying what is
        under way, so nothing below the row moves while the user may still be clicking.
        """
        with self._lock:
            button = self._button(action)
            if self.busy or button is None or button.disabled:
                return False
            if action in CONFIRMED and not confirmed:
                return False
            self.busy = True
            self._question.disarm()
            if self._line_shown:
                self._question.say(f"{VERBS[action][1]} {self.workspace.name}…")
            self.render()
        callback = {"stop": self._callbacks.on_stop, "delete": self._callbacks.on_delete,
                    "start": self._callbacks.on_start}[action]
        callback(self)
        return True

    def finish(self, action: str, ws: Workspace | None, ok: bool) -> None:
        """The action's answer: show ``ws`` (None: the workspace is gone) and the outcome."""
        with self._lock:
            name = self.workspace.name
            self.busy = False
            if ws is not None and ws.id == self.workspace.id:
                self.workspace = ws
            if self._line_shown and not self.asking:
                self._question.say(f"{VERBS[action][2]} {name}" if ok
                                   else f"Could not {action} {name}", buttons=self._style.hidden)
            self.render()
            if self._refocus:  # the action came from this row's question: focus stays here
                self._refocus = False
                if action == "delete" and ok:
                    self._callbacks.on_focus_lost()  # the row goes with the next list
                else:
                    self._focus_row(action)


class RowPool:
    """Every row made so far, handed out by workspace id.

    A workspace keeps its row, a row with an action in flight is never given to another
    workspace, and free rows are reused in order: a page flip rebinds rows, it makes none.

    Args:
        style: the layout and style objects shared by every row.
        callbacks: the actions and the error guard for the buttons.
    """

    def __init__(self, style: RowStyle, callbacks: RowCallbacks) -> None:
        self._style = style
        self._callbacks = callbacks
        self.rows: list[WorkspaceRow] = []  # the shown ones first, in order
        self.shown: list[WorkspaceRow] = []

    def place(self, workspaces: list[Workspace], now: datetime,
              with_start: bool) -> list[WorkspaceRow]:
        """Bind a row to each of ``workspaces`` (in order) and return them."""
        wanted = {ws.id for ws in workspaces}
        by_id = {r.workspace.id: r for r in self.rows}
        free = [r for r in self.rows if r.workspace.id not in wanted and not r.busy]
        rows: list[WorkspaceRow] = []
        for ws in workspaces:
            row = by_id.get(ws.id)
            if row is None and free:
                row = free.pop(0)
            if row is None:
                row = WorkspaceRow(ws, now, style=self._style, callbacks=self._callbacks,
                                   with_start=with_start)
            row.show(ws, now)
            rows.append(row)
        for row in self.rows:
            if row not in rows:
                row.leave_question()
        self.rows = rows + [r for r in self.rows if r not in rows]
        self.shown = rows
        return rows

    def add_start(self) -> None:
        """Give every row a Start button (the server offers start)."""
        for r in self.rows:
            r.add_start()

    def settle(self) -> None:
        """Drop the lines that reported finished actions (a new list has been shown)."""
        for r in self.rows:
            r.settle()

    def close(self) -> None:
        """Close every row made."""
        for r in self.rows:
            r.close()


__all__ = ["CONFIRMED", "STARTABLE", "STOPPABLE", "WORKING", "RowCallbacks", "RowPool",
           "WorkspaceRow"]
