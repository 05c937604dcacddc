"""One row of the WorkspacePanel: a workspace's cells, its action buttons and their confirmation."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ..model.workspace import Workspace, WorkspaceStatus
from ..render import workspace_row_html
from ._base import ConfirmBar, classed, set_traits

if TYPE_CHECKING:
    from .panel import WorkspacePanel

STOPPABLE = frozenset({WorkspaceStatus.PENDING, WorkspaceStatus.RUNNING})
STARTABLE = frozenset({WorkspaceStatus.STOPPED})
WORKING = "working…"
BUTTON_PX = 72
DELETE_BUTTON_PX = 88


class WorkspaceRow:
    """One reusable table row: the read-only cells in one HTML and the action buttons."""

    def __init__(self, panel: WorkspacePanel, ws: Workspace, now: datetime,
                 with_start: bool) -> None:
        self._panel = panel
        self.lock = threading.Lock()
        self.workspace: Workspace | None = ws
        self.busy = False
        self._now: datetime | None = now
        self._confirm: ConfirmBar | None = None
        self._confirm_line: widgets.HBox | None = None
        self.asking = False
        # Each widget is created with its first state: no update message follows its creation.
        state = self._state()
        self.cells = widgets.HTML(value=state["cells"], layout=panel._cells_layout,
                                  style=panel._html_style, _dom_classes=("exls-cells-widget",))
        bsty = panel._button_style
        self.stop_button = widgets.Button(description="Stop", icon="stop",
                                          layout=panel._button_layout, style=bsty,
                                          _dom_classes=("exls-stop",), **state["stop"])
        self.delete_button = widgets.Button(description="Delete", icon="trash",
                                            button_style="danger", layout=panel._delete_layout,
                                            style=bsty, _dom_classes=("exls-delete",),
                                            **state["delete"])
        self.start_button: widgets.Button | None = None
        if with_start:
            self.start_button = self._make_start(state["start"])
        guard = panel._guard
        self.stop_button.on_click(guard(lambda _b: self.ask("stop")))
        self.delete_button.on_click(guard(lambda _b: self.ask("delete")))
        self.box = widgets.HBox(self._normal_children(), layout=panel._row_layout,
                                _dom_classes=("exls-row",))

    # -- widgets ---------------------------------------------------------------------------

    @property
    def confirm_button(self) -> widgets.Button | None:
        """The Confirm button of the inline confirmation (None until one was asked)."""
        return self._confirm.yes if self._confirm else None

    @property
    def cancel_button(self) -> widgets.Button | None:
        """The Cancel button of the inline confirmation (None until one was asked)."""
        return self._confirm.no if self._confirm else None

    @property
    def question(self) -> str:
        """The confirmation question currently shown ("" when none)."""
        return self._confirm.label.value if self._confirm and self.asking else ""

    def _make_start(self, state: dict[str, Any]) -> widgets.Button:
        p = self._panel
        button = widgets.Button(description="Start", icon="play", layout=p._button_layout,
                                style=p._button_style, _dom_classes=("exls-start",), **state)
        button.on_click(p._guard(lambda _b: self.run("start")))
        return button

    def add_start(self) -> None:
        """Give the row a Start button (the server offers start)."""
        if self.start_button is not None:
            return
        self.start_button = self._make_start(self._state()["start"])
        if not self.asking:
            self.box.children = self._normal_children()

    def _normal_children(self) -> tuple[widgets.Widget, ...]:
        buttons = [self.start_button] if self.start_button is not None else []
        return (self.cells, *buttons, self.stop_button, self.delete_button)

    def close(self) -> None:
        """Close the row's widgets."""
        for w in (self.cells, self.stop_button, self.delete_button, self.start_button,
                  self.box):
            if w is not None:
                w.close()
        if self._confirm:
            self._confirm.close()
        if self._confirm_line:
            self._confirm_line.close()

    # -- state -----------------------------------------------------------------------------

    def show(self, ws: Workspace, now: datetime) -> None:
        """Bind the row to ``ws`` and render it (traits change only when values do)."""
        if self.workspace is None or self.workspace.id != ws.id:
            self._cancel_question()
        self.workspace, self._now = ws, now
        self.render()

    def _state(self) -> dict[str, Any]:
        """What the cells and buttons show for the bound workspace."""
        ws = self.workspace
        assert ws is not None
        status, busy = ws.workspace_status, self.busy
        return {
            "cells": workspace_row_html(ws, self._now, WORKING if busy else ""),
            "stop": {"disabled": busy or status not in STOPPABLE,
                     "tooltip": f"Stop {ws.name}" if status in STOPPABLE
                     else "Only PENDING or RUNNING workspaces can be stopped"},
            "delete": {"disabled": busy or status is WorkspaceStatus.DELETED,
                       "tooltip": f"Delete {ws.name} (irreversible)"},
            "start": {"disabled": busy or status not in STARTABLE,
                      "tooltip": f"Start {ws.name}" if status in STARTABLE
                      else "Only STOPPED workspaces can be started"},
        }

    def render(self) -> None:
        """Bring cells and button states in line with the bound workspace."""
        if self.workspace is None:
            return
        state = self._state()
        if self.cells.value != state["cells"]:
            self.cells.value = state["cells"]
        set_traits(self.stop_button, **state["stop"])
        set_traits(self.delete_button, **state["delete"])
        if self.start_button is not None:
            set_traits(self.start_button, **state["start"])
        if self._confirm is not None and self.asking:
            set_traits(self._confirm.yes, disabled=self.busy)

    # -- actions ---------------------------------------------------------------------------

    def ask(self, action: str) -> None:
        """Show the inline confirmation for ``action`` ("stop" or "delete")."""
        with self._panel._lock:
            ws = self.workspace
            button = self.stop_button if action == "stop" else self.delete_button
            if ws is None or self.busy or button.disabled:
                return
            self._panel.errors.clear()
            if self._confirm is None:
                p = self._panel
                self._confirm = ConfirmBar(p._button_layout)
                self._confirm.yes.on_click(p._guard(lambda _b: self._on_confirm()))
                self._confirm.no.on_click(p._guard(lambda _b: self._cancel_question()))
                self._confirm_line = classed(widgets.HBox(self._confirm.children,
                                                          layout=p._confirm_layout),
                                             "exls-confirm-line")
            verb = "Stop" if action == "stop" else "Delete"
            self._confirm.ask(f"{verb} {ws.name}?", action, ws.id, danger=action == "delete")
            self.asking = True
            self.box.children = (*self._normal_children(), self._confirm_line)

    def _cancel_question(self) -> None:
        with self._panel._lock:
            if self._confirm is not None:
                self._confirm.take(None)
            if self.asking:
                self.asking = False
                self.box.children = self._normal_children()

    def _on_confirm(self) -> None:
        if self._confirm is None or self.workspace is None:
            return
        action = self._confirm.take(self.workspace.id)
        if action is not None:
            self.run(action, confirmed=True)

    def run(self, action: str, *, confirmed: bool = False) -> None:
        """Send ``action`` for the bound workspace: at most one request in flight per row."""
        if not self.lock.acquire(blocking=False):
            return
        try:
            self._panel._run_action(self, action, confirmed)
        finally:
            self.lock.release()

    def leave_question(self) -> None:
        """Drop any open confirmation and show the action buttons again."""
        self._cancel_question()


__all__ = ["BUTTON_PX", "DELETE_BUTTON_PX", "STARTABLE", "STOPPABLE", "WORKING", "WorkspaceRow"]
