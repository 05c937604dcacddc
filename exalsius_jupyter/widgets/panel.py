"""WorkspacePanel: the workspaces as a table with actions, filters, pages and a creation form.

Wiring only: the rows, header, form and progress are components; every HTTP call runs off the
kernel thread, each thread on its own clone of the client.
"""

from __future__ import annotations

import contextlib
import math
import threading
from datetime import datetime, timezone
from typing import Any

import ipywidgets as widgets

from ..api.client import ExalsiusClient
from ..errors import ExalsiusError, NotFoundError
from ..model.workspace import Workspace, WorkspaceList, WorkspaceStatus
from ..poller import Backoff, Poller, transient
from ..render import endpoint_label, escape, header_row_html, workspaces_html, workspaces_text
from .base import (
    Displayable,
    ErrorArea,
    Jobs,
    classed,
    guarded,
    own_client,
    set_traits,
    stop_at_exit,
    walk,
)
from .form import CreationForm
from .header import ALL, PanelHeader, summary_html
from .progress import CreationProgress
from .row import RowCallbacks, WorkspaceRow
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
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.client = client
        self._is_sandbox = client.is_sandbox
        self.page_size = int(page_size)
        self.interval = float(interval)
        self.max_interval = max(float(max_interval), self.interval)
        self._lock = threading.RLock()
        self._gen = 0
        self._inflight = 0
        self._listing: WorkspaceList | None = None
        self._overrides: dict[str, Workspace | None] = {}  # action answers newer than the list
        self._held: set[str] = set()  # rows an action just answered: kept until the next list
        self._deleted: set[str] = set()  # deletes the server confirmed: never shown again
        self._clusters: set[str] = {cluster_id} if cluster_id else set()
        self._offers_start: bool | None = None
        self._refreshed_at: datetime | None = None
        self._page = 0
        self._rows: list[WorkspaceRow] = []  # every row made, the shown ones first, in order
        self._shown: list[WorkspaceRow] = []
        self._progress: list[CreationProgress] = []
        self._closed = False
        self._quiet = False
        self._started = False
        self._paused = False
        self._backoff = Backoff(self.interval, self.max_interval)
        self._auto: Poller | None = None  # the auto-refresh loop while it runs
        self._list_error: ExalsiusError | None = None  # why the last list failed
        self.errors = ErrorArea()
        self._guard = guarded(self.errors)
        self._jobs = Jobs("exalsius-panel-action", self.errors)
        self._style = RowStyle()
        self._callbacks = RowCallbacks(
            on_stop=lambda row: self._act(row, "stop"),
            on_delete=lambda row: self._act(row, "delete"),
            on_start=lambda row: self._act(row, "start"),
            on_ask=self.errors.clear, guard=self._guard)
        self._build(cluster_id or ALL, auto_refresh)
        stop_at_exit(self)
        self._jobs.run(self._refresh_in_background, "Could not list workspaces")

    # -- construction ----------------------------------------------------------------------

    def _build(self, cluster: str, auto_refresh: bool) -> None:
        header = PanelHeader(self.client.base_url, self._is_sandbox, cluster,
                             self._clusters, auto_refresh)
        self.header = header
        self.title, self.summary = header.title, header.summary
        self.refresh_button, self.auto_toggle = header.refresh_button, header.auto_toggle
        self.cluster_filter, self.status_filter = header.cluster_filter, header.status_filter
        self.head = classed(widgets.HTML(value=header_row_html(), layout=self._style.cells),
                            "exls-table-head")
        self._head_spacer = widgets.Box(layout=widgets.Layout(
            width=self._style.actions_width(False)))
        head_row = widgets.HBox([self.head, self._head_spacer])
        self.empty = classed(widgets.HTML(value=LOADING), "exls-empty")
        self.rows_box = classed(widgets.VBox([self.empty]), "exls-rows")
        self.prev_button = classed(widgets.Button(description="Prev", icon="chevron-left",
                                                  layout=widgets.Layout(width="80px")),
                                   "exls-prev")
        self.next_button = classed(widgets.Button(description="Next", icon="chevron-right",
                                                  layout=widgets.Layout(width="80px")),
                                   "exls-next")
        self.page_label = classed(widgets.Label(value="page 1 of 1"), "exls-page")
        self.pager = classed(widgets.HBox([self.prev_button, self.page_label, self.next_button],
                                          layout=widgets.Layout(align_items="center")),
                             "exls-pager")
        self.progress_box = classed(widgets.VBox([]), "exls-progress-area")
        self._form: CreationForm | None = None
        self.accordion = classed(widgets.Accordion(children=[widgets.VBox()],
                                                   titles=("Create a workspace",),
                                                   selected_index=None), "exls-form")
        self.accordion.observe(self._guard(self._on_accordion), "selected_index")
        self.widget = classed(widgets.VBox(
            [stylesheet_widget(), self.title, header.controls, *self.errors.widgets(), head_row,
             self.rows_box, self.pager, self.progress_box, self.accordion]), "exls-panel")
        self.refresh_button.on_click(self._guard(lambda _b: self._on_refresh_click()))
        self.prev_button.on_click(self._guard(lambda _b: self._turn(-1)))
        self.next_button.on_click(self._guard(lambda _b: self._turn(+1)))
        self.auto_toggle.observe(self._guard(self._on_auto_toggle), "value")
        self.cluster_filter.observe(self._guard(self._on_cluster_filter), "value")
        self.status_filter.observe(self._guard(self._on_status_filter), "value")

    @property
    def form(self) -> CreationForm:
        """The creation form (built the first time it is opened or asked for)."""
        if self._form is None:
            self._form = CreationForm(self.client, clusters=lambda: sorted(self._clusters),
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
            return list(self._shown)

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
    def total(self) -> int | None:
        """The server's total (X-Total-Count) from the last list, None before one succeeded."""
        return self._listing.total if self._listing is not None else None

    @property
    def page(self) -> int:
        """The current page, counted from 0."""
        return self._page

    @property
    def pages(self) -> int:
        """How many pages the filtered workspaces fill (at least 1)."""
        return max(1, math.ceil(len(self._visible_indices()) / self.page_size))

    @property
    def progress(self) -> list[CreationProgress]:
        """The creation progress entries shown in the panel (newest last)."""
        return list(self._progress)

    @property
    def auto_refreshing(self) -> bool:
        """Whether the auto-refresh thread is running."""
        return self._auto is not None and self._auto.running

    @property
    def refresh_delay(self) -> float:
        """Seconds until the next auto-refresh: grows while nothing changes."""
        return self._backoff.delay()

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
            self._page = max(0, min(int(page), self.pages - 1))
            self._render_page()

    def start(self) -> None:
        """Start auto-refreshing (when its toggle is on); called when displayed; idempotent."""
        if self._closed:
            return
        self._started = True
        if self.auto_toggle.value and not self._paused:
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
        rows = list(self._rows)
        for w in list(walk(self.widget)):
            w.close()
        for r in rows:
            r.close()
        self._style.close()
        self.empty.close()

    # -- display ---------------------------------------------------------------------------

    def _repr_html_(self) -> str:
        with self._lock:
            shown = self.workspaces
            total = self.total
        return (f"<div><b>exalsius workspaces</b> · "
                f"<code>{escape(endpoint_label(self.client.base_url))}</code></div>"
                + workspaces_html(shown, total=total, prelude=STYLESHEET))

    def __repr__(self) -> str:
        with self._lock:
            shown = self.workspaces
            total = self.total
        sandbox = " (sandbox)" if self._is_sandbox else ""
        count = ("not listed yet" if total is None
                 else f"{total} workspace{'s' if total != 1 else ''}")
        head = f"WorkspacePanel {endpoint_label(self.client.base_url)}{sandbox}: {count}"
        return head + ("\n" + workspaces_text(shown, total=total) if shown else "")

    # -- refreshing ------------------------------------------------------------------------

    def _refresh_in_background(self) -> None:
        with own_client(self.client) as client:
            self._refresh_with(client, "refresh")

    def _refresh_with(self, client: ExalsiusClient, source: str) -> None:
        if self._refresh(client, source) is not None and self._paused:
            self._paused = False
            if self._started and self.auto_toggle.value:
                self._start_auto()
            with self._lock:
                self._render_summary()

    def _refresh(self, client: ExalsiusClient, source: str) -> bool | None:
        """Fetch and apply the list; True if it changed, None on error."""
        gen = self._gen
        cluster = self.cluster_filter.value or None
        try:
            listing = client.list_workspaces(cluster_id=cluster)
            self._list_error = None
        except ExalsiusError as exc:
            self._list_error = exc
            with self._lock:
                if not self._closed:
                    self.errors.show_exception(exc, "Could not list workspaces", source="list")
            return None
        if self._offers_start is None:
            with contextlib.suppress(ExalsiusError):  # else asked again at the next refresh
                self._offers_start = client.offers("start")
        with self._lock:
            if self._closed:
                return False
            if gen != self._gen or self._inflight or cluster != (self.cluster_filter.value or None):
                return True  # an action or a filter change came meanwhile: this may be stale
            changed = self._listing is None or listing.raw != self._listing.raw
            self._listing = listing
            self._overrides.clear()
            self._held.clear()
            self._deleted &= {_text_of(raw, "id") for raw in listing.raw}
            self._refreshed_at = datetime.now(timezone.utc)
            self.errors.clear("list")
            if client.is_sandbox != self._is_sandbox:  # known once the server has answered
                self._is_sandbox = client.is_sandbox
                self.header.show_sandbox(self._is_sandbox)
            self._update_clusters(listing)
            if self._offers_start:
                for r in self._rows:
                    r.add_start()
                self._head_spacer.layout.width = self._style.actions_width(True)
            for r in self._rows:
                r.settle()
            # An auto-refresh shows the summary once, after pacing itself (_auto_loop).
            self._render_page(summary=source != "auto")
        return changed

    def _update_clusters(self, listing: WorkspaceList) -> None:
        seen = {_text_of(raw, "cluster_id") or "" for raw in listing.raw}
        new = seen - {""} - self._clusters
        if not new:
            return
        self._clusters |= new
        if self._form is not None:
            self._form.update_clusters()
        self._quiet = True
        try:
            self.header.set_clusters(self._clusters)
        finally:
            self._quiet = False

    def _visible_indices(self) -> list[int]:
        listing = self._listing
        if listing is None:
            return []
        wanted = self.status_filter.value
        out = []
        for i, raw in enumerate(listing.raw):
            wid = _text_of(raw, "id")
            if isinstance(wid, str) and (wid in self._deleted or (
                    wid in self._overrides and self._overrides[wid] is None)):
                continue  # gone, by the server's own answer
            if not wanted or (isinstance(wid, str) and wid in self._held):
                out.append(i)
                continue
            ws = self._overrides.get(wid) if isinstance(wid, str) else None
            status = ws.workspace_status if ws is not None else WorkspaceStatus.parse(
                raw.get("workspace_status") if isinstance(raw, dict) else None)
            if status.value == wanted:
                out.append(i)
        return out

    def _workspace_at(self, index: int) -> Workspace | None:
        assert self._listing is not None
        wid = _text_of(self._listing.raw[index], "id")
        if isinstance(wid, str) and wid in self._overrides:
            return self._overrides[wid]
        try:
            return self._listing[index]
        except ExalsiusError:
            return None  # an item the models cannot read is left out

    def _render_page(self, summary: bool = True) -> None:
        """Redraw the current page from the last list (call with the lock held).

        Rows are keyed by workspace id: a workspace keeps its row, a row with an action in
        flight is never given to another workspace, and free rows are reused in order.
        """
        if self._closed:
            return
        now = datetime.now(timezone.utc)
        indices = self._visible_indices()
        pages = max(1, math.ceil(len(indices) / self.page_size))
        self._page = min(self._page, pages - 1)
        start = self._page * self.page_size
        shown: list[Workspace] = []
        for i in indices[start:start + self.page_size]:
            ws = self._workspace_at(i)
            if ws is not None and ws.id not in {w.id for w in shown}:
                shown.append(ws)
        wanted = {ws.id for ws in shown}
        by_id = {r.workspace.id: r for r in self._rows}
        free = [r for r in self._rows if r.workspace.id not in wanted and not r.busy]
        rows: list[WorkspaceRow] = []
        for ws in shown:
            row = by_id.get(ws.id)
            if row is None and free:
                row = free.pop(0)
            if row is None:
                row = WorkspaceRow(ws, now, style=self._style, callbacks=self._callbacks,
                                   with_start=bool(self._offers_start))
            row.show(ws, now)
            rows.append(row)
        for row in self._rows:
            if row not in rows:
                row.leave_question()
        self._rows = rows + [r for r in self._rows if r not in rows]
        self._shown = rows
        self.empty.value = EMPTY
        self.rows_box.children = tuple(r.box for r in rows) or (self.empty,)
        self.page_label.value = f"page {self._page + 1} of {pages}"
        set_traits(self.prev_button, disabled=self._page == 0)
        set_traits(self.next_button, disabled=self._page >= pages - 1)
        if summary:
            self._render_summary()

    def _render_summary(self) -> None:
        status = self.status_filter.value
        shown = len(self._visible_indices()) if status else 0
        auto = self.refresh_delay if self.auto_toggle.value and self._started else None
        self.header.show_summary(summary_html(self.total, status, shown, self._refreshed_at,
                                              self._paused, auto))

    # -- auto-refresh ----------------------------------------------------------------------

    def _start_auto(self) -> None:
        with self._lock:
            if self._closed or self.auto_refreshing:
                return
            self._backoff.reset()
            client = self.client.clone()  # the loop's own (a Session is never shared)
            poller = Poller(lambda: self._auto_first(client, poller),
                            name="exalsius-panel-refresh", on_crash=self._auto_crashed,
                            on_end=client.close)
            self._auto = poller.start()
            self._render_summary()

    def _stop_auto(self) -> None:
        if self._auto is not None:
            self._auto.stop()

    def _auto_first(self, client: ExalsiusClient, poller: Poller) -> float | None:
        """The loop starts with a pause: the panel has just been listed."""
        poller.step = lambda: self._auto_tick(client, poller)
        return self._backoff.delay()

    def _auto_tick(self, client: ExalsiusClient, poller: Poller) -> float | None:
        """One auto-refresh: list, redraw, and the pause to the next (None: refreshing stops).

        The one policy of waits: an error waiting may cure (an outage, a timeout) backs off and
        goes on; any other pauses auto-refresh until a refresh succeeds.
        """
        changed = self._refresh(client, "auto")
        with self._lock:
            if poller.stopped or self._closed:
                return None
            if changed is None and not (self._list_error and transient(self._list_error)):
                self._paused = True
                self._render_summary()
                return None
            if changed:
                self._backoff.reset()
            else:
                self._backoff.quiet()
            self._render_summary()
        return self._backoff.delay()

    def _auto_crashed(self, exc: BaseException) -> None:
        """A bug in a refresh: show it, stop refreshing."""
        self.errors.show_exception(exc, "Auto-refresh stopped")
        with self._lock:
            self._paused = True
            if not self._closed:
                self._render_summary()

    def _poke(self) -> None:
        """Refresh soon: reset the backoff and wake the auto-refresh thread."""
        self._backoff.reset()
        if self._auto is not None:
            self._auto.wake()

    def _shutdown(self) -> None:
        """Stop background work without touching widgets (kernel shutdown)."""
        if self._auto is not None:
            self._auto.stop(join=None)

    # -- callbacks -------------------------------------------------------------------------

    def _on_refresh_click(self) -> None:
        self.errors.clear()
        self._backoff.reset()
        self._jobs.run(self._refresh_in_background, "Could not list workspaces")

    def _turn(self, step: int) -> None:
        self.go_to_page(self._page + step)

    def _on_auto_toggle(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self._paused = False
            if self._started:
                self._start_auto()
        else:
            self._stop_auto()
        with self._lock:
            self._render_summary()

    def _on_cluster_filter(self, change: dict[str, Any]) -> None:
        if self._quiet:
            return
        self._page = 0
        self._jobs.run(self._refresh_in_background, "Could not list workspaces")

    def _on_status_filter(self, change: dict[str, Any]) -> None:
        with self._lock:
            self._page = 0
            self._render_page()

    # -- actions ---------------------------------------------------------------------------

    def _act(self, row: WorkspaceRow, action: str) -> None:
        """A row asked for ``action`` (it is already busy): send it off the kernel thread."""
        ws = row.workspace
        self.errors.clear()
        with self._lock:
            self._inflight += 1
            self._gen += 1
        self._jobs.run(lambda: self._perform(row, ws, action))

    def _perform(self, row: WorkspaceRow, ws: Workspace, action: str) -> None:
        """Send one action and show the server's answer in the row (a background job)."""
        result: Workspace | None = ws
        ok = False
        try:
            with own_client(self.client) as client:
                try:
                    result = self._send(client, action, ws.id)
                    ok = True
                except NotFoundError as exc:  # the server no longer has it: that is its answer
                    self.errors.show_exception(exc, f"Could not {action} {ws.name}")
                    result = None
                except ExalsiusError as exc:
                    self.errors.show_exception(exc, f"Could not {action} {ws.name}")
                    result = _describe_quietly(client, ws.id) or ws
        except Exception as exc:  # a bug: shown with its traceback, the row usable again
            self.errors.show_exception(exc, f"Could not {action} {ws.name}")
        finally:
            with self._lock:
                self._inflight -= 1
                self._gen += 1
                self._overrides[ws.id] = result
                self._held.add(ws.id)
                if ok and action == "delete":
                    self._deleted.add(ws.id)
                row.finish(action, result, ok)
                self._render_page()
            self._backoff.reset()  # the next auto-refresh comes an interval from now

    def _send(self, client: ExalsiusClient, action: str, workspace_id: str) -> Workspace | None:
        """Call the client (the same calls the magics make); the workspace after, None if gone."""
        if action == "stop":
            client.stop_workspace(workspace_id)
        elif action == "delete":
            client.delete_workspace(workspace_id)
            return None  # the server confirmed it: the row goes now, not when it is forgotten
        elif action == "start":
            client.start_workspace(workspace_id)
        else:
            raise ValueError(f"unknown action {action!r}")
        try:
            return client.describe_workspace(workspace_id)
        except NotFoundError:
            return None

    def _on_created(self, workspace_id: str) -> None:
        progress = CreationProgress([workspace_id], self.client, on_done=lambda _p: self._poke())
        with self._lock:
            self._progress.append(progress)
            old = self._progress[:-MAX_PROGRESS_ENTRIES]
            self._progress = self._progress[-MAX_PROGRESS_ENTRIES:]
            self.progress_box.children = tuple(p.widget for p in self._progress)
        for p in old:
            p.close()
        progress.start()
        self._jobs.run(self._refresh_in_background, "Could not list workspaces")


def _describe_quietly(client: ExalsiusClient, workspace_id: str) -> Workspace | None:
    try:
        return client.describe_workspace(workspace_id)
    except ExalsiusError:
        return None


__all__ = ["WorkspacePanel"]


def _text_of(raw: Any, key: str) -> str | None:
    """A workspace object's string field (ids may be anything in a broken answer), or None."""
    value = raw.get(key) if isinstance(raw, dict) else None
    return value if isinstance(value, str) else None
