"""WorkspacePanel: the workspaces as a table with actions, filters, pages and a creation form.

Wiring only: what the table shows is a ``WorkspaceTable``, an action is ``actions.perform``, and
the rows, header, form and progress are components; every HTTP call runs off the kernel
thread, each thread on its own clone of the client.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timezone
from typing import Any

import ipywidgets as widgets

from ..actions import ActionOutcome, perform
from ..api.client import ExalsiusClient
from ..errors import ExalsiusError, TransportError
from ..model.workspace import Workspace
from ..refresh import AutoRefresh
from ..render import header_row_html, name_room, panel_html, panel_text
from ..table import Applied, WorkspaceTable
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
from .form import CreationForm
from .header import ALL, PanelHeader, lost_html, summary_html
from .pager import Pager
from .progress import CreationProgress
from .row import RowCallbacks, RowPool, WorkspaceRow
from .style import STYLESHEET, RowStyle, stylesheet_widget

MAX_PROGRESS_ENTRIES = 5
LOADING = "<i>loading…</i>"
EMPTY = "<i>No workspaces.</i>"


class WorkspacePanel(Displayable):
    """The workspaces of one endpoint as a live table with Stop/Start/Delete and a creation form.

    The constructor returns at once; the first list runs in the background ("loading…").

    Args:
        client: the client to use; default the kernel's (``session.get_client()``). Each
            background thread works on its own ``client.clone()``.
        cluster_id: show only this cluster's workspaces (the cluster filter's first value).
        auto_refresh: list again by itself once displayed, slowing down while nothing changes.
        page_size: rows per page (at least 1).
        interval: seconds between auto-refreshes while something changes.
        max_interval: the longest pause between auto-refreshes.
    """

    def __init__(
        self,
        client: ExalsiusClient | None = None,
        cluster_id: str | None = None,
        *,
        auto_refresh: bool = True,
        page_size: int = 50,
        interval: float = 5.0,
        max_interval: float = 60.0,
    ) -> None:
        if client is None:
            from ..session import get_client

            client = get_client()
        self.table = WorkspaceTable(page_size, cluster_id)
        self.client = client
        self._is_sandbox = client.is_sandbox
        self.interval = float(interval)
        self.max_interval = max(float(max_interval), self.interval)
        self._lock = self.table.lock
        self._offers_start: bool | None = None
        self._offers_catalogue: bool | None = None
        self.cluster_names: dict[str, str] = {}  # cluster id to name, from the catalogue
        self._name_room = 0  # the room the page's longest name needs (render.name_room)
        self._progress: list[CreationProgress] = []
        self._closed = False
        self._quiet = False
        self._started = False
        self._list_error: ExalsiusError | None = None  # why the last list failed
        self._lost: TransportError | None = None  # the server is unreachable: actions greyed
        self._auto = AutoRefresh(lambda client: self._refresh(client, "auto"),
                                 last_error=lambda: self._list_error, on_tick=self._on_tick,
                                 on_crash=self._auto_crashed, interval=self.interval,
                                 max_interval=self.max_interval, name="exalsius-panel-refresh")
        self.errors = ErrorArea()
        self._guard = guarded(self.errors)
        self._jobs = Jobs("exalsius-panel-action", self.errors)
        self._style = RowStyle()
        self._pool = RowPool(self._style, RowCallbacks(
            on_stop=lambda row: self._act(row, "stop"),
            on_delete=lambda row: self._act(row, "delete"),
            on_start=lambda row: self._act(row, "start"),
            on_ask=self.errors.clear, guard=self._guard,
            cluster_names=lambda: self.cluster_names, offline=lambda: self._lost is not None,
            name_room=lambda: self._name_room,
            on_focus_lost=lambda: self.refresh_button.focus()))
        self._build(cluster_id or ALL, auto_refresh)
        stop_at_exit(self)
        self._jobs.run(self._refresh_in_background, "Could not list workspaces")

    # -- construction ----------------------------------------------------------------------

    def _build(self, cluster: str, auto_refresh: bool) -> None:
        header = PanelHeader(self.client.base_url, self._is_sandbox, cluster,
                             self.table.clusters, auto_refresh)
        self.header = header
        self.title, self.summary = header.title, header.summary
        self.refresh_button, self.auto_toggle = header.refresh_button, header.auto_toggle
        self.cluster_filter, self.status_filter = header.cluster_filter, header.status_filter
        self.head = classed(widgets.HTML(value=header_row_html(), layout=self._style.cells),
                            "exls-table-head")
        # Above the row's buttons; its width is the stylesheet's, as theirs (LAYOUT_RULES).
        self._head_spacer = classed(widgets.Box(), "exls-head-spacer")
        head_row = widgets.HBox([self.head, self._head_spacer])
        self.empty = classed(widgets.HTML(value=LOADING), "exls-empty")
        self.rows_box = classed(widgets.VBox([self.empty]), "exls-rows")
        pager = Pager(guard=self._guard, on_turn=lambda step: self.go_to_page(self.page + step))
        self._pager, self.pager = pager, pager.widget
        self.prev_button, self.next_button = pager.prev_button, pager.next_button
        self.page_label = pager.page_label
        self.progress_box = classed(widgets.VBox([]), "exls-progress-area")
        self._form: CreationForm | None = None
        self.accordion = classed(widgets.Accordion(children=[widgets.VBox()],
                                                   titles=("Create a workspace",),
                                                   selected_index=None), "exls-form")
        self.accordion.observe(self._guard(self._on_accordion), "selected_index")
        from .keys import EscapeKey  # anywidget: imported with the first panel, not at load

        # Built with the panel: a question's line then waits for no front-end module (its
        # Confirm must exist when the kernel focuses it).
        self.escape_key = EscapeKey(within=".exls-panel", item=".exls-row",
                                    when=".exls-confirm-line .exls-cancel:not(:disabled)",
                                    on_escape=self._guard(self._on_escape))
        self.widget = classed(widgets.VBox(
            [stylesheet_widget(), self.escape_key, self.title, header.controls,
             *self.errors.widgets(), head_row, self.rows_box, self.pager, self.progress_box,
             self.accordion]), "exls-panel")
        self.refresh_button.on_click(self._guard(lambda _b: self._on_refresh_click()))
        self.auto_toggle.observe(self._guard(self._on_auto_toggle), "value")
        self.cluster_filter.observe(self._guard(self._on_cluster_filter), "value")
        self.status_filter.observe(self._guard(self._on_status_filter), "value")

    @property
    def form(self) -> CreationForm:
        """The creation form (built the first time it is opened or asked for)."""
        if self._form is None:
            self._form = CreationForm(self.client, clusters=lambda: sorted(self.table.clusters),
                                      on_created=self._on_created, guard=self._guard)
            placeholder = self.accordion.children[0]
            self.accordion.children = (self._form.widget,)
            placeholder.close()
        return self._form

    def _on_accordion(self, change: dict[str, Any]) -> None:
        if change["new"] is not None:
            _ = self.form

    # -- public ----------------------------------------------------------------------------

    @property
    def rows(self) -> list[WorkspaceRow]:
        """The rows shown on the current page, in order."""
        with self._lock:
            return list(self._pool.shown)

    def row(self, key: str) -> WorkspaceRow:
        """The shown row of a workspace, by name or id (KeyError if not on this page)."""
        for r in self.rows:
            if key in (r.workspace.id, r.workspace.name):
                return r
        raise KeyError(f"no workspace {key!r} on this page")

    @property
    def workspaces(self) -> list[Workspace]:
        """The workspaces shown on the current page."""
        return [r.workspace for r in self.rows]

    @property
    def page_size(self) -> int:
        """Rows per page."""
        return self.table.page_size

    @property
    def total(self) -> int | None:
        """The server's total (X-Total-Count) from the last list, None before one succeeded."""
        return self.table.total

    @property
    def page(self) -> int:
        """The current page, counted from 0."""
        return self.table.page

    @property
    def pages(self) -> int:
        """How many pages the filtered workspaces fill (at least 1)."""
        return self.table.pages

    @property
    def progress(self) -> list[CreationProgress]:
        """The creation progress entries shown in the panel (newest last)."""
        return list(self._progress)

    @property
    def auto_refreshing(self) -> bool:
        """Whether the auto-refresh thread is running."""
        return self._auto.running

    @property
    def refresh_delay(self) -> float:
        """Seconds until the next auto-refresh: grows while nothing changes."""
        return self._auto.delay

    @property
    def busy(self) -> bool:
        """Whether background work started by a click (or the first list) is still running."""
        return self._jobs.busy

    def refresh(self) -> None:
        """List the workspaces once (one request, on the calling thread) and redraw."""
        self._refresh_with(self.client, "refresh")

    def go_to_page(self, page: int) -> None:
        """Show page ``page`` (from 0; clamped to the pages there are)."""
        with self._lock:
            self.table.go_to(page)
            self._render_page()

    def start(self) -> None:
        """Start auto-refreshing (when its toggle is on); called when displayed; idempotent."""
        if self._closed:
            return
        self._started = True
        if self.auto_toggle.value and not self._auto.paused:
            self._start_auto()

    def close(self) -> None:
        """Stop auto-refresh and every progress entry, and close all widgets."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._stop_auto()
        self._jobs.join()
        for p in self._progress:
            p.close()
        if self._form is not None:
            self._form.close()
        for w in list(walk(self.widget)):
            w.close()
        self._pool.close()
        self._style.close()
        self.empty.close()

    # -- display ---------------------------------------------------------------------------

    def _repr_html_(self) -> str:
        with self._lock:
            shown, total = self.workspaces, self.total
        return panel_html(self.client.base_url, shown, total, prelude=STYLESHEET,
                          clusters=self.cluster_names)

    def __repr__(self) -> str:
        with self._lock:
            shown, total = self.workspaces, self.total
        return panel_text(self.client.base_url, shown, total, is_sandbox=self._is_sandbox,
                          clusters=self.cluster_names)

    # -- refreshing ------------------------------------------------------------------------

    def _refresh_in_background(self) -> None:
        with own_client(self.client) as client:
            self._refresh_with(client, "refresh")

    def _refresh_with(self, client: ExalsiusClient, source: str) -> None:
        if self._refresh(client, source) is not None and self._auto.paused:
            self._auto.resume()
            if self._started and self.auto_toggle.value:
                self._start_auto()
            with self._lock:
                self._render_summary()

    def _refresh(self, client: ExalsiusClient, source: str) -> bool | None:
        """Fetch and apply the list; True if it changed (or may have), None on error."""
        ticket = self.table.ticket()
        try:
            listing = client.list_workspaces(cluster_id=ticket.cluster_id)
            self._list_error = None
        except TransportError as exc:  # the server is gone (refused, timed out, stopped)
            self._list_error = exc
            self._lose(exc)
            return None
        except ExalsiusError as exc:
            self._list_error = exc
            with self._lock:
                if not self._closed:
                    self.errors.show_exception(exc, "Could not list workspaces", source="list")
            return None
        if self._lost is not None:
            self._found()
        if self._offers_start is None:
            with contextlib.suppress(ExalsiusError):  # else asked again at the next refresh
                self._offers_start = client.offers("start")
        with self._lock:
            if self._closed:
                return False
            applied = self.table.apply(listing, ticket)
            if applied is None:
                return True  # an action or a filter change came meanwhile: this may be stale
            self._show_listing(client, applied)
            # An auto-refresh shows the summary once, after pacing itself (_auto_tick).
            self._render_page(summary=source != "auto")
        self._name_clusters(client)
        return applied.changed

    def _lose(self, exc: TransportError) -> None:
        """The server could not be reached: say so in the status line, grey the actions."""
        with self._lock:
            was_lost, self._lost = self._lost is not None, exc
            if self._closed:
                return
            self.errors.clear("list")
            self._render_summary()
            if not was_lost and self.table.refreshed_at is not None:
                self._render_page(summary=False)  # the rows' actions greyed

    def _found(self) -> None:
        """A list answered again: the actions come back with the rows it shows."""
        with self._lock:
            self._lost = None
            if not self._closed:
                self._render_page(summary=False)

    def _name_clusters(self, client: ExalsiusClient) -> None:
        """Show the clusters by name where the server has the catalogue (after a list).

        One ``GET /clusters`` the first time and whenever the list shows a cluster it did not
        name; an error leaves the short ids until the next refresh.
        """
        with self._lock:
            unnamed = self.table.clusters - set(self.cluster_names)
        if self._offers_catalogue is False or (self._offers_catalogue and not unnamed):
            return
        try:
            self._offers_catalogue = client.offers_catalogue()
            if not self._offers_catalogue:
                return
            names = {c.id: c.name for c in client.list_clusters() if c.name}
        except ExalsiusError:
            return
        with self._lock:
            if self._closed or names == self.cluster_names:
                return
            self.cluster_names = names
            self._show_clusters()
            self._render_page(summary=False)

    def _show_listing(self, client: ExalsiusClient, applied: Applied) -> None:
        """What a new list changes beside the rows: errors, badge, clusters, Start buttons."""
        self.errors.clear("list")
        if client.is_sandbox != self._is_sandbox:  # known once the server has answered
            self._is_sandbox = client.is_sandbox
            self.header.show_sandbox(self._is_sandbox)
        if applied.new_clusters:
            self._show_clusters()
        if self._offers_start:
            self._pool.add_start()
            self._head_spacer.add_class("exls-with-start")
        self._pool.settle()

    def _show_clusters(self) -> None:
        """Offer the clusters seen (by name where known) in the filter and the form."""
        if self._form is not None:
            self._form.update_clusters()
        self._quiet = True
        try:
            self.header.set_clusters(self.table.clusters, self.cluster_names)
        finally:
            self._quiet = False

    def _render_page(self, summary: bool = True) -> None:
        """Redraw the current page from the last list (call with the lock held).

        Rows are keyed by workspace id: a workspace keeps its row, a row with an action in
        flight is never given to another workspace, and free rows are reused in order.
        """
        if self._closed:
            return
        now = datetime.now(timezone.utc)
        shown = self.table.page_workspaces()
        page, pages = self.table.page, self.table.pages
        self._name_room = name_room(ws.name for ws in shown)
        self.head.value = header_row_html(self._name_room)
        rows = self._pool.place(shown, now, bool(self._offers_start))
        self.empty.value = EMPTY
        self.rows_box.children = tuple(r.box for r in rows) or (self.empty,)
        self._pager.show(page, pages)
        if summary:
            self._render_summary()

    def _render_summary(self) -> None:
        table = self.table
        auto = self.refresh_delay if self.auto_toggle.value and self._started else None
        lost = self._lost
        self.header.show_summary(summary_html(
            table.total, table.status, table.matching if table.status else 0,
            table.refreshed_at, self._auto.paused, auto,
            lost_html(self.client.base_url, lost, table.refreshed_at) if lost else ""))

    # -- auto-refresh ----------------------------------------------------------------------

    def _start_auto(self) -> None:
        with self._lock:
            if self._closed or self.auto_refreshing:
                return
            self._auto.start(self.client)
            self._render_summary()

    def _stop_auto(self) -> None:
        self._auto.stop()

    def _on_tick(self) -> None:
        """After each auto-refresh: the summary shows the pace (or the pause) once."""
        with self._lock:
            if not self._closed:
                self._render_summary()

    def _auto_crashed(self, exc: BaseException) -> None:
        """A bug in a refresh: show it; refreshing has stopped."""
        self.errors.show_exception(exc, "Auto-refresh stopped")
        self._on_tick()

    def _shutdown(self) -> None:
        """Stop background work without touching widgets (kernel shutdown)."""
        self._auto.stop(join=None)

    # -- callbacks -------------------------------------------------------------------------

    def _on_refresh_click(self) -> None:
        self.errors.clear()
        self._auto.backoff.reset()
        self._jobs.run(self._refresh_in_background, "Could not list workspaces")

    def _on_auto_toggle(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self._auto.resume()
            if self._started:
                self._start_auto()
        else:
            self._stop_auto()
        with self._lock:
            self._render_summary()

    def _on_cluster_filter(self, change: dict[str, Any]) -> None:
        if self._quiet:
            return
        self.table.filter_cluster(change["new"])
        self._jobs.run(self._refresh_in_background, "Could not list workspaces")

    def _on_escape(self, index: int) -> None:
        """Escape in the page's ``index``-th row (the front end's count): close its question."""
        with self._lock:
            shown = self._pool.shown
            row = shown[index] if index < len(shown) else None
        if row is not None:
            row.escape()

    def _on_status_filter(self, change: dict[str, Any]) -> None:
        with self._lock:
            self.table.filter_status(change["new"])
            self._render_page()

    # -- actions ---------------------------------------------------------------------------

    def _act(self, row: WorkspaceRow, action: str) -> None:
        """A row asked for ``action`` (it is already busy): send it off the kernel thread."""
        self.errors.clear()
        self.table.begin_action()
        self._jobs.run(lambda: self._perform(row, row.workspace, action))

    def _perform(self, row: WorkspaceRow, ws: Workspace, action: str) -> None:
        """Send one action and show the server's answer in the row (a background job)."""
        outcome: ActionOutcome | None = None
        try:
            with own_client(self.client) as client:
                outcome = perform(client, action, ws)
            if outcome.error is not None:
                self.errors.show_exception(outcome.error, f"Could not {action} {ws.name}")
                if isinstance(outcome.error, TransportError):
                    self._lost = outcome.error  # greyed with the row's redraw below
        except Exception as exc:  # a bug: shown with its traceback, the row usable again
            self.errors.show_exception(exc, f"Could not {action} {ws.name}")
        finally:
            after = outcome.workspace if outcome is not None else ws
            with self._lock:
                self.table.end_action(ws.id, after, deleted=bool(outcome and outcome.deleted))
                row.finish(action, after, bool(outcome and outcome.ok))
                self._render_page()
            self._auto.backoff.reset()  # the next auto-refresh comes an interval from now

    def _on_created(self, workspace_id: str) -> None:
        progress = CreationProgress([workspace_id], self.client,
                                    on_done=lambda _p: self._auto.wake())
        with self._lock:
            self._progress.append(progress)
            old = self._progress[:-MAX_PROGRESS_ENTRIES]
            self._progress = self._progress[-MAX_PROGRESS_ENTRIES:]
            self.progress_box.children = tuple(p.widget for p in self._progress)
        for p in old:
            p.close()
        progress.start()
        self._jobs.run(self._refresh_in_background, "Could not list workspaces")


__all__ = ["WorkspacePanel"]
